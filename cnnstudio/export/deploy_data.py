"""The project's own images for a deployment export: a stratified calibration sample of the
training split (int8 calibration) and the validation split with labels (the export report).

Both come from the split the run trained with (stored in its project), through
cnnstudio.data.prepare_data, so the report measures exactly the run's validation images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import ExportError, StudioError
from cnnstudio.export.tflite_options import DEFAULT_CALIBRATION  # noqa: F401 (one definition, re-exported)

MAX_VALIDATION = 2000  # images the report runs through every flavour (a sample above that, stratified)


@dataclass
class DeployImages:
    """Labelled files of the source's dataset, labels as indices into the model's class names."""

    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    folder: Path
    val_total: int  # validation images in the split (val may hold a stratified sample of them)


def find_deploy_images(source: Any) -> DeployImages | None:
    """The source's train/val files, or None when its project or image folder is unknown."""
    if not source.project or source.dataset_folder is None:
        return None
    from cnnstudio.data import prepare_data
    from cnnstudio.project.file import Project

    try:
        project = Project.from_dict(source.project, where=str(source.path))
        project.dataset["folder"] = str(source.dataset_folder)
        data = prepare_data(project)
    except StudioError:
        return None
    index = {name: i for i, name in enumerate(source.class_names)}
    missing = [name for name in data.class_names if name not in index]
    if missing:
        raise ExportError(f"{source.dataset_folder}: class '{missing[0]}' is not one of the model's classes "
                          f"({', '.join(source.class_names)}); the folder changed since training.")

    def relabel(files: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return [(path, index[data.class_names[label]]) for path, label in files]

    val = relabel(data.files.get("val") or [])
    return DeployImages(relabel(data.files.get("train") or []), stratified_sample(val, MAX_VALIDATION),
                        Path(data.folder), len(val))


def stratified_sample(files: list[tuple[str, int]], count: int, seed: int = 0) -> list[tuple[str, int]]:
    """Up to `count` files drawn at random within each class, each class in proportion to its
    share of `files` (largest remainders), and every class at least once when `count` allows."""
    if count >= len(files):
        return list(files)
    by_class: dict[int, list[int]] = {}
    for index, (_path, label) in enumerate(files):
        by_class.setdefault(label, []).append(index)
    quotas = allocate({label: len(indices) for label, indices in by_class.items()}, count)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label in sorted(by_class):
        indices = by_class[label]
        chosen += [indices[i] for i in rng.permutation(len(indices))[:quotas[label]]]
    return [files[i] for i in sorted(chosen)]


def allocate(sizes: dict[int, int], count: int) -> dict[int, int]:
    """How many of `count` each class gets: proportional to `sizes`, at least one per class
    while `count` covers every class (the largest classes first when it does not)."""
    total = sum(sizes.values())
    exact = {label: count * size / total for label, size in sizes.items()}
    quotas = {label: int(share) for label, share in exact.items()}
    by_size = sorted(sizes, key=lambda label: (-sizes[label], label))
    for label in by_size[:count]:
        quotas[label] = max(quotas[label], 1)
    while sum(quotas.values()) > count:  # the minimum of one pushed the sum over: trim the largest quota
        quotas[max(quotas, key=lambda label: (quotas[label], -label))] -= 1
    by_remainder = sorted(sizes, key=lambda label: (quotas[label] - exact[label], -sizes[label], label))
    while sum(quotas.values()) < count:
        for label in by_remainder:
            if sum(quotas.values()) < count and quotas[label] < sizes[label]:
                quotas[label] += 1
    return quotas


def calibration_images(images: DeployImages, count: int, shape: tuple[int, int, int],
                       resize: str) -> tuple[np.ndarray, np.ndarray]:
    """A stratified sample of `count` training images, decoded and resized as training does
    (uint8 [N,H,W,C]), and their labels [N]."""
    from cnnstudio.export.images import load_images

    if count < 1:
        raise ExportError(f"--calibration must be at least 1. Received: {count}")
    sample = stratified_sample(images.train, count, seed=1)
    if not sample:
        raise ExportError(f"{images.folder}: the training split holds no images to calibrate int8 on.")
    labels = np.asarray([label for _, label in sample], dtype=np.int64)
    return load_images([Path(path) for path, _ in sample], shape, resize), labels


def class_counts(labels: np.ndarray, class_names: list[str]) -> dict[str, int]:
    """{class name: images} of a sample, every class listed (0 for a class the sample lacks)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(class_names))
    return {name: int(count) for name, count in zip(class_names, counts, strict=False)}


def load_labelled(files: list[tuple[str, int]], shape: tuple[int, int, int], resize: str,
                  batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N,H,W,C] and int labels [N] of `files`."""
    from cnnstudio.export.images import load_images

    chunks = [load_images([Path(path) for path, _ in files[start:start + batch]], shape, resize)
              for start in range(0, len(files), batch)]
    images = np.concatenate(chunks) if chunks else np.zeros((0, *shape), np.uint8)
    return images, np.asarray([label for _, label in files], dtype=np.int64)
