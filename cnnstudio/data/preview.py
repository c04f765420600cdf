"""Preview images for the GUI: the mean image and normalised/whitened samples, as uint8 arrays."""

from __future__ import annotations

import numpy as np

from cnnstudio.data.statistics import Statistics, normalize


def to_display(values: np.ndarray) -> np.ndarray:
    """Stretch any float image to uint8 0..255 for display (contrast-normalised per image)."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.full(values.shape, 128, dtype=np.uint8)
    return np.clip((values - low) / (high - low) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def mean_image(stats: Statistics) -> np.ndarray:
    """The training split's mean image, (H, W, C) uint8."""
    return np.clip(stats.mean_image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def normalized_sample(image: np.ndarray, stats: Statistics | None, normalization: str) -> np.ndarray:
    """One uint8 (H, W, C) image as the network sees it after `normalization`, scaled for display."""
    return to_display(normalize(image[None], stats, normalization)[0])


def whitened_sample(image: np.ndarray, stats: Statistics, mode: str = "zca") -> np.ndarray:
    """One image after PCA or ZCA whitening (ZCA keeps it looking like an edge map), for display."""
    return to_display(normalize(image[None], stats, mode)[0])
