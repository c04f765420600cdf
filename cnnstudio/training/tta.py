"""Test-time augmentation: average the class probabilities of a few views of each image.

Views: the image itself, its mirror ("flip"), and four shifts by 1/16 of the side with the
edge mirrored in ("shifts"). One function computes it (`tta_probabilities`); evaluation
calls it, and `with_tta` wraps it into a Keras model so an export bakes in the same math.
"""

from __future__ import annotations

from typing import Any

MODES = ("none", "flip", "shifts", "flip_shifts")


def view_count(mode: str) -> int:
    return {"none": 1, "flip": 2, "shifts": 5, "flip_shifts": 6}[mode]


def _shift(images, dy: int, dx: int):
    import tensorflow as tf

    pad = max(abs(dy), abs(dx))
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    return padded[:, pad - dy:pad - dy + height, pad - dx:pad - dx + width, :]


def views(images, mode: str) -> list[Any]:
    import tensorflow as tf

    out = [images]
    if mode in ("flip", "flip_shifts"):
        out.append(tf.reverse(images, axis=[2]))
    if mode in ("shifts", "flip_shifts"):
        side = min(int(images.shape[1] or 16), int(images.shape[2] or 16))
        step = max(1, side // 16)
        out += [_shift(images, dy, dx) for dy, dx in ((step, 0), (-step, 0), (0, step), (0, -step))]
    return out


def tta_probabilities(predict, images, mode: str, from_logits: bool):
    """Mean class probabilities of `predict` (images -> scores) over the views of `images`."""
    import tensorflow as tf

    batch = views(images, mode)
    outputs = tf.cast(predict(tf.concat(batch, axis=0)), tf.float32)  # one call: views share the batch
    if from_logits:
        outputs = tf.nn.softmax(outputs, axis=-1)
    return tf.reduce_mean(tf.stack(tf.split(outputs, len(batch), axis=0)), axis=0)


def with_tta(serving: Any, mode: str) -> Any:
    """A Keras model: `serving` (uint8 images -> probabilities) averaged over the TTA views."""
    import keras

    if mode == "none":
        return serving

    class TestTimeAugmentation(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, images):
            return tta_probabilities(lambda x: self.inner(x, training=False), images, mode, False)

        def compute_output_shape(self, input_shape):
            return self.inner.compute_output_shape(input_shape)

    source = serving.inputs[0]
    inputs = keras.Input(shape=tuple(source.shape[1:]), dtype=source.dtype, name="image")
    outputs = TestTimeAugmentation(serving, name=f"tta_{mode}", dtype="float32")(inputs)
    return keras.Model(inputs, outputs, name=f"{serving.name}_tta")
