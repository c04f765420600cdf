"""The trials' data source: the engine's own loader, with the input statistics shared.

Runs inside the training worker (job field ``data_source``). The scan is already cached
per folder (cnnstudio.data.cache) and the split is fixed once in the sweep's project, so
what is left to share between trials is the statistics and whitening: computed by the
first trial that needs them, stored in the user's cache keyed by every setting that
determines them, loaded by the others (bit for bit, so exact resume still holds).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

STATISTICS_VERSION = 1
NEEDS_STATISTICS = ("per_channel", "mean_image", "pca", "zca")


def statistics_key(project: Any) -> str:
    """Hash of what determines the statistics: images of the train split, their files, the settings."""
    from cnnstudio.data import input_shape

    folder = project.dataset_folder()
    train = sorted((project.split or {}).get("subsets", {}).get("train", []))
    stamps = []
    for relative in train:
        try:
            info = os.stat(Path(folder) / relative)
            stamps.append((relative, info.st_size, info.st_mtime_ns))
        except OSError:
            stamps.append((relative, None, None))
    preprocessing = project.preprocessing
    described = {
        "version": STATISTICS_VERSION, "folder": str(Path(folder).resolve()), "train": stamps,
        "relabels": project.relabels, "exclusions": sorted(project.exclusions),
        "shape": list(input_shape(project)), "resize": preprocessing.get("resize"),
        "normalization": preprocessing.get("normalization"),
        "images": preprocessing.get("statistics_images"), "epsilon": preprocessing.get("whitening_epsilon"),
        "split_seed": (project.split or {}).get("seed"),
    }
    return hashlib.sha1(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:24]


def statistics_file(project: Any) -> Path:
    from cnnstudio.paths import cache_dir

    return cache_dir() / "statistics" / f"{statistics_key(project)}.npz"


def load(project: Any):
    """data_source for trial jobs: load_project_data, reusing cached statistics."""
    from cnnstudio.data.statistics import Statistics
    from cnnstudio.errors import DatasetError
    from cnnstudio.training.data_source import load_project_data

    normalization = project.preprocessing.get("normalization", "rescale")
    if normalization not in NEEDS_STATISTICS or not project.split:
        return load_project_data(project)
    path = statistics_file(project)
    cached = None
    if path.exists():
        try:
            cached = Statistics.load(str(path))
        except (OSError, ValueError, DatasetError):
            cached = None  # damaged: compute again
    if cached is None:
        data = load_project_data(project)
        if data.statistics is not None:
            _save(data.statistics, path)
        return data
    # Decode the images without recomputing: "rescale" skips the statistics pass.
    project.preprocessing["normalization"] = "rescale"
    try:
        data = load_project_data(project)
    finally:
        project.preprocessing["normalization"] = normalization
    data.statistics = cached
    return data


def _save(statistics: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.npz")
    try:
        statistics.save(str(temporary))
        os.replace(temporary, path)  # atomic: a concurrent trial reads the old or the new file
    except OSError:
        temporary.unlink(missing_ok=True)  # a cache that cannot be written only costs time
