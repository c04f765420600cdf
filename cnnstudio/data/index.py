"""The folder index: every candidate image file's name, class, subset, size and mtime.

This is what training needs to start (names and labels), built from directory listings
and file metadata only: no file is opened. It is compact (parallel numpy arrays and one
list of relative paths, about 100 bytes per file) and cached per folder in the user's cache
directory, so a rescan compares metadata and reports which files are new, changed or
gone; header checks (scan.py) then read only those.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR

import numpy as np

from cnnstudio.data import formats
from cnnstudio.data.cache import cache_root
from cnnstudio.data.progress import TaskState, as_state
from cnnstudio.errors import DatasetError
from cnnstudio.paths import holds_runs

SUBSET_FOLDERS = {"train": "train", "val": "val", "validation": "val", "valid": "val", "test": "test"}
SUBSETS = ("train", "val", "test")  # subset codes 0, 1, 2; -1 = no subset folders
INDEX_VERSION = 2
RACY_NS = 2_000_000_000  # directory mtimes younger than this are not trusted
_STAT_DIR_FD = os.stat in os.supports_dir_fd and os.listdir in os.supports_fd


@dataclass
class FolderIndex:
    root: Path
    layout: str  # "classes" or "split"
    class_names: list[str]  # sorted
    paths: list[str]  # relative, "/" separators, in listing order (class folders sorted, names sorted)
    labels: np.ndarray  # int32 index into class_names
    subsets: np.ndarray  # int8 code into SUBSETS, -1 without subset folders
    sizes: np.ndarray  # int64 bytes
    mtimes: np.ndarray  # int64 ns
    class_folders: list[tuple[str | None, str]] = field(default_factory=list)  # (subset, class name)
    loose: list[str] = field(default_factory=list)  # images outside any class folder (relative)
    ignored: int = 0  # hidden and non-image files
    # prefix ("cat/", "cat/sub/") -> [mtime_ns, first position, end position, ignored files, subfolder names]
    directories: dict[str, list] = field(default_factory=dict)
    reused_directories: int = 0  # directories taken from the previous index without listing them

    def __len__(self) -> int:
        return len(self.paths)

    def counts(self) -> dict[str, int]:
        totals = np.bincount(self.labels, minlength=len(self.class_names)) if len(self.labels) else []
        return {name: int(totals[i]) if len(totals) else 0 for i, name in enumerate(self.class_names)}

    def subset_of(self, position: int) -> str | None:
        code = int(self.subsets[position])
        return SUBSETS[code] if code >= 0 else None

    def changed_since(self, previous: FolderIndex | None) -> np.ndarray:
        """Positions of files that are new or whose size or mtime differ from `previous`."""
        if previous is None or not len(previous):
            return np.arange(len(self), dtype=np.int64)
        if previous.paths == self.paths:  # the usual rescan (reused directories share the very strings)
            return np.flatnonzero((previous.sizes != self.sizes) | (previous.mtimes != self.mtimes))
        where = {path: i for i, path in enumerate(previous.paths)}
        old = np.fromiter((where.get(path, -1) for path in self.paths), dtype=np.int64, count=len(self))
        known = old >= 0
        same = np.zeros(len(self), dtype=bool)
        same[known] = (previous.sizes[old[known]] == self.sizes[known]) & (previous.mtimes[old[known]] ==
                                                                          self.mtimes[known])
        return np.flatnonzero(~same)


def _class_folders(root: Path) -> tuple[str, list[tuple[str | None, str, str]], list[str]]:
    """Layout, [(subset, class name, folder path)], loose image files (relative)."""
    dirs, loose = [], []
    with os.scandir(root) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if formats.is_hidden(entry.name):
                continue
            if entry.is_dir():
                if not holds_runs(entry.path):  # a project's runs kept in its image folder
                    dirs.append(entry.name)
            elif formats.is_candidate(entry.name):
                loose.append(entry.name)
    subset_dirs = [d for d in dirs if d.lower() in SUBSET_FOLDERS]
    if "train" not in (d.lower() for d in subset_dirs):
        return "classes", [(None, name, os.path.join(root, name)) for name in dirs], loose
    others = [d for d in dirs if d.lower() not in SUBSET_FOLDERS]
    if others:
        raise DatasetError(
            f"{root}: mixes split folders ({', '.join(subset_dirs)}) with other folders "
            f"({', '.join(others[:3])}). Put every class folder inside train/ (and val/, test/)."
        )
    folders = []
    for subset_dir in subset_dirs:
        subset = SUBSET_FOLDERS[subset_dir.lower()]
        with os.scandir(root / subset_dir) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if formats.is_hidden(entry.name):
                    continue
                if entry.is_dir():
                    folders.append((subset, entry.name, entry.path))
                elif formats.is_candidate(entry.name):
                    loose.append(f"{subset_dir}/{entry.name}")
    return "split", folders, loose


class _Lister:
    """Depth-first listing (sorted names) that reuses a previous index for unchanged directories.

    A directory whose mtime is what the previous index recorded has the same entries (adding,
    removing or renaming a file or folder changes it), so its files are taken from the
    previous index without a stat each. A file rewritten in place under the same name keeps
    its directory's mtime: pass no previous index (a full listing) to catch that.
    """

    def __init__(self, state: TaskState, previous: FolderIndex | None):
        self.state, self.previous = state, previous
        self.paths: list[str] = []
        self.sizes = array("q")  # 8 bytes a file while listing, not a Python int
        self.mtimes = array("q")
        self.directories: dict[str, list] = {}  # prefix -> [mtime_ns, start, end, ignored, subfolder names]
        self.reused = 0

    def walk(self, folder: str, prefix: str) -> None:
        try:
            mtime = os.stat(folder).st_mtime_ns  # before listing: a change while listing shows next time
        except OSError:
            return
        old = self.previous.directories.get(prefix) if self.previous is not None else None
        if old is not None and old[0] == mtime:
            _mtime, start, end, ignored, subfolders = old
            begin = len(self.paths)
            self.paths.extend(self.previous.paths[start:end])
            self.sizes.frombytes(np.ascontiguousarray(self.previous.sizes[start:end], np.int64).tobytes())
            self.mtimes.frombytes(np.ascontiguousarray(self.previous.mtimes[start:end], np.int64).tobytes())
            self.reused += 1
            self.state.update(advance=end - start)
        else:
            begin = len(self.paths)
            ignored, subfolders = self._list(folder, prefix)
        # A directory changed within the last seconds may change again within the same mtime tick:
        # recorded as unknown, so the next rescan lists it (git's "racy" rule).
        recorded = mtime if time.time_ns() - mtime > RACY_NS else -1
        self.directories[prefix] = [recorded, begin, len(self.paths), ignored, subfolders]
        for name in subfolders:
            self.state.check()
            self.walk(os.path.join(folder, name), f"{prefix}{name}/")

    def _list(self, folder: str, prefix: str) -> tuple[int, list[str]]:
        if not _STAT_DIR_FD:
            return self._list_entries(folder, prefix)
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return 0, []
        try:
            # Names relative to an open directory: no path walk per stat, and plain strings sort
            # faster than DirEntry objects. Every entry is stat-ed (a class folder holds images).
            try:
                names = os.listdir(fd)
            except OSError:
                return 0, []
            names.sort()
            ignored, subfolders = 0, []
            suffixes = formats.IMAGE_SUFFIXES
            paths, sizes, mtimes = self.paths, self.sizes, self.mtimes
            stat, is_dir = os.stat, S_ISDIR
            for name in names:
                try:
                    info = stat(name, dir_fd=fd)
                except OSError:
                    continue  # vanished while listing, or a broken link
                if is_dir(info.st_mode):
                    if not formats.is_hidden(name):
                        subfolders.append(name)
                    continue
                dot = name.rfind(".")
                if dot <= 0 or name[0] == "." or name[dot:].lower() not in suffixes:
                    ignored += 1  # hidden or not an image
                    continue
                paths.append(prefix + name)
                sizes.append(info.st_size)
                mtimes.append(info.st_mtime_ns)
        finally:
            os.close(fd)
        self.state.update(advance=len(names))
        return ignored, subfolders

    def _list_entries(self, folder: str, prefix: str) -> tuple[int, list[str]]:
        """The same listing where stat cannot take a directory descriptor (Windows)."""
        ignored, subfolders = 0, []
        try:
            with os.scandir(folder) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError:
            return 0, []
        suffixes = formats.IMAGE_SUFFIXES
        paths, sizes, mtimes = self.paths, self.sizes, self.mtimes
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():
                    if not formats.is_hidden(name):
                        subfolders.append(name)
                    continue
            except OSError:
                continue
            dot = name.rfind(".")
            if dot <= 0 or name[0] == "." or name[dot:].lower() not in suffixes:
                ignored += 1
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue
            paths.append(prefix + name)
            sizes.append(stat.st_size)
            mtimes.append(stat.st_mtime_ns)
        self.state.update(advance=len(entries))
        return ignored, subfolders


def build_index(folder: str | os.PathLike, progress=None, previous: FolderIndex | None = None) -> FolderIndex:
    """List `folder` (names and metadata only); directories unchanged since `previous` are not re-listed.

    Raises DatasetError for a missing folder or a bad layout.
    """
    state = as_state(progress)
    root = Path(folder).expanduser()
    if not root.exists():
        raise DatasetError(f"{root}: no such folder. Check the dataset folder in the project settings.")
    if not root.is_dir():
        raise DatasetError(f"{root}: is a file; choose the folder that holds the class subfolders.")
    state.update(0, 0, "listing files", force=True)
    layout, folders, loose = _class_folders(root)
    class_names = sorted({name for _subset, name, _path in folders})
    class_index = {name: i for i, name in enumerate(class_names)}
    lister = _Lister(state, previous)
    labels, subsets = [], []
    base = len(str(root)) + 1
    for subset, name, path in folders:
        state.check()
        start = len(lister.paths)
        lister.walk(path, path[base:].replace(os.sep, "/") + "/")
        count = len(lister.paths) - start
        labels.append(np.full(count, class_index[name], np.int32))
        subsets.append(np.full(count, -1 if subset is None else SUBSETS.index(subset), np.int8))
    count = len(lister.paths)
    state.update(count, count, "listed", force=True)
    return FolderIndex(root, layout, class_names, lister.paths,
                       np.concatenate(labels) if labels else np.zeros(0, np.int32),
                       np.concatenate(subsets) if subsets else np.zeros(0, np.int8),
                       np.frombuffer(lister.sizes, np.int64), np.frombuffer(lister.mtimes, np.int64),
                       [(subset, name) for subset, name, _path in folders], loose,
                       sum(entry[3] for entry in lister.directories.values()), lister.directories, lister.reused)


# ---- the persistent index ------------------------------------------------------------------
def index_cache_path(folder: Path) -> Path:
    key = hashlib.sha1(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:20]
    return cache_root() / "index" / f"{key}.npz"


def save_index(index: FolderIndex) -> None:
    target = index_cache_path(index.root)
    resolved = index.root.resolve()
    if resolved == target.parent or resolved in target.parents:
        return  # never write inside the dataset
    folders = "\n".join(f"{subset or ''}\t{name}" for subset, name in index.class_folders)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
        with open(temporary, "wb") as handle:
            np.savez(handle, version=np.int64(INDEX_VERSION), root=np.str_(str(resolved)),
                     layout=np.str_(index.layout), classes=np.str_("\n".join(index.class_names)),
                     paths=np.frombuffer("\n".join(index.paths).encode("utf-8"), np.uint8),
                     labels=index.labels, subsets=index.subsets, sizes=index.sizes, mtimes=index.mtimes,
                     folders=np.str_(folders), loose=np.str_("\n".join(index.loose)),
                     ignored=np.int64(index.ignored), directories=np.str_(json.dumps(index.directories)))
        os.replace(temporary, target)
    except OSError:
        pass  # a cache that cannot be written only costs time on the next scan


def load_index(folder: str | os.PathLike) -> FolderIndex | None:
    """The cached index of `folder` as last listed, or None."""
    root = Path(folder).expanduser()
    try:
        with np.load(index_cache_path(root), allow_pickle=False) as data:
            if int(data["version"]) != INDEX_VERSION or str(data["root"]) != str(root.resolve()):
                return None
            text = bytes(data["paths"]).decode("utf-8")
            folders = [line.split("\t", 1) for line in str(data["folders"]).split("\n") if line]
            index = FolderIndex(root, str(data["layout"]), [n for n in str(data["classes"]).split("\n") if n],
                               text.split("\n") if text else [], data["labels"], data["subsets"], data["sizes"],
                               data["mtimes"], [(subset or None, name) for subset, name in folders],
                               [n for n in str(data["loose"]).split("\n") if n], int(data["ignored"]),
                               json.loads(str(data["directories"])))
            if any(len(column) != len(index.paths) for column in (index.labels, index.subsets, index.sizes,
                                                                  index.mtimes)):
                return None
            return index
    except Exception:  # noqa: BLE001 - a damaged cache (bad zip, short file, wrong types) is only ignored
        return None


@dataclass
class IndexRefresh:
    index: FolderIndex
    changed: np.ndarray  # positions in index of new or modified files (what header checks must read)
    removed: int  # files of the previous index that are gone
    from_cache: bool  # a previous index existed


def refresh_index(folder: str | os.PathLike, progress=None, use_cache: bool = True) -> IndexRefresh:
    """List `folder` again (directories unchanged since the cached index are not re-listed) and
    compare with the cached index; store the new one when it changed."""
    previous = load_index(folder) if use_cache else None
    index = build_index(folder, progress, previous)
    changed = index.changed_since(previous)
    removed = 0
    if previous is not None and previous.paths != index.paths:
        current = set(index.paths)
        removed = sum(1 for path in previous.paths if path not in current)
    if use_cache and (previous is None or len(changed) or removed or index.reused_directories != len(
            index.directories) or previous.class_names != index.class_names):
        save_index(index)
    return IndexRefresh(index, changed, removed, previous is not None)
