"""Thumbnails decoded off the GUI thread (superqt generator worker), cached, newest requests first.

Widgets ask for paths as they become visible; the worker drains the queue (most recent
first, so scrolling fast loads what is on screen), yielding QImages in small batches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from superqt.utils import create_worker

from cnnstudio.gui.panels.common import array_to_image

CACHE_SIZE = 4000
THUMB = 96


def load_thumbnail(path: str, size: int) -> QImage:
    """A QImage of at most size×size pixels (safe in a worker thread: QImage, not QPixmap)."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))
            image = ImageOps.exif_transpose(image) or image
            image = image.convert("RGB")
            image.thumbnail((size, size))
            if max(image.size) < size // 2:  # tiny images (digits, CIFAR): enlarge, pixels kept sharp
                factor = size // max(image.size)
                image = image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
            return array_to_image(np.asarray(image, dtype=np.uint8))
    except Exception:  # unreadable: an empty image, the grid shows a blank tile
        return QImage()


class ThumbnailLoader(QObject):
    loaded = Signal(list)  # [(path, QPixmap)]

    def __init__(self, size: int = 96, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self.cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._queue: list[str] = []
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._worker = None
        self.closed = False

    def get(self, path: str) -> QPixmap | None:
        pixmap = self.cache.get(path)
        if pixmap is None:
            self.request([path])
        return pixmap

    def request(self, paths: list[str]) -> None:
        with self._lock:
            for path in paths:
                if path not in self.cache and path not in self._queued:
                    self._queue.append(path)
                    self._queued.add(path)
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        if self._worker is not None or self.closed or not self._queue:
            return
        worker = create_worker(self._work, _start_thread=False)
        worker.yielded.connect(self._deliver)
        worker.finished.connect(self._worker_done)
        self._worker = worker
        worker.start()

    def _work(self):
        batch = []
        while True:
            with self._lock:
                if not self._queue:
                    break
                path = self._queue.pop()  # newest first
            batch.append((path, load_thumbnail(path, self.size)))
            if len(batch) >= 16:
                yield batch
                batch = []
        if batch:
            yield batch

    def _deliver(self, batch) -> None:
        out = []
        for path, image in batch:
            pixmap = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
            self.cache[path] = pixmap
            self._queued.discard(path)
            out.append((path, pixmap))
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        self.loaded.emit(out)

    def _worker_done(self) -> None:
        self._worker = None
        self._ensure_worker()

    def forget(self) -> None:
        """Drop queued requests (the view changed)."""
        with self._lock:
            self._queue.clear()
            self._queued.clear()

    def shutdown(self) -> None:
        self.closed = True
        self.forget()
        worker = self._worker  # kept referenced: a collected worker deletes the signals its thread emits
        if worker is not None:
            worker.quit()  # the generator stops at its next yield (at most one batch)
            QThreadPool.globalInstance().waitForDone(5000)


class ThumbnailModel(QAbstractListModel):
    """The folder's image files, one row per index position in `rows` (a numpy array): paths are
    built only when the view asks for a row; icons load lazily off the GUI thread."""

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.loader = loader
        self.root = ""
        self.paths: Sequence[str] = ()  # the index's relative paths (shared, not copied)
        self.class_names: list[str] = []
        self.labels = np.zeros(0, np.int32)
        self.rows = np.zeros(0, np.int32)  # index positions shown, in order
        self.pending: dict[str, int] = {}  # path -> row of thumbnails asked for and not loaded yet
        blank = QPixmap(THUMB, THUMB)
        blank.fill(QColor(0, 0, 0, 0))
        self.blank = blank
        loader.loaded.connect(self._loaded)

    def set_files(self, root: str | Path, paths: Sequence[str], class_names: list[str], labels: np.ndarray,
                  rows: np.ndarray) -> None:
        """Show `rows` (positions into `paths` and `labels`); nothing per file is built here."""
        self.beginResetModel()
        self.loader.forget()
        self.pending.clear()
        self.root, self.paths, self.class_names, self.labels, self.rows = str(root), paths, class_names, labels, rows
        self.endResetModel()

    def clear(self) -> None:
        self.set_files("", (), [], np.zeros(0, np.int32), np.zeros(0, np.int32))

    def path(self, row: int) -> str:
        return f"{self.root}/{self.paths[int(self.rows[row])]}"

    def class_name(self, row: int) -> str:
        return self.class_names[int(self.labels[int(self.rows[row])])]

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = index.row()
        if role == Qt.ItemDataRole.DecorationRole:
            path = self.path(row)
            pixmap = self.loader.get(path)
            if pixmap is None:
                self.pending[path] = row
            return pixmap or self.blank
        if role == Qt.ItemDataRole.DisplayRole:
            return self.paths[int(self.rows[row])].rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.path(row)}\nclass: {self.class_name(row)}"
        return None

    def _loaded(self, batch) -> None:
        rows = [self.pending.pop(path) for path, _pixmap in batch if path in self.pending]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [Qt.ItemDataRole.DecorationRole])
