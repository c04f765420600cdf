"""cnnstudio's own Keras layers, registered so a saved .keras loads with safe_mode on.

Written with keras.ops only, so they run on any backend and export to SavedModel,
TFLite and ONNX like built-in layers.
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "cnnstudio"


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's LRN: b = a / (k + α/n · Σ_{n neighbouring channels} a²)^β."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), float(bias)

    def call(self, inputs):
        squared = ops.square(inputs)
        half = self.size // 2
        padded = ops.pad(squared, [[0, 0], [0, 0], [0, 0], [half, self.size - 1 - half]])
        channels = ops.shape(inputs)[-1]
        window = padded[..., 0:channels]
        for offset in range(1, self.size):
            window = window + padded[..., offset : offset + channels]
        scale = self.bias + (self.alpha / self.size) * window
        return inputs / ops.power(scale, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class L2Pooling2D(keras.layers.Layer):
    """L2-norm pooling: sqrt(Σ x²) over each window (the tutorial's third pooling)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size) if isinstance(pool_size, (list, tuple)) else (pool_size, pool_size)
        strides = self.pool_size if strides is None else strides
        self.strides = tuple(strides) if isinstance(strides, (list, tuple)) else (strides, strides)
        self.padding = padding
        self._pool = keras.layers.AveragePooling2D(self.pool_size, self.strides, padding)

    def call(self, inputs):
        mean_square = self._pool(ops.square(inputs))
        area = float(self.pool_size[0] * self.pool_size[1])
        # The epsilon keeps the gradient finite where a whole window is zero.
        return ops.sqrt(mean_square * area + 1e-12)

    def compute_output_shape(self, input_shape):
        return self._pool.compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChannelScale(keras.layers.Layer):
    """x · γ with one learned γ per channel (ConvNeXt's LayerScale), γ starting at init_values."""

    def __init__(self, init_values: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init_values = float(init_values)

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), name="gamma", trainable=True,
                                     initializer=keras.initializers.Constant(self.init_values))

    def call(self, inputs):
        return inputs * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ScaledAdd(keras.layers.Layer):
    """x + s·y for a constant s (Inception-ResNet's scaled residuals)."""

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


CUSTOM_OBJECTS = {
    "LocalResponseNormalization": LocalResponseNormalization,
    "L2Pooling2D": L2Pooling2D,
    "ChannelScale": ChannelScale,
    "ScaledAdd": ScaledAdd,
}
