"""Tiny image folders made with Pillow for the data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def save_image(path: Path, size=(12, 10), mode="RGB", seed=0, fmt=None, **kwargs) -> Path:
    """A random image of `size` (w, h) and `mode`, saved at `path`."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    channels = {"RGB": 3, "RGBA": 4, "L": 1, "CMYK": 4}.get(mode, 3)
    array = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    image = Image.fromarray(array[..., 0] if channels == 1 else array, {"CMYK": "RGBA"}.get(mode, mode))
    if mode == "CMYK":
        image = Image.frombytes("CMYK", image.size, image.tobytes())
    image.save(path, format=fmt, **kwargs)
    return path


def make_class_folder(root: Path, classes: dict[str, int], size=(12, 10), ext=".png", start_seed=0) -> Path:
    """root/<class>/<i>.png with distinct random content per file."""
    seed = start_seed
    for name, count in classes.items():
        for i in range(count):
            seed += 1
            save_image(root / name / f"{name}_{i:03d}{ext}", size=size, seed=seed)
    return root


def epoch_arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    """One pass over a batched (images, labels) dataset, concatenated into two arrays."""
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)
