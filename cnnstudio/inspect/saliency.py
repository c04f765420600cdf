"""Saliency maps: Grad-CAM, occlusion sensitivity, SmoothGrad and Integrated Gradients.

Every method answers: which pixels of this image matter for this class? Each returns a heat
map [H,W] in [0,1] at the image's size. Gradient methods use logits where the softmax can
be undone (see `Probe.scores_and_logits`); occlusion uses probabilities and needs only
forward passes, so it also works on an exported SavedModel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.inspect.probe import Probe
from cnnstudio.inspect.results import Saliency

METHODS = ("gradcam", "occlusion", "smoothgrad", "ig")


def saliency(probe: Probe, image: np.ndarray, method: str, class_index: int | None = None,
             **options: Any) -> Saliency:
    """Explain class `class_index` (default: the predicted one) for one uint8 image [H,W,C]."""
    if method not in METHODS:
        raise ExportError(f"--method must be one of {', '.join(METHODS)}. Received: {method!r}")
    image = np.asarray(image)
    if class_index is None:
        class_index = int(np.argmax(probe.probabilities(image[None])[0]))
    if not 0 <= class_index < len(probe.class_names):
        raise ExportError(f"class index {class_index} is out of range 0..{len(probe.class_names) - 1}.")
    if method == "gradcam":
        from cnnstudio.inspect.gradcam import grad_cam_map

        heat, _ = grad_cam_map(probe, image, class_index, options.get("layer"))
    elif method == "occlusion":
        heat = occlusion(probe, image, class_index, **options)
    elif method == "smoothgrad":
        heat = smooth_grad(probe, image, class_index, **options)
    else:
        heat = integrated_gradients(probe, image, class_index, **options)
    return Saliency(method, heat, class_index, probe.class_names[class_index], image)


def _normalized(heat: np.ndarray) -> np.ndarray:
    heat = np.maximum(np.asarray(heat, dtype=np.float32), 0.0)
    top = float(heat.max())
    return (heat / top if top > 0 else np.zeros_like(heat)).astype(np.float32)


def occlusion(probe: Probe, image: np.ndarray, class_index: int, patch: int | None = None,
              stride: int | None = None, batch_size: int = 64, **_: Any) -> np.ndarray:
    """Zeiler & Fergus 2014: the drop in the class probability when a grey patch hides each region."""
    height, width = image.shape[:2]
    patch = patch or max(2, min(height, width) // 6)
    stride = stride or max(1, patch // 2)
    fill = np.asarray(image, dtype=np.float32).mean(axis=(0, 1)).round().astype(image.dtype)
    tops = list(range(0, max(height - patch, 0) + 1, stride))
    lefts = list(range(0, max(width - patch, 0) + 1, stride))
    if tops[-1] + patch < height:
        tops.append(height - patch)
    if lefts[-1] + patch < width:
        lefts.append(width - patch)
    boxes = [(t, left) for t in tops for left in lefts]
    base = float(probe.probabilities(image[None])[0, class_index])
    drops = np.zeros((height, width), np.float64)
    counts = np.zeros((height, width), np.float64)
    for start in range(0, len(boxes), batch_size):
        chunk = boxes[start:start + batch_size]
        batch = np.repeat(image[None], len(chunk), axis=0)
        for i, (t, left) in enumerate(chunk):
            batch[i, t:t + patch, left:left + patch] = fill
        scores = probe.probabilities(batch)[:, class_index]
        for (t, left), score in zip(chunk, scores, strict=True):
            drops[t:t + patch, left:left + patch] += base - float(score)
            counts[t:t + patch, left:left + patch] += 1
    return _normalized(drops / np.maximum(counts, 1))


def _gradients(probe: Probe, inputs: np.ndarray, class_index: int, batch_size: int = 32) -> np.ndarray:
    """∂ logit[class] / ∂ pixels for a batch of float images [N,H,W,C] (pixel units 0..255)."""
    import tensorflow as tf

    if probe.network is None:
        raise ExportError(f"{probe.path}: gradient methods need the model's layers; a SavedModel has none "
                          "here. Use occlusion, or the run directory / .keras file.")
    scores_of, _logits = probe.scores_and_logits()
    out = []
    for start in range(0, len(inputs), batch_size):
        pixels = tf.convert_to_tensor(inputs[start:start + batch_size], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(pixels)
            scores = tf.cast(scores_of(probe.prepare(pixels)), tf.float32)
            total = tf.reduce_sum(scores[:, class_index])
        gradient = tape.gradient(total, pixels)
        if gradient is None:
            raise ExportError(f"{probe.path}: the class scores do not depend on the image pixels "
                              "(the model's input is not differentiable).")
        out.append(gradient.numpy())
    return np.concatenate(out)


def smooth_grad(probe: Probe, image: np.ndarray, class_index: int, samples: int = 24, noise: float = 0.15,
                seed: int = 0, **_: Any) -> np.ndarray:
    """Smilkov et al. 2017: |gradient| averaged over noisy copies (σ = noise × pixel range)."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32)
    sigma = noise * max(float(pixels.max() - pixels.min()), 1.0)
    noisy = pixels[None] + rng.normal(0.0, sigma, (samples, *pixels.shape)).astype(np.float32)
    gradients = _gradients(probe, noisy, class_index)
    return _normalized(np.abs(gradients).mean(axis=0).max(axis=-1))


def integrated_gradients(probe: Probe, image: np.ndarray, class_index: int, steps: int = 32,
                         baseline: float = 0.0, **_: Any) -> np.ndarray:
    """Sundararajan et al. 2017: (x − x₀) · ∫ ∂f/∂x along the straight path from a black image.

    Only evidence *for* the class is shown (positive attributions summed over channels).
    """
    pixels = np.asarray(image, dtype=np.float32)
    start = np.full_like(pixels, baseline)
    alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps  # midpoint Riemann sum
    path = start[None] + alphas[:, None, None, None] * (pixels - start)[None]
    average = _gradients(probe, path, class_index).mean(axis=0)
    return _normalized(((pixels - start) * average).sum(axis=-1))
