"""Grad-CAM: where in the image a convolutional model looked for a class.

heat = ReLU(Σ_k α_k A_k), α_k = mean over positions of ∂score/∂A_k, where A is the output of
the last layer with a spatial output (or a chosen one). Works on a run's model (preprocessing +
architecture nested inside) as well as on a bare architecture.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.export.inference import is_augmentation


def _spatial_layers(model: Any) -> list[tuple[Any, Any]]:
    """(owner model, layer) for every layer with a 4-D output, in order, nested models included.

    The default is the last of them: the feature map just before pooling/flattening (after a
    residual block's add and activation, not the block's inner convolution).
    """
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += _spatial_layers(layer)
        elif type(layer).__name__ != "InputLayer" and not is_augmentation(layer):
            try:
                shape = layer.output.shape
            except (AttributeError, ValueError):
                continue
            if len(shape) == 4:
                found.append((model, layer))
    return found


def pick_layer(model: Any, layer_name: str | None = None) -> tuple[Any, Any]:
    layers = _spatial_layers(model)
    if not layers:
        raise ExportError("Grad-CAM needs a layer with a spatial (H×W×C) output; this model has none.")
    if layer_name is None:
        return layers[-1]
    for owner, layer in layers:
        if layer.name == layer_name:
            return owner, layer
    names = ", ".join(layer.name for _, layer in layers)
    raise ExportError(f"Grad-CAM: no spatial layer named {layer_name!r}; choose one of {names}.")


def _softmax_dense(owner: Any) -> Any:
    """The owner's final Dense layer when it applies softmax itself (else None)."""
    last = owner.layers[-1] if owner.layers else None
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    return last if type(last).__name__ == "Dense" and activation == "softmax" else None


def _features_and_output(model: Any, owner: Any, layer: Any):
    """A function x -> (A, class scores) running `model` with `layer`'s output exposed.

    Scores are pre-softmax logits where the classifier's softmax can be undone (a Dense with
    activation="softmax"): a confident softmax has near-zero gradients, logits do not.
    """
    import keras

    dense = _softmax_dense(owner)
    probe = keras.Model(owner.inputs, [layer.output, dense.input if dense is not None else owner.outputs[0]])

    def scores_of(value):
        if dense is None:
            return value
        logits = keras.ops.matmul(value, dense.kernel)
        return logits + dense.bias if dense.use_bias else logits

    if owner is model:
        def direct(x):
            features, value = probe(x, training=False)
            return features, scores_of(value)

        return direct

    def run(x):
        value, features = x, None
        for item in model.layers:
            if type(item).__name__ == "InputLayer" or is_augmentation(item):
                continue
            if item is owner:
                features, value = probe(value, training=False)
                if dense is not None:  # the logits: what follows is only a dtype cast or softmax
                    return features, scores_of(value)
            else:
                value = item(value, training=False)
        if features is None:
            raise ExportError("Grad-CAM: the layer is inside a branch this model does not run in sequence.")
        return features, value

    return run


def grad_cam(model: Any, image: np.ndarray, class_index: int | None = None,
             layer_name: str | None = None) -> tuple[np.ndarray, int]:
    """Heat map float32 [H,W] in [0,1] at the image's size, and the class it explains.

    `image` is one uint8 image [H,W,C] at the model's input size; `class_index` defaults to
    the predicted class.
    """
    import tensorflow as tf

    owner, layer = pick_layer(model, layer_name)
    run = _features_and_output(model, owner, layer)
    batch = tf.convert_to_tensor(np.asarray(image)[None])
    with tf.GradientTape() as tape:
        features, scores = run(tf.cast(batch, model.inputs[0].dtype))
        tape.watch(features)
        scores = tf.cast(scores, tf.float32)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        if not 0 <= class_index < int(scores.shape[-1]):
            raise ExportError(f"Grad-CAM: class index {class_index} is out of range 0..{int(scores.shape[-1]) - 1}.")
        score = scores[0, class_index]
    gradients = tape.gradient(score, features)
    if gradients is None:
        raise ExportError(f"Grad-CAM: the output does not depend on layer {layer.name!r}.")
    weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(1, 2))  # α_k
    heat = tf.nn.relu(tf.reduce_sum(tf.cast(features, tf.float32) * weights[:, None, None, :], axis=-1))[0]
    height, width = int(image.shape[0]), int(image.shape[1])
    heat = tf.image.resize(heat[..., None], (height, width), method="bilinear")[..., 0].numpy()
    top = float(heat.max())
    heat = heat / top if top > 0 else np.zeros_like(heat)
    return np.clip(heat, 0.0, 1.0).astype(np.float32), class_index


def colormap(heat: np.ndarray) -> np.ndarray:
    """[H,W] in [0,1] -> uint8 [H,W,3], blue (cold) through green and yellow to red (hot)."""
    x = np.clip(heat, 0.0, 1.0)[..., None]
    red = np.clip(1.5 - np.abs(4 * x - 3), 0, 1)
    green = np.clip(1.5 - np.abs(4 * x - 2), 0, 1)
    blue = np.clip(1.5 - np.abs(4 * x - 1), 0, 1)
    return (np.concatenate([red, green, blue], axis=-1) * 255).round().astype(np.uint8)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The image with the heat map blended over it: uint8 [H,W,3]."""
    base = np.asarray(image, dtype=np.float32)
    if base.ndim == 2:
        base = base[..., None]
    if base.shape[-1] == 1:
        base = np.repeat(base, 3, axis=-1)
    base = base[..., :3]
    blended = (1 - alpha) * base + alpha * colormap(heat).astype(np.float32)
    return np.clip(blended.round(), 0, 255).astype(np.uint8)


def explain(model: Any, image: np.ndarray, class_index: int | None = None,
            layer_name: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(heat map [H,W] in [0,1], overlay uint8 [H,W,3], class index) for the GUI's inference panel."""
    heat, index = grad_cam(model, image, class_index, layer_name)
    return heat, overlay(image, heat), index
