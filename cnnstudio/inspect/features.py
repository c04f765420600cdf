"""Feature maps, per-channel statistics and convolution filters of any layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.inspect.probe import CONVOLUTIONS, Probe
from cnnstudio.inspect.results import Filters, LayerMaps


def feature_maps(probe: Probe, images: np.ndarray, names: list[str] | None = None,
                 shown: int = 0) -> list[LayerMaps]:
    """The named layers' outputs (all convolutions when none are named) in one forward pass.

    `images` is uint8 [N,H,W,C]: the statistics (channel means, dead units) are over all N
    images; the maps kept are those of image `shown`.
    """
    names = list(names) if names else probe.conv_layer_names()
    if not names:
        raise ExportError(f"{probe.path}: the model has no convolution layers; name layers with --layer "
                          f"({', '.join(probe.layer_names())}).")
    for name in names:
        probe.layer(name)  # a clear error for a bad name before any work
    unique = tuple(dict.fromkeys(names))
    outputs, _scores = probe.run(images, unique)
    by_name = dict(zip(unique, outputs, strict=True))
    return [_layer_maps(name, probe.output_shape(name), np.asarray(by_name[name], dtype=np.float32), shown)
            for name in names]


def _layer_maps(name: str, shape: tuple[int, ...], values: np.ndarray, shown: int) -> LayerMaps:
    batch = values.shape[0]
    channels = values.shape[-1] if values.ndim > 1 else 1
    flat = values.reshape(batch, -1, channels)
    means = flat.mean(axis=(0, 1)).astype(np.float32)
    dead = ~(flat > 0).any(axis=(0, 1))
    return LayerMaps(name, tuple(shape), values[shown], means, dead, batch)


def filters(probe: Probe, name: str) -> Filters:
    """A convolution's kernels as [kh, kw, in, out] (depthwise kernels as [kh, kw, in, multiplier])."""
    layer = probe.layer(name)
    if type(layer).__name__ not in CONVOLUTIONS:
        raise ExportError(f"{name!r} is a {type(layer).__name__} layer; filters exist for convolutions only "
                          f"({', '.join(probe.conv_layer_names()) or 'none in this model'}).")
    kernel = _kernel(layer)
    return Filters(name, np.asarray(kernel, dtype=np.float32))


def _kernel(layer: Any) -> Any:
    for attribute in ("kernel", "depthwise_kernel"):
        value = getattr(layer, attribute, None)
        if value is not None:
            import keras

            return keras.ops.convert_to_numpy(value)
    return layer.get_weights()[0]
