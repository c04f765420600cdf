"""Image folders in: scanned, curated, split, described by statistics (Pillow + numpy, no TensorFlow).

The interface the training engine uses (kept stable):

    from cnnstudio.data import prepare_data
    data = prepare_data(project, progress=None)
        # scans project.dataset_folder() (cached), applies project.exclusions / relabels,
        # makes or reuses project.split (and stores it there), raises DatasetError
    data.class_names            # list[str]; label i is class_names[i]
    data.files["train"]         # list[(absolute_path, label)]; also "val", "test" (may be empty)
    data.image_shape            # (h, w, c) from the graph's Input node
    data.statistics(max_images=2000) -> Statistics   # from the train split; .to_dict()/from_dict()
    data.warnings               # imbalance, duplicates, train/val leakage, skipped files
    data.relative_path(path)    # the key for project.exclusions / project.relabels

    from cnnstudio.data.pipeline import build_dataset        # tf.data, uint8 images
    from cnnstudio.modeling.augmentation import augmentation_layers
    from cnnstudio.modeling.preprocessing import preprocessing_layers

The model then reads: uint8 input -> augmentation_layers (training only, values stay in
[0, 255]) -> preprocessing_layers (to the float input the architecture expects) -> network.
XLA cannot compile the augmentation warps: with an XLA train step use
cnnstudio.modeling.augmentation.augment_dataset on the tf.data pipeline instead.
`progress` is a TaskState or a callable receiving one (see progress.py); cancel with
`state.cancel()`. Other entry points: scan_folder (the `cnnstudio scan` report),
cnnstudio.data.preview (mean image, normalised and whitened samples as uint8 arrays),
cnnstudio.data.formats.load_image (the decoder the scan, statistics and pipeline share).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.data.progress import TaskCancelled, TaskState, as_state
from cnnstudio.data.scan import ScanResult, leakage_groups, scan_folder
from cnnstudio.data.split import SUBSETS, check_split, curate, make_split
from cnnstudio.data.statistics import Statistics, compute_statistics
from cnnstudio.errors import DatasetError

__all__ = [
    "DatasetError", "PreparedData", "Statistics", "TaskCancelled", "TaskState", "input_shape",
    "prepare_data", "scan_folder",
]


@dataclass
class PreparedData:
    folder: Path
    class_names: list[str]
    files: dict[str, list[tuple[str, int]]]
    image_shape: tuple[int, int, int]
    scan: ScanResult
    split: dict[str, Any]
    preprocessing: dict[str, Any]
    seed: int = 0
    warnings: list[str] = field(default_factory=list)
    leakage: list[list[str]] = field(default_factory=list)
    _statistics: dict[Any, Statistics] = field(default_factory=dict, repr=False)

    def relative_path(self, path: str) -> str:
        """The key Project.exclusions and Project.relabels use for a file of data.files."""
        return Path(path).relative_to(self.folder).as_posix()

    def counts(self, subset: str) -> dict[str, int]:
        out = dict.fromkeys(self.class_names, 0)
        for _path, label in self.files[subset]:
            out[self.class_names[label]] += 1
        return out

    def statistics(
        self,
        max_images: int | None = None,
        normalization: str | None = None,
        progress: TaskState | Callable[[TaskState], Any] | None = None,
    ) -> Statistics:
        """Statistics of the training split, computed once per settings (PCA/ZCA when normalization asks)."""
        normalization = normalization or self.preprocessing.get("normalization", "rescale")
        max_images = max_images or int(self.preprocessing.get("statistics_images", 2000))
        key = (max_images, normalization)
        if key not in self._statistics:
            self._statistics[key] = compute_statistics(
                self.files["train"], self.image_shape,
                resize=self.preprocessing.get("resize", "stretch"),
                normalization=normalization,
                max_images=max_images,
                epsilon=self.preprocessing.get("whitening_epsilon"),  # None: chosen from the data
                seed=self.seed,
                progress=progress,
            )
            self.warnings.extend(w for w in self._statistics[key].warnings if w not in self.warnings)
        return self._statistics[key]


def input_shape(project: Any) -> tuple[int, int, int]:
    """(h, w, c) of the graph's Input node; a clear error if it has no fixed size."""
    from cnnstudio.graph import catalogue

    names = project.graph.inputs()
    if len(names) != 1:
        raise DatasetError(f"the architecture needs exactly one Input node to train on images; it has {len(names)}.")
    node = project.graph[names[0]]
    defaults = {spec.name: spec.default for spec in catalogue.get("Input").params}
    params = {**defaults, **node.params}
    height, width, channels = params["height"], params["width"], params["channels"]
    if not height or not width:
        raise DatasetError(f"Input node '{node.name}' has no fixed height and width; set them so images "
                           "can be resized to the network's input size.")
    if channels not in (1, 3, 4):
        raise DatasetError(f"Input node '{node.name}' has {channels} channels; images can feed 1 "
                           "(grayscale), 3 (RGB) or 4 (RGBA) channels.")
    return int(height), int(width), int(channels)


def prepare_data(project: Any, progress: TaskState | Callable[[TaskState], Any] | None = None,
                 scan: ScanResult | None = None) -> PreparedData:
    """Scan, curate and split the project's dataset folder; stores the split in project.split.

    `scan`: a ScanResult of that folder the caller already holds (the Data panel's), used as it
    is (not copied, not changed) instead of scanning again; ignored when it is of another folder,
    or not fully decoded while dataset.verify_decode asks for that."""
    state = as_state(progress)
    folder = project.dataset_folder()
    if folder is None:
        raise DatasetError("the project has no dataset folder: set dataset.folder to a folder of images.")
    image_shape = input_shape(project)
    settings = project.dataset
    verify = bool(settings.get("verify_decode", False))
    if scan is None or Path(scan.folder) != Path(folder).expanduser() or (verify and not scan.verified):
        scan = scan_folder(folder, verify=verify, progress=state)
    scan.check()
    labels = curate(scan.images, project.exclusions, project.relabels)
    if not labels:
        raise DatasetError(f"{folder}: every image is excluded in the project; nothing is left to train on.")
    classes = sorted(set(scan.class_names) | set(labels.values()))
    remaining = {name: 0 for name in classes}
    for name in labels.values():
        remaining[name] += 1
    for name, count in remaining.items():
        if count == 0:
            raise DatasetError(f"{folder}: class '{name}' has no images left after the project's exclusions "
                               "and relabels. Restore some, or remove the class folder.")
    if len(classes) < 2:
        raise DatasetError(f"{folder}: only one class ('{classes[0]}') is left; a classifier needs two or more.")
    split = make_split(scan.images, labels, scan.layout, settings, project.split)
    split["classes"] = classes
    check_split(split, labels, str(folder))
    project.split = split
    index = {name: i for i, name in enumerate(classes)}
    # Plain string joins: a Path per file costs ~10 µs, seconds for a million files at every start.
    prefix = "" if str(folder) == "." else os.path.join(str(folder), "")  # what str(folder / path) gives
    files = {
        subset: [(prefix + (path if os.sep == "/" else path.replace("/", os.sep)), index[labels[path]])
                 for path in split["subsets"][subset]]
        for subset in SUBSETS
    }
    subset_of = {path: subset for subset in SUBSETS for path in split["subsets"][subset]}
    # From the scan's digest groups (no record object per file: 300k kept alive made the
    # collector's full passes stall every thread, the GUI's included, for 50-130 ms each).
    paths = scan.index.paths
    curated_groups = ([paths[p] for p in group.tolist() if paths[p] in labels] for group in scan.duplicate_positions())
    leaks = leakage_groups(sorted(sorted(g) for g in curated_groups if len(g) > 1), subset_of)
    warnings = [w for w in scan.warnings() if "leakage" not in w]
    if leaks:
        warnings.append(
            f"{len(leaks)} group(s) of identical images straddle train and val/test (leakage), e.g. "
            f"{' = '.join(leaks[0][:2])}. Exclude the copies so validation measures generalisation."
        )
    return PreparedData(
        folder=folder, class_names=classes, files=files, image_shape=image_shape, scan=scan, split=split,
        preprocessing=dict(project.preprocessing), seed=int(split["seed"]), warnings=warnings, leakage=leaks,
    )
