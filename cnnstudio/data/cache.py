"""Per-folder scan cache in the user's cache directory (never inside the dataset folder).

One .npz file per scanned folder, keyed by the folder's absolute path: the header-check
results as columns (`ScanColumns`, about 40 bytes per file) with each file's path, size and
mtime; a row is reused while its file's size and modification time are unchanged. Older
caches (version 2 was a JSON dict per file) are ignored and removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnstudio.paths import cache_dir

if TYPE_CHECKING:
    from cnnstudio.data.formats import ImageInfo
    from cnnstudio.data.index import FolderIndex

CACHE_VERSION = 3
NOT_CHECKED, HEADER_CHECKED, DECODED = 0, 1, 2  # ScanColumns.checked


def cache_root() -> Path:
    return cache_dir()


def _key(folder: Path) -> str:
    return hashlib.sha1(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:20]


def scan_cache_path(folder: Path) -> Path:
    return cache_root() / "scans" / f"{_key(folder)}.npz"


@dataclass
class ScanColumns:
    """Header-check results, one row per position of a FolderIndex."""

    checked: np.ndarray  # uint8: NOT_CHECKED, HEADER_CHECKED or DECODED (a full decode passed or failed)
    reason: np.ndarray  # int32: -1 usable, else an index into reasons
    reasons: list[str]
    widths: np.ndarray  # uint32
    heights: np.ndarray  # uint32
    mode_codes: np.ndarray  # uint8 into mode_names
    mode_names: list[str]
    format_codes: np.ndarray  # uint8 into format_names
    format_names: list[str]
    digests: np.ndarray  # uint8 (n, 16)
    native: np.ndarray  # bool
    stale: bool = True  # the cache on disk does not hold exactly these rows (save even if nothing is read)
    _lookups: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, count: int) -> ScanColumns:
        return cls(np.zeros(count, np.uint8), np.full(count, -1, np.int32), [], np.zeros(count, np.uint32),
                   np.zeros(count, np.uint32), np.zeros(count, np.uint8), [], np.zeros(count, np.uint8), [],
                   np.zeros((count, 16), np.uint8), np.zeros(count, bool))

    def __len__(self) -> int:
        return len(self.checked)

    def store(self, position: int, outcome: ImageInfo | str, decoded: bool) -> None:
        """Record one file's check: an ImageInfo, or the reason it cannot be used."""
        if isinstance(outcome, str):
            self.reason[position] = self._code("reasons", outcome)
        else:
            self.reason[position] = -1
            self.widths[position] = outcome.width
            self.heights[position] = outcome.height
            self.mode_codes[position] = self._code("mode_names", outcome.mode)
            self.format_codes[position] = self._code("format_names", outcome.format)
            self.digests[position] = np.frombuffer(bytes.fromhex(outcome.digest), np.uint8)
            self.native[position] = outcome.native
        # Last: a Ctrl-C landing halfway leaves the row unchecked (read again), never half-written.
        self.checked[position] = DECODED if decoded else HEADER_CHECKED

    def _code(self, table_name: str, value: str) -> int:
        """The code of `value` in one of the string tables, appended when new."""
        table = getattr(self, table_name)
        lookup = self._lookups.get(table_name)
        if lookup is None or len(lookup) != len(table):
            lookup = self._lookups[table_name] = {text: code for code, text in enumerate(table)}
        code = lookup.get(value)
        if code is None:
            code = lookup[value] = len(table)
            table.append(value)
        return code

    def usable(self) -> np.ndarray:
        return (self.checked > NOT_CHECKED) & (self.reason < 0)

    def needs_check(self, verify: bool) -> np.ndarray:
        """Positions to read: never checked, or (when verifying) usable but not yet fully decoded."""
        todo = self.checked == NOT_CHECKED
        if verify:
            todo |= (self.checked == HEADER_CHECKED) & (self.reason < 0)
        return np.flatnonzero(todo)

    def _take(self, rows: np.ndarray, source: ScanColumns, source_rows: np.ndarray) -> None:
        """Copy rows of `source` (same code tables) into `rows` of self."""
        for name in ("checked", "reason", "widths", "heights", "mode_codes", "format_codes", "digests", "native"):
            getattr(self, name)[rows] = getattr(source, name)[source_rows]


def _paths_blob(paths: list[str]) -> bytes:
    return "\n".join(paths).encode("utf-8")


def load_scan_cache(folder: Path, index: FolderIndex) -> ScanColumns:
    """Cached results aligned with `index`; rows of files that are new or changed are NOT_CHECKED.

    A missing, unreadable, older-format or other folder's cache gives all rows NOT_CHECKED.
    """
    columns = ScanColumns.empty(len(index))
    try:
        with np.load(scan_cache_path(folder), allow_pickle=False) as data:
            if int(data["version"]) != CACHE_VERSION or str(data["folder"]) != str(Path(folder).resolve()):
                return columns
            tables = json.loads(str(data["tables"]))
            cached = ScanColumns(*(data[name] for name in ("checked", "reason")), list(tables["reasons"]),
                                 data["widths"], data["heights"], data["mode_codes"], list(tables["modes"]),
                                 data["format_codes"], list(tables["formats"]), data["digests"], data["native"])
            blob, sizes, mtimes = bytes(data["paths"]), data["sizes"], data["mtimes"]
    except Exception:  # noqa: BLE001 - a damaged cache (bad zip, short file, wrong types) is only ignored
        return columns
    count = len(cached)
    if any(len(array) != count for array in (cached.reason, cached.widths, cached.heights, cached.mode_codes,
                                             cached.format_codes, cached.digests, cached.native, sizes, mtimes)):
        return columns
    if not _consistent(cached):
        return columns
    aligned = blob == _paths_blob(index.paths)
    if aligned:  # the usual rescan: same files in the same order
        rows = np.arange(len(index))
        old = rows
    else:
        text = blob.decode("utf-8", errors="replace")
        where = {path: row for row, path in enumerate(text.split("\n") if text else [])}
        if len(where) != count:
            return columns
        found = np.fromiter((where.get(path, -1) for path in index.paths), np.int64, len(index))
        del where
        rows = np.flatnonzero(found >= 0)
        old = found[rows]
    same = (sizes[old] == index.sizes[rows]) & (mtimes[old] == index.mtimes[rows])
    rows, old = rows[same], old[same]
    columns.stale = not aligned or len(rows) != len(index)
    columns.reasons, columns.mode_names, columns.format_names = cached.reasons, cached.mode_names, cached.format_names
    columns._take(rows, cached, old)
    return columns


def _consistent(columns: ScanColumns) -> bool:
    """Shapes and codes that index their tables: a cache written by a bug or a disk error is not trusted."""
    def within(codes: np.ndarray, table: list[str]) -> bool:
        return not len(codes) or int(codes.max()) < max(len(table), 1)

    return (columns.digests.shape == (len(columns), 16) and columns.digests.dtype == np.uint8
            and within(columns.reason, columns.reasons) and within(columns.mode_codes, columns.mode_names)
            and within(columns.format_codes, columns.format_names) and int(columns.checked.max(initial=0)) <= DECODED
            and all(isinstance(text, str) for text in columns.reasons + columns.mode_names + columns.format_names))


def save_scan_cache(folder: Path, index: FolderIndex, columns: ScanColumns) -> None:
    target = scan_cache_path(folder)
    resolved = Path(folder).resolve()
    if resolved == target.parent or resolved in target.parents:
        return  # the cache would land inside the dataset: never write there
    tables = json.dumps({"reasons": columns.reasons, "modes": columns.mode_names, "formats": columns.format_names})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
        with open(temporary, "wb") as handle:
            np.savez(handle, version=np.int64(CACHE_VERSION), folder=np.str_(str(resolved)),
                     paths=np.frombuffer(_paths_blob(index.paths), np.uint8), sizes=index.sizes,
                     mtimes=index.mtimes, tables=np.str_(tables), checked=columns.checked, reason=columns.reason,
                     widths=columns.widths, heights=columns.heights, mode_codes=columns.mode_codes,
                     format_codes=columns.format_codes, digests=columns.digests, native=columns.native)
        os.replace(temporary, target)
        target.with_suffix(".json").unlink(missing_ok=True)  # the version-2 cache of this folder
    except OSError:
        pass  # a cache that cannot be written only costs time on the next scan
