"""Curation (exclusions, relabels) and the deterministic stratified split stored in the project.

The split is a plain dict kept in `Project.split`:

    {"version": 1, "seed": 42, "validation_fraction": 0.2, "test_fraction": 0.0,
     "layout": "classes", "classes": ["cat", "dog"],
     "subsets": {"train": [relative paths], "val": [...], "test": [...]}}

Labels are not stored: they come from the folder and the project's relabels, so relabelling
a file keeps it in the same subset. A stored split is reused when its seed and fractions
still match; files that disappeared are dropped and new files are split on their own.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from cnnstudio.data.scan import ImageRecord
from cnnstudio.errors import DatasetError

SUBSETS = ("train", "val", "test")
SPLIT_VERSION = 1


def curate(records: list[ImageRecord], exclusions: list[str], relabels: dict[str, str]) -> dict[str, str]:
    """relative path -> class name after the project's exclusions and relabels (disk untouched)."""
    excluded = {p.replace("\\", "/") for p in exclusions}
    relabel = {p.replace("\\", "/"): c for p, c in relabels.items()}
    return {r.path: relabel.get(r.path, r.class_name) for r in records if r.path not in excluded}


def _class_seed(seed: int, name: str) -> list[int]:
    # Each class gets its own stream, so adding a class never reshuffles the others.
    return [seed, int.from_bytes(hashlib.sha1(name.encode("utf-8")).digest()[:4], "little")]


def stratified_split(
    labels: dict[str, str], validation_fraction: float, test_fraction: float, seed: int
) -> dict[str, list[str]]:
    """Split each class separately: round(n·fraction) files to val and to test, the rest to train."""
    by_class: dict[str, list[str]] = {}
    for path, name in labels.items():
        by_class.setdefault(name, []).append(path)
    out: dict[str, list[str]] = {subset: [] for subset in SUBSETS}
    for name in sorted(by_class):
        paths = sorted(by_class[name])
        order = np.random.default_rng(_class_seed(seed, name)).permutation(len(paths))
        n = len(paths)
        n_val = int(round(n * validation_fraction))
        n_test = int(round(n * test_fraction))
        # Keep every requested subset non-empty while leaving at least one training image.
        if validation_fraction > 0 and n_val == 0 and n >= 3:
            n_val = 1
        if test_fraction > 0 and n_test == 0 and n >= 3:
            n_test = 1
        while n_val + n_test >= n and (n_val or n_test):
            if n_test >= n_val and n_test:
                n_test -= 1
            else:
                n_val -= 1
        picked = [paths[i] for i in order]
        out["val"].extend(picked[:n_val])
        out["test"].extend(picked[n_val : n_val + n_test])
        out["train"].extend(picked[n_val + n_test :])
    return {subset: sorted(paths) for subset, paths in out.items()}


def make_split(
    records: list[ImageRecord],
    labels: dict[str, str],
    layout: str,
    settings: dict[str, Any],
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The split for the curated files: the stored one (updated for added/removed files) or a new one."""
    seed = int(settings.get("split_seed", 42))
    val_fraction = float(settings.get("validation_fraction", 0.2))
    test_fraction = float(settings.get("test_fraction", 0.0))
    folder_subset = {r.path: r.subset for r in records}
    assigned: dict[str, list[str]] = {subset: [] for subset in SUBSETS}
    pending: dict[str, str] = {}
    if layout == "split":
        has_val = any(folder_subset[p] == "val" for p in labels)
        has_test = any(folder_subset[p] == "test" for p in labels)
        for path in labels:
            subset = folder_subset[path] or "train"
            if subset == "train" and (not has_val or not has_test):
                pending[path] = labels[path]  # split val/test off train where the folder has none
            else:
                assigned[subset].append(path)
        val_fraction = 0.0 if has_val else val_fraction
        test_fraction = 0.0 if has_test else test_fraction
    else:
        pending = dict(labels)
    reuse = (
        isinstance(stored, dict)
        and stored.get("version") == SPLIT_VERSION
        and stored.get("seed") == seed
        and stored.get("validation_fraction") == val_fraction
        and stored.get("test_fraction") == test_fraction
        and isinstance(stored.get("subsets"), dict)
    )
    if reuse:
        for subset in SUBSETS:
            for path in stored["subsets"].get(subset, []) or []:
                if path in pending:
                    assigned[subset].append(path)
                    del pending[path]
    fresh = stratified_split(pending, val_fraction, test_fraction, seed)
    subsets = {subset: sorted(assigned[subset] + fresh[subset]) for subset in SUBSETS}
    return {
        "version": SPLIT_VERSION,
        "seed": seed,
        "validation_fraction": val_fraction,
        "test_fraction": test_fraction,
        "layout": layout,
        "classes": sorted(set(labels.values())),
        "subsets": subsets,
    }


def check_split(split: dict[str, Any], labels: dict[str, str], folder: str) -> None:
    if not split["subsets"]["train"]:
        raise DatasetError(f"{folder}: the split leaves no training images; lower the validation/test share.")
    train_classes = {labels[p] for p in split["subsets"]["train"]}
    missing = sorted(set(labels.values()) - train_classes)
    if missing:
        raise DatasetError(f"{folder}: class '{missing[0]}' has no training images after the split; "
                           "add images or lower the validation/test share.")
