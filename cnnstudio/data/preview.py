"""Preview images for the GUI: the mean image and normalised/whitened samples, as uint8 arrays.

The samples go through `statistics.normalize`, the numpy reference of the preprocessing layer
the model trains with, and the same Statistics object: what the preview shows is what the
network receives (only stretched to 0..255 for display).
"""

from __future__ import annotations

import numpy as np

from cnnstudio.data.statistics import WHITENING, Statistics, normalize


def to_display(values: np.ndarray, clip_percent: float = 0.0) -> np.ndarray:
    """Stretch any float image to uint8 0..255 for display (contrast-normalised per image).

    clip_percent > 0 stretches between that low and high percentile instead of min and max,
    so that a few extreme values (whitened outputs have them) do not flatten the rest to grey.
    """
    if clip_percent > 0:
        low, high = (float(v) for v in np.percentile(values, [clip_percent, 100 - clip_percent]))
    else:
        low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.full(values.shape, 128, dtype=np.uint8)
    return np.clip((values - low) / (high - low) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def mean_image(stats: Statistics) -> np.ndarray:
    """The training split's mean image, (H, W, C) uint8."""
    return np.clip(stats.mean_image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def normalized_sample(image: np.ndarray, stats: Statistics | None, normalization: str) -> np.ndarray:
    """One uint8 (H, W, C) image as the network sees it after `normalization`, scaled for display."""
    if normalization in WHITENING and stats is not None:
        return whitened_sample(image, stats, normalization)
    return to_display(normalize(image[None], stats, normalization)[0])


def whitened_sample(image: np.ndarray, stats: Statistics, mode: str = "zca") -> np.ndarray:
    """One image after PCA or ZCA whitening, for display. ZCA keeps the pixel layout (an edge
    map); PCA gives component scores, shown row by row in order of decreasing variance."""
    return to_display(normalize(image[None], stats, mode)[0], clip_percent=1.0)
