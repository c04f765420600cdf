"""What a scan found, as columns aligned with the folder index (a few dozen bytes per file).

`ScanResult` keeps one numpy array per fact (width, height, mode and format codes, a 16-byte
content digest, the TensorFlow-decodable flag, the usable mask), each aligned with the
positions of `scan.index` (the FolderIndex: paths, labels, subsets, sizes). `scan.images` is
a read-only sequence of `ImageRecord` built on access, so callers that iterate records keep
working while a 1M-file scan never holds a million Python objects.

For views over many files (the Data panel) read the columns instead of records:

    scan.positions                 # int64 index positions of the usable images, in listing order
    scan.index.paths[p]            # relative path ("/" separators) of position p
    scan.index.labels[p]           # class index into scan.class_names
    scan.widths[p], scan.heights[p]
    scan.class_positions("cat")    # usable positions of one class
    scan.record(p)                 # one ImageRecord
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from cnnstudio.data.index import SUBSETS, FolderIndex
from cnnstudio.errors import DatasetError

IMBALANCE_WARNING = 3.0  # largest/smallest class ratio from which the report warns
DIGEST_BYTES = 16


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


class ImageRecords(Sequence[ImageRecord]):
    """The usable images of a scan, in listing order; each record is built when it is read."""

    def __init__(self, result: ScanResult):
        self._result = result
        self._positions = result.positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, item: int) -> ImageRecord: ...

    @overload
    def __getitem__(self, item: slice) -> list[ImageRecord]: ...

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._result.record(int(p)) for p in self._positions[item]]
        return self._result.record(int(self._positions[item]))

    def __iter__(self) -> Iterator[ImageRecord]:
        # Columns are converted a chunk at a time (numpy scalars one by one cost 3x more).
        result = self._result
        index, names, modes, formats = result.index, result.class_names, result.mode_names, result.format_names
        subset_names = {-1: None, **dict(enumerate(SUBSETS))}
        for start in range(0, len(self._positions), 4096):
            chunk = self._positions[start:start + 4096]
            hexes = result.digests[chunk].tobytes().hex()
            columns = zip(chunk.tolist(), index.labels[chunk].tolist(), index.subsets[chunk].tolist(),
                          result.widths[chunk].tolist(), result.heights[chunk].tolist(),
                          result.mode_codes[chunk].tolist(), result.format_codes[chunk].tolist(), strict=True)
            for row, (position, label, subset, width, height, mode, fmt) in enumerate(columns):
                yield ImageRecord(index.paths[position], names[label], subset_names[subset], width, height,
                                  modes[mode], formats[fmt], hexes[32 * row:32 * row + 32])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} images of {self._result.folder}>"


@dataclass(eq=False)
class ScanResult:
    folder: Path
    layout: str  # "classes" (one subfolder per class) or "split" (train/ val/ test/)
    class_names: list[str]
    index: FolderIndex  # paths, labels, subsets, sizes; every column below is aligned with it
    usable: np.ndarray  # bool: the file is an image we can train on
    widths: np.ndarray  # uint32 (0 where not usable)
    heights: np.ndarray  # uint32
    mode_codes: np.ndarray  # uint8 into mode_names (Pillow mode as stored: L, RGB, P, CMYK...)
    mode_names: list[str]
    format_codes: np.ndarray  # uint8 into format_names (Pillow format: PNG, JPEG...)
    format_names: list[str]
    digests: np.ndarray  # uint8 (n, 16): blake2b of the content (exact-duplicate detection)
    native: np.ndarray  # bool: TensorFlow decodes it like Pillow (see formats.native_decodable)
    unreadable: list[tuple[str, str]]  # (relative path, reason)
    ignored: int = 0  # hidden and non-image files, skipped quietly
    loose_files: list[str] = field(default_factory=list)  # images not inside a class folder
    empty_classes: list[str] = field(default_factory=list)  # class folders without usable images
    verified: bool = False

    def __post_init__(self) -> None:
        self.positions = np.flatnonzero(self.usable)
        self._images: ImageRecords | None = None
        self._duplicates: list[np.ndarray] | None = None

    # ---- records, built on access -----------------------------------------------------------
    @property
    def images(self) -> ImageRecords:
        if self._images is None:
            self._images = ImageRecords(self)
        return self._images

    def record(self, position: int) -> ImageRecord:
        index = self.index
        code = int(index.subsets[position])
        return ImageRecord(index.paths[position], self.class_names[int(index.labels[position])],
                           SUBSETS[code] if code >= 0 else None, int(self.widths[position]),
                           int(self.heights[position]), self.mode_names[self.mode_codes[position]],
                           self.format_names[self.format_codes[position]], self.digests[position].tobytes().hex())

    def class_positions(self, class_name: str) -> np.ndarray:
        """Usable positions of one class, in listing order."""
        label = self.class_names.index(class_name)
        return self.positions[self.index.labels[self.positions] == label]

    # ---- summaries --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        totals = np.bincount(self.index.labels[self.positions], minlength=len(self.class_names))
        return {name: int(totals[i]) for i, name in enumerate(self.class_names)}

    def duplicate_positions(self) -> list[np.ndarray]:
        """Positions of each group of usable files with identical content (computed once)."""
        if self._duplicates is None:
            positions = self.positions
            keys = np.ascontiguousarray(self.digests[positions]).view(np.uint64)  # (n, 2)
            order = np.lexsort((keys[:, 1], keys[:, 0]))
            ordered = keys[order]
            starts = np.flatnonzero(np.concatenate(([True], np.any(ordered[1:] != ordered[:-1], axis=1))))
            ends = np.append(starts[1:], len(order))
            self._duplicates = [positions[order[start:end]] for start, end in
                                zip(starts.tolist(), ends.tolist(), strict=True) if end - start > 1]
        return self._duplicates

    def duplicates(self) -> list[list[str]]:
        """Groups of files with identical content (each group sorted, groups sorted)."""
        paths = self.index.paths
        return sorted(sorted(paths[p] for p in group.tolist()) for group in self.duplicate_positions())

    def leakage(self) -> list[list[str]]:
        """Duplicate groups with members both in train and in val or test."""
        index = self.index
        subset_of = {index.paths[p]: index.subset_of(p) for group in self.duplicate_positions()
                     for p in group.tolist()}
        return leakage_groups(self.duplicates(), subset_of)

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
        leaks = self.leakage()
        if leaks:
            out.append(f"{len(leaks)} duplicate group(s) straddle train and val/test (leakage), e.g. "
                       f"{' = '.join(leaks[0][:2])}.")
        return out

    def problem(self) -> str | None:
        """Why this folder cannot be trained on, or None."""
        where = str(self.folder)
        if not len(self.positions):
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
        positions = self.positions
        sizes = _most_common(self.widths[positions].astype(np.uint64) << np.uint64(32)
                             | self.heights[positions].astype(np.uint64))
        duplicates = self.duplicates()
        out: dict[str, Any] = {
            "folder": str(self.folder),
            "layout": self.layout,
            "classes": [{"name": name, "count": counts[name]} for name in self.class_names],
            "images": len(positions),
            "unreadable": [{"path": p, "reason": reason} for p, reason in self.unreadable],
            "ignored": self.ignored,
            "loose_files": list(self.loose_files),
            "empty_classes": list(self.empty_classes),
            "sizes": [{"size": f"{key >> 32}x{key & 0xFFFFFFFF}", "count": count}
                      for key, count in sizes[:20]],
            "modes": {self.mode_names[code]: count for code, count in _most_common(self.mode_codes[positions])},
            "formats": {self.format_names[code]: count
                        for code, count in _most_common(self.format_codes[positions])},
            "imbalance": self.imbalance(),
            "duplicates": duplicates,
            "leakage": self.leakage(),
            "verified": self.verified,
            "warnings": self.warnings(),
            "problem": self.problem(),
        }
        if self.layout == "split":
            codes, first, totals = np.unique(self.index.subsets[positions], return_index=True, return_counts=True)
            out["subsets"] = {SUBSETS[codes[i]] if codes[i] >= 0 else None: int(totals[i])
                              for i in np.argsort(first, kind="stable")}
        return out


def _most_common(values: np.ndarray) -> list[tuple[int, int]]:
    """(value, count) by count descending, ties in order of first appearance (Counter.most_common's order)."""
    if not len(values):
        return []
    keys, first, totals = np.unique(values, return_index=True, return_counts=True)
    order = np.lexsort((first, -totals))
    return [(int(keys[i]), int(totals[i])) for i in order]


def duplicate_groups(records: Iterable[ImageRecord]) -> list[list[str]]:
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
