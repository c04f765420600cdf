"""Scan an image folder: classes, usable images, unusable files with reasons, duplicates.

Pure Pillow + numpy. Files are only read: nothing in the folder is moved, deleted or
written. The folder index (index.py: names, labels, sizes) comes first; header checks
(or full decodes with `verify`) then run in a thread pool (file reads, decoding and hashing
release the GIL) over the files the scan cache (cache.py) does not already know, saving
their progress every few seconds so a cancelled or killed scan resumes where it stopped.
The result is columnar (scan_result.py).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.data import cache, formats
from cnnstudio.data.cache import ScanColumns
from cnnstudio.data.index import FolderIndex, build_index
from cnnstudio.data.progress import TaskState, as_state
from cnnstudio.data.scan_result import (
    IMBALANCE_WARNING,
    ImageRecord,
    ImageRecords,
    ScanResult,
    duplicate_groups,
    leakage_groups,
)
from cnnstudio.errors import DatasetError

__all__ = ["IMBALANCE_WARNING", "ImageRecord", "ImageRecords", "ScanResult", "duplicate_groups",
           "leakage_groups", "scan_folder"]

SAVE_INTERVAL = 5.0  # seconds of checking between two saves of the scan cache (kill -9 loses at most this)
BATCH = 64  # files per thread task at most
CHECKING, VERIFYING = "checking images", "verifying images (full decode)"


def _inspect_entry(path: str, verify: bool, max_pixels: int) -> formats.ImageInfo | str:
    """One file's header check (or full decode): its ImageInfo, or the reason it cannot be used."""
    try:
        return formats.inspect_file(path, verify=verify, max_pixels=max_pixels)
    except formats.UnusableImage as exc:
        return str(exc)


def scan_folder(
    folder: str | os.PathLike,
    verify: bool = False,
    progress: TaskState | Callable[[TaskState], Any] | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    max_pixels: int = formats.DEFAULT_MAX_PIXELS,
    index: FolderIndex | None = None,
    save_interval: float = SAVE_INTERVAL,
) -> ScanResult:
    """Scan `folder` (read-only). `verify` decodes every image fully (slower, catches more).

    `index`: the folder's listing when the caller already has it (`refresh_index(folder).index`),
    else listed here. Files the scan cache knows (same size and mtime; fully decoded when
    `verify`) are not read again. Cancel with `state.cancel()` (or Ctrl-C): TaskCancelled
    (KeyboardInterrupt) is raised after the files checked so far are saved, and the next scan
    checks only the others; progress is also saved every `save_interval` seconds.

    Threads: scan_folder and index.refresh_index may run in a worker thread (the Data panel
    does); the callback of `progress` is then called in that thread, at most every
    `state.min_interval` seconds, and `state.cancel()` may be called from any thread. They
    touch no shared state but the cache files (written atomically, temp file + rename) and
    the process-wide registry of TensorFlow-decodable files (formats.remember_native_folder,
    one dict assignment). The returned ScanResult and its index are not changed afterwards:
    hand them to the GUI thread as they are. Two scans of one folder at once are safe but
    waste work (the later save wins the cache).
    """
    state = as_state(progress)
    root = Path(folder).expanduser()
    if index is None:
        index = build_index(root, state)  # names, labels, sizes: metadata only, no file opened
    _check_layout(root, index)
    columns = cache.load_scan_cache(root, index) if use_cache else ScanColumns.empty(len(index))
    _check_files(root, index, columns, verify, state, use_cache, workers, max_pixels, save_interval)
    usable = columns.usable()
    unusable = np.flatnonzero(columns.reason >= 0)
    unreadable = [(index.paths[p], columns.reasons[columns.reason[p]]) for p in unusable.tolist()]
    in_train = usable & (index.subsets <= 0)  # no subset folders (-1) or train/ (0)
    has_images = np.bincount(index.labels[in_train], minlength=len(index.class_names)) > 0
    empty = [name for name, found in zip(index.class_names, has_images.tolist(), strict=True) if not found]
    formats.remember_native_folder(root, index.paths, columns.native & usable, columns.heights, columns.widths)
    total = len(index)
    state.update(total, total, "done", force=True)
    return ScanResult(root, index.layout, list(index.class_names), index, usable, columns.widths, columns.heights,
                      columns.mode_codes, columns.mode_names, columns.format_codes, columns.format_names,
                      columns.digests, columns.native, unreadable, index.ignored, list(index.loose), empty, verify)


def _check_layout(root: Path, index: FolderIndex) -> None:
    if index.layout != "split":
        return
    train_classes = {name for subset, name in index.class_folders if subset == "train"}
    stray = sorted(set(index.class_names) - train_classes)
    if stray:
        raise DatasetError(f"{root}: class '{stray[0]}' appears in val/ or test/ but not in train/. "
                           "Every class needs training images.")


class _Saver:
    """Saves the scan cache every `interval` seconds, and never spends more than ~5 % of the time on it."""

    def __init__(self, root: Path, index: FolderIndex, columns: ScanColumns, enabled: bool, interval: float):
        self.root, self.index, self.columns, self.enabled, self.interval = root, index, columns, enabled, interval
        self.next = time.monotonic() + interval

    def maybe(self) -> None:
        if self.enabled and time.monotonic() >= self.next:
            self.now()

    def now(self) -> None:
        if not self.enabled:
            return
        started = time.monotonic()
        cache.save_scan_cache(self.root, self.index, self.columns)
        finished = time.monotonic()
        # At most ~5 % of the time goes to saving (a 1M-file cache takes a fraction of a second);
        # an interval of 0 saves after every file.
        self.next = finished + (max(self.interval, 20 * (finished - started)) if self.interval > 0 else 0)


def _check_files(root: Path, index: FolderIndex, columns: ScanColumns, verify: bool, state: TaskState,
                 use_cache: bool, workers: int | None, max_pixels: int, save_interval: float) -> None:
    """Read the files `columns` does not know yet, in a thread pool, in listing order."""
    todo = columns.needs_check(verify)
    total = len(index)
    state.update(total - len(todo), total, VERIFYING if verify else CHECKING, force=True)
    if not len(todo):
        if use_cache and columns.stale and len(index):
            cache.save_scan_cache(root, index, columns)  # files were removed: keep the cache aligned
        return
    # Reading releases the GIL, parsing headers does not: a few threads per core overlap reads on a
    # cold disk; more only fight over the GIL (measured on 2 cores, warm: 26k/s with 1, 19k/s with 4,
    # 11k/s with 8).
    workers = workers or min(16, (os.cpu_count() or 2) * 2)
    # Files go to the threads in batches: a future per file costs more than checking a small PNG.
    batch = max(1, min(BATCH, len(todo) // (workers * 4)))
    base, paths = str(root), index.paths
    saver = _Saver(root, index, columns, use_cache, save_interval)
    batches = (todo[start:start + batch].tolist() for start in range(0, len(todo), batch))
    pending: deque = deque()  # a bounded window of futures: a million at once would cost ~1 KB each

    def submit() -> None:
        positions = next(batches, None)
        if positions is not None:
            pending.append((positions, pool.submit(_inspect_batch, [os.path.join(base, paths[p]) for p in positions],
                                                   verify, max_pixels)))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for _ in range(workers * 2):
                submit()
            while pending:
                state.check()
                positions, future = pending[0]
                outcomes = future.result()
                pending.popleft()
                submit()
                for done, (position, outcome) in enumerate(zip(positions, outcomes, strict=True)):
                    if done:
                        state.check()
                    columns.store(position, outcome, verify)
                    saver.maybe()
                    state.update(advance=1)
        except BaseException:
            # Batches the threads already finished are kept too: an interrupt loses only work in flight.
            for positions, future in pending:
                if future.cancel() or not future.done() or future.exception() is not None:
                    continue
                for position, outcome in zip(positions, future.result(), strict=True):
                    columns.store(position, outcome, verify)
                state.update(advance=len(positions))
            saver.now()  # resumable: the next scan checks only the files not done yet
            raise
    saver.now()


def _inspect_batch(paths: list[str], verify: bool, max_pixels: int) -> list[formats.ImageInfo | str]:
    return [_inspect_entry(path, verify, max_pixels) for path in paths]
