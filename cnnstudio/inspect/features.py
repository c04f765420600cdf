"""Feature maps, per-channel statistics and convolution filters of any layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.inspect.probe import CONVOLUTIONS, Probe
from cnnstudio.inspect.results import Filters, LayerMaps


def feature_maps(probe: Probe, images: np.ndarray, names: list[str] | None = None,
                 shown: int = 0, chunk: int = 4) -> list[LayerMaps]:
    """The named layers' outputs (all convolutions when none are named), one forward pass per chunk.

    `images` is uint8 [N,H,W,C]: the statistics (channel means, dead units) are over all N
    images, accumulated chunk by chunk so memory stays bounded; the maps kept are image `shown`'s.
    """
    names = list(names) if names else probe.conv_layer_names()
    if not names:
        raise ExportError(f"{probe.path}: the model has no convolution layers; name layers with --layer "
                          f"({', '.join(probe.layer_names())}).")
    for name in names:
        probe.layer(name)  # a clear error for a bad name before any work
    unique = tuple(dict.fromkeys(names))
    sums: dict[str, np.ndarray] = {}
    alive: dict[str, np.ndarray] = {}
    kept: dict[str, np.ndarray] = {}
    positions = dict.fromkeys(unique, 0)
    for start in range(0, len(images), chunk):
        outputs, _scores = probe.run(images[start:start + chunk], unique)
        for name, value in zip(unique, outputs, strict=True):
            value = np.asarray(value, dtype=np.float32)
            if start <= shown < start + len(value):
                kept[name] = value[shown - start]
            flat = value.reshape(len(value), -1, value.shape[-1] if value.ndim > 1 else 1)
            sums[name] = sums.get(name, 0) + flat.sum(axis=(0, 1), dtype=np.float64)
            alive[name] = alive.get(name, False) | (flat > 0).any(axis=(0, 1))
            positions[name] += flat.shape[0] * flat.shape[1]
    return [LayerMaps(name, probe.output_shape(name), kept[name],
                      (sums[name] / max(positions[name], 1)).astype(np.float32), ~alive[name], len(images))
            for name in names]


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
