"""What the Data panel shows about a folder, prepared off the GUI thread (numpy, no Qt).

A FolderSummary is built twice per folder: from the index (names and labels only, shown at
once) and from the scan (usable files, unusable ones with reasons, sizes, warnings). It holds
numpy arrays over the index's positions (no object per file): the files of one class are
`summary.class_rows(k)`, a slice of one array sorted by class, so a class filter costs nothing
on the GUI thread. The index's paths are referenced, never copied.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

UNUSABLE_LIST = "listed below, under Unusable files"  # where the panel shows them
TOP_SIZES = 5  # image sizes named in the summary line
SAMPLES = 3  # files handed to the augmentation preview (one per class)


@dataclass
class FolderSummary:
    root: Path
    layout: str
    class_names: list[str]
    paths: list[str]  # the index's relative paths (the same list object, not a copy)
    labels: np.ndarray  # the index's labels (int32 per position)
    counts: np.ndarray  # files per class shown (int64)
    order: np.ndarray  # positions shown, sorted by class (int32): class k is order[starts[k]:starts[k + 1]]
    starts: np.ndarray  # len(class_names) + 1 offsets into order
    scanned: bool = False  # False: the index only (header checks still running)
    verified: bool = False  # every file decoded in full
    listed: int = 0  # files in the index
    unusable: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    sizes: list[tuple[str, int]] = field(default_factory=list)  # ("W×H", files), most common first
    distinct_sizes: int = 0
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None
    samples: list[str] = field(default_factory=list)  # absolute paths, first usable file of the first classes

    @property
    def shown(self) -> int:
        return int(len(self.order))

    def class_rows(self, label: int | None) -> np.ndarray:
        """Index positions of class `label` (all classes for None), a view of `order`."""
        if label is None:
            return self.order
        return self.order[self.starts[label]:self.starts[label + 1]]

    def absolute(self, position: int) -> str:
        return f"{self.root}/{self.paths[position]}"


def _ordered(labels: np.ndarray, keep: np.ndarray | None, classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, positions sorted by class, offsets) of the positions where `keep` is true."""
    positions = np.arange(len(labels), dtype=np.int32) if keep is None else np.flatnonzero(keep).astype(np.int32)
    chosen = labels[positions]
    order = positions[np.argsort(chosen, kind="stable")]
    counts = np.bincount(chosen, minlength=classes).astype(np.int64) if classes else np.zeros(0, np.int64)
    starts = np.zeros(classes + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    return counts, order, starts


def _size_counts(scan: Any, keep: np.ndarray) -> Counter:
    """(width, height) -> usable files, from the scan's columns (records only as a fallback)."""
    widths, heights = getattr(scan, "widths", None), getattr(scan, "heights", None)
    if widths is None or heights is None or len(widths) != len(keep):
        return Counter((record.width, record.height) for record in scan.images)
    pairs = (widths[keep].astype(np.uint64) << np.uint64(32)) | heights[keep].astype(np.uint64)
    values, numbers = np.unique(pairs, return_counts=True)
    return Counter({(int(v >> 32), int(v & 0xFFFFFFFF)): int(n) for v, n in zip(values, numbers, strict=True)})


def summarize_index(index: Any) -> FolderSummary:
    """The folder as listed (every candidate file; header checks not done yet)."""
    labels = np.asarray(index.labels, dtype=np.int32)
    counts, order, starts = _ordered(labels, None, len(index.class_names))
    return FolderSummary(Path(index.root), getattr(index, "layout", ""), list(index.class_names), index.paths,
                         labels, counts, order, starts, listed=len(index.paths))


def summarize_scan(scan: Any, index: Any, state: Any | None = None) -> FolderSummary:
    """The folder after header checks (or a full decode): unusable files left out of the views,
    with their reasons; sizes, warnings and problems in words. Slow parts (duplicate groups over
    every file) run here, in the caller's thread."""
    labels = np.asarray(index.labels, dtype=np.int32)
    unusable = sorted((str(path), str(reason)) for path, reason in scan.unreadable)
    keep = getattr(scan, "usable", None)  # the scan's columns, aligned with the index
    if keep is None or len(keep) != len(index.paths):
        bad = {path for path, _reason in unusable}
        keep = np.fromiter((path not in bad for path in index.paths), dtype=bool, count=len(index.paths))
    if state is not None:
        state.check()
    counts, order, starts = _ordered(labels, keep, len(index.class_names))
    sizes = _size_counts(scan, keep)
    if state is not None:
        state.check()
    warnings = scan.warnings(unusable_list=UNUSABLE_LIST)
    root = Path(index.root)
    firsts = [int(order[starts[k]]) for k in range(len(counts)) if counts[k]][:SAMPLES]
    return FolderSummary(
        root, getattr(index, "layout", ""), list(index.class_names), index.paths, labels, counts, order, starts,
        scanned=True, verified=bool(getattr(scan, "verified", False)), listed=len(index.paths), unusable=unusable,
        sizes=[(f"{w}×{h}", n) for (w, h), n in sizes.most_common(TOP_SIZES)], distinct_sizes=len(sizes),
        warnings=list(warnings), problem=scan.problem(),
        samples=[f"{root}/{index.paths[p]}" for p in firsts],
    )


def load_folder(folder: str | Path, state: Any, verify: bool = False, index: Any | None = None,
                shown: threading.Event | None = None, workers: int | None = None):
    """The Data panel's background task, a generator: ("index", index, summary) as soon as the
    folder is listed (skipped when `index` is given), then ("scan", scan, summary) once every
    file is checked (decoded in full when `verify`). Cancelled through `state`.

    `shown`: set by the GUI once the index is on screen; the header checks wait for it (at most
    a second), so the window's first full repaint does not compete with them for the GIL.
    `workers`: header-check threads (scan_folder's default when None)."""
    from cnnstudio.data.index import refresh_index
    from cnnstudio.data.scan import scan_folder  # looked up per call (tests slow it down)

    if index is None:
        index = refresh_index(folder, state).index
        yield "index", index, summarize_index(index)
        if shown is not None:
            shown.wait(1.0)
    state.update(0, len(index.paths), "decoding images" if verify else "checking images", force=True)
    scan = scan_folder(folder, verify, state, index=index, workers=workers)
    state.update(message="summarising", force=True)
    yield "scan", scan, summarize_scan(scan, getattr(scan, "index", None) or index, state)
