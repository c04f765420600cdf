"""Scan an image folder: classes, usable images, unusable files with reasons, duplicates.

Pure Pillow + numpy. Files are only read: nothing in the folder is moved, deleted or
written. Header checks run in a thread pool (file reads and hashing release the GIL) and
results are cached per folder (see cache.py).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.data import cache, formats
from cnnstudio.data.index import FolderIndex, build_index
from cnnstudio.data.progress import TaskState, as_state
from cnnstudio.errors import DatasetError

IMBALANCE_WARNING = 3.0  # largest/smallest class ratio from which the report warns


@dataclass(frozen=True)
class ImageRecord:
    path: str  # relative to the scanned folder, "/" separators
    class_name: str
    subset: str | None  # "train"/"val"/"test" when the folder has split subfolders
    width: int
    height: int
    mode: str
    format: str
    digest: str


@dataclass
class ScanResult:
    folder: Path
    layout: str  # "classes" (one subfolder per class) or "split" (train/ val/ test/)
    class_names: list[str]
    images: list[ImageRecord]
    unreadable: list[tuple[str, str]]  # (relative path, reason)
    ignored: int = 0  # hidden and non-image files, skipped quietly
    loose_files: list[str] = field(default_factory=list)  # images not inside a class folder
    empty_classes: list[str] = field(default_factory=list)  # class folders without usable images
    verified: bool = False

    def counts(self) -> dict[str, int]:
        counts = Counter(r.class_name for r in self.images)
        return {name: counts.get(name, 0) for name in self.class_names}

    def duplicates(self) -> list[list[str]]:
        """Groups of files with identical content (each group sorted, groups sorted)."""
        return duplicate_groups(self.images)

    def imbalance(self) -> dict[str, Any] | None:
        counts = {k: v for k, v in self.counts().items() if v}
        if len(counts) < 2:
            return None
        largest = max(counts, key=lambda k: counts[k])
        smallest = min(counts, key=lambda k: counts[k])
        return {"ratio": round(counts[largest] / counts[smallest], 2), "largest": largest, "smallest": smallest}

    def warnings(self, unusable_list: str = "listed above") -> list[str]:
        """Problems in words; `unusable_list` says where the reader finds the unusable files
        (the CLI prints them above its warnings, the Data panel below)."""
        out = []
        if self.unreadable:
            out.append(f"{len(self.unreadable)} file(s) cannot be used and will be skipped ({unusable_list}).")
        if self.loose_files:
            out.append(f"{len(self.loose_files)} image(s) lie outside any class folder and are ignored, "
                       f"e.g. {self.loose_files[0]}.")
        imbalance = self.imbalance()
        if imbalance and imbalance["ratio"] >= IMBALANCE_WARNING:
            out.append(f"Class imbalance: '{imbalance['largest']}' has {imbalance['ratio']}× the images of "
                       f"'{imbalance['smallest']}'. Consider class weights or more images.")
        groups = self.duplicates()
        if groups:
            out.append(f"{sum(len(g) for g in groups)} files are exact duplicates in {len(groups)} group(s).")
        leaks = leakage_groups(groups, {r.path: r.subset for r in self.images})
        if leaks:
            out.append(f"{len(leaks)} duplicate group(s) straddle train and val/test (leakage), e.g. "
                       f"{' = '.join(leaks[0][:2])}.")
        return out

    def problem(self) -> str | None:
        """Why this folder cannot be trained on, or None."""
        where = str(self.folder)
        if not self.images:
            return (f"{where}: no usable images found. Expected one subfolder per class (or train/ val/ "
                    f"test/ each holding class subfolders) with JPEG, PNG, BMP, GIF, WebP or TIFF files.")
        if self.empty_classes:
            name = self.empty_classes[0]
            return (f"{where}: class folder '{name}' has no usable images. Add images to it or remove "
                    "the folder.")
        if len(self.class_names) < 2:
            only = self.class_names[0] if self.class_names else "?"
            return (f"{where}: only one class ('{only}') found; a classifier needs at least two class "
                    "subfolders.")
        return None

    def check(self) -> None:
        problem = self.problem()
        if problem:
            raise DatasetError(problem)

    def to_json(self) -> dict[str, Any]:
        counts = self.counts()
        sizes = Counter(f"{r.width}x{r.height}" for r in self.images)
        out: dict[str, Any] = {
            "folder": str(self.folder),
            "layout": self.layout,
            "classes": [{"name": name, "count": counts[name]} for name in self.class_names],
            "images": len(self.images),
            "unreadable": [{"path": p, "reason": reason} for p, reason in self.unreadable],
            "ignored": self.ignored,
            "loose_files": list(self.loose_files),
            "empty_classes": list(self.empty_classes),
            "sizes": [{"size": s, "count": c} for s, c in sizes.most_common(20)],
            "modes": dict(Counter(r.mode for r in self.images).most_common()),
            "formats": dict(Counter(r.format for r in self.images).most_common()),
            "imbalance": self.imbalance(),
            "duplicates": self.duplicates(),
            "leakage": leakage_groups(self.duplicates(), {r.path: r.subset for r in self.images}),
            "verified": self.verified,
            "warnings": self.warnings(),
            "problem": self.problem(),
        }
        if self.layout == "split":
            out["subsets"] = dict(Counter(r.subset for r in self.images))
        return out


def duplicate_groups(records: list[ImageRecord]) -> list[list[str]]:
    by_digest: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_digest[record.digest].append(record.path)
    return sorted(sorted(paths) for paths in by_digest.values() if len(paths) > 1)


def leakage_groups(groups: list[list[str]], subset_of: dict[str, str | None]) -> list[list[str]]:
    """Duplicate groups with members both in train and in val or test."""
    out = []
    for group in groups:
        subsets = {subset_of.get(p) for p in group}
        if "train" in subsets and subsets & {"val", "test"}:
            out.append(group)
    return out


def _inspect_entry(path: str, verify: bool, max_pixels: int) -> dict[str, Any]:
    try:
        info = formats.inspect_file(path, verify=verify, max_pixels=max_pixels)
    except formats.UnusableImage as exc:
        return {"reason": str(exc), "verified": verify}
    return {"info": [info.width, info.height, info.mode, info.format, info.digest, info.native],
            "verified": verify}


def scan_folder(
    folder: str | os.PathLike,
    verify: bool = False,
    progress: TaskState | Callable[[TaskState], Any] | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    max_pixels: int = formats.DEFAULT_MAX_PIXELS,
    index: FolderIndex | None = None,
) -> ScanResult:
    """Scan `folder` (read-only). `verify` decodes every image fully (slower, catches more).

    `index`: the folder's listing when the caller already has it (refresh_index), else listed here.
    """
    state = as_state(progress)
    root = Path(folder).expanduser()
    if index is None:
        index = build_index(root, state)  # names, labels, sizes: metadata only, no file opened
    layout, loose, ignored = index.layout, index.loose, index.ignored
    class_folders = index.class_folders
    listing = [(index.subset_of(i), index.class_names[label], str(root / rel), int(size), int(mtime))
               for i, (rel, label, size, mtime) in enumerate(zip(index.paths, index.labels.tolist(),
                                                                  index.sizes.tolist(), index.mtimes.tolist(),
                                                                  strict=True))]
    cached = cache.load_scan_cache(root) if use_cache else {}
    entries: dict[str, Any] = {}
    todo: list[tuple[str, str, int, int]] = []
    for _subset, _name, path, size, mtime in listing:
        rel = Path(path).relative_to(root).as_posix()
        old = cached.get(rel)
        if (old and old.get("size") == size and old.get("mtime_ns") == mtime
                and (old.get("verified") or not verify or "reason" in old)):
            entries[rel] = old
        else:
            todo.append((rel, path, size, mtime))
    state.update(len(entries), len(listing), "checking images", force=True)
    workers = workers or min(32, (os.cpu_count() or 2) * 4)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(rel, size, mtime, pool.submit(_inspect_entry, path, verify, max_pixels))
                   for rel, path, size, mtime in todo]
        try:
            for rel, size, mtime, future in futures:
                state.check()
                entries[rel] = {**future.result(), "size": size, "mtime_ns": mtime}
                state.update(advance=1)
        except BaseException:
            for *_rest, future in futures:
                future.cancel()
            if use_cache and todo:  # resumable: the next scan checks only the files not done yet
                cache.save_scan_cache(root, {**cached, **entries})
            raise
    if use_cache and (todo or len(cached) != len(entries)):
        cache.save_scan_cache(root, entries)
    images, unreadable, has_images, native = [], [], set(), {}
    for subset, name, path, _size, _mtime in listing:
        rel = Path(path).relative_to(root).as_posix()
        entry = entries[rel]
        if "reason" in entry:
            unreadable.append((rel, entry["reason"]))
            continue
        width, height, mode, fmt, digest, native[path] = entry["info"]
        images.append(ImageRecord(rel, name, subset, width, height, mode, fmt, digest))
        has_images.add(name if subset in (None, "train") else None)
    class_names = list(index.class_names)
    if layout == "split":
        train_classes = {name for subset, name in class_folders if subset == "train"}
        stray = sorted(set(class_names) - train_classes)
        if stray:
            raise DatasetError(f"{root}: class '{stray[0]}' appears in val/ or test/ but not in train/. "
                               "Every class needs training images.")
    empty = [name for name in class_names if name not in has_images]
    formats.remember_native(native)
    state.update(len(listing), len(listing), "done", force=True)
    return ScanResult(root, layout, class_names, images, unreadable, ignored, loose, empty, verify)
