"""Data augmentation as one Keras layer, active only in training (identity at inference).

Order, applied per image with independent random values:
  1. random crop (a window of (1 − random_crop) of the size, resized back)
  2. zoom (random resize by ± zoom)        3. rotation (± degrees)
  4. translation (± fraction of the size)  5. horizontal / vertical flip
  6. brightness  7. contrast  8. saturation  9. hue   (colour jitter; 8-9 need RGB)
then values are clipped to [0, 255], and each image keeps its augmented version with
`probability` (else the original). Inputs and outputs are float32 pixel values in [0, 255]
(uint8 inputs are cast), so the layer sits between the uint8 input and the normalisation.
`preview` runs this very layer, so the GUI grid shows exactly what training sees.

XLA cannot compile the geometric warps (ImageProjectiveTransformV3, also used by Keras' own
random layers): with an XLA-compiled train step, apply the layer in the input pipeline with
`augment_dataset` instead of inside the model.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from cnnstudio.modeling.custom_layers import PACKAGE
from cnnstudio.project import schema

ORDER = ("random_crop", "zoom", "rotation", "translation", "flip", "brightness", "contrast", "saturation", "hue")


@keras.saving.register_keras_serializable(package=PACKAGE)
class ImageAugmentation(keras.layers.Layer):
    """All augmentations of the project's augmentation section, in the documented order."""

    def __init__(self, settings: dict[str, Any] | None = None, seed: int = 0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        known = schema.defaults("augmentation")
        unknown = sorted(set(settings or {}) - set(known))
        if unknown:
            raise ValueError(f"unknown augmentation setting {unknown[0]!r}; known: {', '.join(known)}")
        self.settings = {**known, **(settings or {})}
        self.seed = int(seed)
        s = self.settings
        self.generator = keras.random.SeedGenerator(self.seed)
        self._geometric: list[keras.layers.Layer] = []
        if s["zoom"] > 0:
            self._geometric.append(keras.layers.RandomZoom((-s["zoom"], s["zoom"]), seed=self.seed + 1))
        if s["rotation"] > 0:
            self._geometric.append(keras.layers.RandomRotation(s["rotation"] / 360.0, seed=self.seed + 2))
        if s["translation"] > 0:
            self._geometric.append(
                keras.layers.RandomTranslation(s["translation"], s["translation"], seed=self.seed + 3))
        flip = {(True, True): "horizontal_and_vertical", (True, False): "horizontal",
                (False, True): "vertical"}.get((bool(s["flip_horizontal"]), bool(s["flip_vertical"])))
        if flip:
            self._geometric.append(keras.layers.RandomFlip(flip, seed=self.seed + 4))

    def build(self, input_shape):
        for layer in self._geometric:
            layer.build(input_shape)
        self.built = True

    @property
    def active(self) -> bool:
        s = self.settings
        return s["probability"] > 0 and bool(
            self._geometric or s["random_crop"] > 0 or any(s[k] > 0 for k in ORDER[5:]))

    def _uniform(self, batch, low: float, high: float):
        return keras.random.uniform((batch, 1, 1, 1), low, high, seed=self.generator)

    def call(self, inputs, training=None):
        x = ops.cast(inputs, "float32")
        if not training or not self.active:
            return x
        s = self.settings
        original = x
        batch = ops.shape(x)[0]
        if s["random_crop"] > 0:
            # Output pixel (u, v) samples input (size·u + left, size·v + top): a random window of
            # (1 − random_crop) of the image, resized back. An affine warp, so XLA compiles it.
            size = 1.0 - s["random_crop"]
            height, width = ops.cast(ops.shape(x)[1], "float32"), ops.cast(ops.shape(x)[2], "float32")
            corner = keras.random.uniform((batch, 2), 0.0, 1.0 - size, seed=self.generator)
            zeros, ones = ops.zeros((batch,)), ops.ones((batch,))
            transform = ops.stack([size * ones, zeros, corner[:, 1] * width, zeros, size * ones,
                                   corner[:, 0] * height, zeros, zeros], axis=1)
            x = ops.image.affine_transform(x, transform, interpolation="bilinear", fill_mode="nearest")
        for layer in self._geometric:
            x = layer(x, training=True)
        if s["brightness"] > 0:
            x = x + 255.0 * self._uniform(batch, -s["brightness"], s["brightness"])
        if s["contrast"] > 0:
            mean = ops.mean(x, axis=(1, 2), keepdims=True)
            x = (x - mean) * self._uniform(batch, 1.0 - s["contrast"], 1.0 + s["contrast"]) + mean
        if (s["saturation"] > 0 or s["hue"] > 0) and x.shape[-1] == 3:
            hsv = tf.image.rgb_to_hsv(ops.clip(x, 0.0, 255.0) / 255.0)
            hue, saturation, value = hsv[..., 0:1], hsv[..., 1:2], hsv[..., 2:3]
            if s["hue"] > 0:
                hue = tf.math.floormod(hue + self._uniform(batch, -s["hue"], s["hue"]), 1.0)
            if s["saturation"] > 0:
                factor = self._uniform(batch, 1.0 - s["saturation"], 1.0 + s["saturation"])
                saturation = ops.clip(saturation * factor, 0.0, 1.0)
            x = tf.image.hsv_to_rgb(ops.concatenate([hue, saturation, value], axis=-1)) * 255.0
        x = ops.clip(x, 0.0, 255.0)
        if s["probability"] < 1.0:
            keep = self._uniform(batch, 0.0, 1.0) < s["probability"]
            x = ops.where(keep, x, original)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "settings": dict(self.settings), "seed": self.seed}


def augmentation_layers(settings: dict[str, Any], seed: int = 0) -> list[keras.layers.Layer]:
    """The training-only augmentation layers for the project's augmentation section ([] if all off)."""
    layer = ImageAugmentation(settings, seed, name="augmentation")
    return [layer] if layer.active else []


def augment_dataset(dataset, settings: dict[str, Any], seed: int = 0):
    """The same augmentation applied in tf.data (batches become float32 0..255), for XLA train steps."""
    layers = augmentation_layers(settings, seed)
    if not layers:
        return dataset
    layer = layers[0]
    return dataset.map(lambda images, labels: (layer(images, training=True), labels),
                       num_parallel_calls=tf.data.AUTOTUNE)


def preview(images: np.ndarray, settings: dict[str, Any], seed: int = 0, variants: int = 4) -> np.ndarray:
    """Augmented variants of uint8 images (N, H, W, C) -> uint8 (N, variants, H, W, C), via the training layer."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    batch = np.repeat(images, variants, axis=0)
    x = ops.convert_to_tensor(batch)
    for layer in augmentation_layers(settings, seed):
        x = layer(x, training=True)
    out = np.clip(np.round(ops.convert_to_numpy(ops.cast(x, "float32"))), 0, 255).astype(np.uint8)
    return out.reshape(len(images), variants, *images.shape[1:])
