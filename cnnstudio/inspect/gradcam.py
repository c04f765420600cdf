"""Grad-CAM: where in the image a convolutional model looked for a class.

heat = ReLU(Σ_k α_k A_k), α_k = mean over positions of ∂score/∂A_k, where A is the output of
the architecture's last layer with a spatial output (or a chosen one): the feature map just
before pooling/flattening. Scores are logits where the softmax can be undone (see
`Probe.scores_and_logits`). Works on a run's model (preprocessing + architecture nested
inside) as well as on a bare architecture.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.errors import ExportError


def spatial_layer_names(probe: Any) -> list[str]:
    """The architecture's layers with an H×W×C output, in order."""
    names = []
    for layer in probe.layers:
        try:
            shape = probe.output_of(layer).shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4:
            names.append(layer.name)
    return names


def pick_layer(probe: Any, layer_name: str | None = None) -> str:
    names = spatial_layer_names(probe)
    if not names:
        raise ExportError("Grad-CAM needs a layer with a spatial (H×W×C) output; this model has none.")
    if layer_name is None:
        return names[-1]
    if layer_name not in names:
        raise ExportError(f"Grad-CAM: no spatial layer named {layer_name!r}; choose one of {', '.join(names)}.")
    return layer_name


def grad_cam_map(probe: Any, image: np.ndarray, class_index: int | None = None,
                 layer_name: str | None = None) -> tuple[np.ndarray, int]:
    """Heat map float32 [H,W] in [0,1] at the image's size, and the class it explains."""
    import tensorflow as tf

    name = pick_layer(probe, layer_name)
    run = probe.features_and_logits(name)
    x = probe.prepare(np.asarray(image)[None])
    with tf.GradientTape() as tape:
        features, scores = run(x)  # features is the very tensor the scores were computed from
        tape.watch(features)
        scores = tf.cast(scores, tf.float32)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        if not 0 <= class_index < int(scores.shape[-1]):
            raise ExportError(f"Grad-CAM: class index {class_index} is out of range 0..{int(scores.shape[-1]) - 1}.")
        score = scores[0, class_index]
    gradients = tape.gradient(score, features)
    if gradients is None:
        raise ExportError(f"Grad-CAM: the output does not depend on layer {name!r}.")
    weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(1, 2))  # α_k
    heat = tf.nn.relu(tf.reduce_sum(tf.cast(features, tf.float32) * weights[:, None, None, :], axis=-1))[0]
    height, width = int(image.shape[0]), int(image.shape[1])
    heat = tf.image.resize(heat[..., None], (height, width), method="bilinear")[..., 0].numpy()
    top = float(heat.max())
    heat = heat / top if top > 0 else np.zeros_like(heat)
    return np.clip(heat, 0.0, 1.0).astype(np.float32), class_index


def grad_cam(model: Any, image: np.ndarray, class_index: int | None = None,
             layer_name: str | None = None) -> tuple[np.ndarray, int]:
    """Grad-CAM of a Keras model (a run's full model or a bare architecture) for one uint8 image."""
    from cnnstudio.inspect.probe import probe_from_model

    return grad_cam_map(probe_from_model(model), image, class_index, layer_name)


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
