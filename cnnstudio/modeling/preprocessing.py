"""Input normalisation baked into the model, so an exported model takes raw uint8 images.

`preprocessing_layers(statistics, settings)` returns the layers mapping uint8 (or float
0..255, e.g. after augmentation) [B, H, W, C] to what the architecture expects. The
statistics live in the layer's (non-trainable) weights, so .keras files carry them and load
with safe_mode. The numpy reference is cnnstudio.data.statistics.normalize.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from cnnstudio.data.statistics import WHITENING, Statistics, check_whitening_size
from cnnstudio.errors import DatasetError
from cnnstudio.modeling.custom_layers import PACKAGE

NORMALIZATIONS = ("none", "rescale", "per_channel", "mean_image", "pca", "zca")


@keras.saving.register_keras_serializable(package=PACKAGE)
class InputNormalization(keras.layers.Layer):
    """x/255, then: per_channel (x−μ_c)/σ_c; mean_image x−mean; pca/zca ((x−mean)·W) reshaped back.

    Always computes in float32 (whitening in float16 would lose the small components).
    """

    def __init__(self, mode: str = "rescale", image_shape=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if mode not in NORMALIZATIONS:
            raise ValueError(f"mode must be one of {NORMALIZATIONS}. Received: mode={mode!r}")
        self.mode = mode
        self.image_shape = None if image_shape is None else tuple(int(v) for v in image_shape)
        if mode not in ("none", "rescale") and self.image_shape is None:
            raise ValueError(f"mode {mode!r} needs image_shape=(h, w, c).")

    def build(self, input_shape):
        if self.mode in ("none", "rescale"):
            return
        h, w, c = self.image_shape
        features = h * w * c
        shapes = {
            "per_channel": {"mean": (c,), "scale": (c,)},
            "mean_image": {"mean": (h, w, c)},
            "pca": {"mean": (features,), "matrix": (features, features)},
            "zca": {"mean": (features,), "matrix": (features, features)},
        }[self.mode]
        for name, shape in shapes.items():
            setattr(self, name, self.add_weight(name=name, shape=shape, initializer="zeros", trainable=False))

    def set_statistics(self, statistics: Statistics) -> None:
        if not self.built:
            self.build((None, *self.image_shape))
        h, w, c = self.image_shape
        if tuple(statistics.image_shape) != self.image_shape:
            raise DatasetError(f"the statistics are for {statistics.image_shape} images but the input is "
                               f"{self.image_shape}; recompute them.")
        if self.mode == "per_channel":
            self.mean.assign(statistics.channel_mean.astype("float32"))
            self.scale.assign((1.0 / statistics.channel_std).astype("float32"))
        elif self.mode == "mean_image":
            self.mean.assign(statistics.mean_image.astype("float32"))
        elif self.mode in WHITENING:
            self.mean.assign(statistics.mean_image.reshape(-1).astype("float32"))
            self.matrix.assign(statistics.whitening_matrix(self.mode).astype("float32"))

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.mode == "none":
            return x
        x = x / 255.0
        if self.mode == "rescale":
            return x
        if self.mode == "per_channel":
            return (x - self.mean) * self.scale
        if self.mode == "mean_image":
            return x - self.mean
        flat = ops.reshape(x, (-1, int(np.prod(self.image_shape)))) - self.mean
        return ops.reshape(ops.matmul(flat, self.matrix), (-1, *self.image_shape))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode,
                "image_shape": None if self.image_shape is None else list(self.image_shape)}


def preprocessing_layers(statistics: Statistics | None, settings: dict[str, Any]) -> list[keras.layers.Layer]:
    """The layers mapping raw uint8 images to the architecture's float input, per the project settings."""
    mode = settings.get("normalization", "rescale")
    if mode not in NORMALIZATIONS:
        raise DatasetError(f"preprocessing: unknown normalization {mode!r}; choose one of {', '.join(NORMALIZATIONS)}.")
    if mode in ("none", "rescale"):
        return [InputNormalization(mode, name="input_normalization")]
    if statistics is None:
        raise DatasetError(f"preprocessing: normalization '{mode}' needs statistics of the training images "
                           "(data.statistics()).")
    check_whitening_size(tuple(statistics.image_shape), mode)  # type: ignore[arg-type]
    if mode in WHITENING and statistics.eigenvectors is None:
        raise DatasetError(f"preprocessing: the statistics hold no whitening; compute them with "
                           f"normalization '{mode}'.")
    layer = InputNormalization(mode, statistics.image_shape, name="input_normalization")
    layer.set_statistics(statistics)
    return [layer]
