"""The Data panel's folder work: index first, header checks after, full decode on request.

Mixed into DataPanel. One thread worker per task runs cnnstudio.data.summary.load_folder: it
yields the folder index with its summary (shown at once: class table, chart, counts, the
thumbnail grid), then the scan with its summary (unusable files, sizes, warnings). Everything
heavy is computed in that thread; the GUI thread only hands prepared arrays and lists to the
views. A result from a task that was cancelled or replaced is ignored.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget
from superqt.utils import create_worker

from cnnstudio.data.progress import TaskCancelled, TaskState
from cnnstudio.data.summary import FolderSummary

# Header-check threads in the window: one per two cores. More hide disk latency on a cold folder,
# but header checks are mostly Python, each thread queues for the GIL and the GUI thread waits
# behind all of them: on 2 cores and 100k files, 8 threads stalled the window 0.9 s, 2 threads
# 0.16 s, 1 thread 0.06 s and scanned fastest (benchmarks/gui_large_folder.py).
SCAN_THREADS = max(1, (os.cpu_count() or 2) // 2)


class AfterPaint(QObject):
    """Calls `callback` once, right after `widget`'s next paint (or at once if it is hidden; after
    `limit_ms` at the latest)."""

    def __init__(self, widget: QWidget, callback, limit_ms: int = 1000):
        super().__init__(widget)
        self.widget, self.callback, self.done = widget, callback, False
        if not widget.isVisible():
            self._fire()
            return
        widget.installEventFilter(self)
        QTimer.singleShot(limit_ms, self._fire)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and not self.done:
            QTimer.singleShot(0, self._fire)  # the paint itself runs first
        return False

    def _fire(self) -> None:
        if not self.done:
            self.done = True
            self.widget.removeEventFilter(self)
            self.callback()


class DataScanViews:
    """start_scan / verify_images / cancel and what their results show."""

    index: Any = None  # the folder's FolderIndex (shared with the scan: scan.index)
    folder_summary: FolderSummary | None = None
    verifying = False
    previews_due = False  # a scan arrived; its previews start once it is painted
    _index_shown = threading.Event()  # replaced per task: the GUI sets it once the index is on screen

    # ---- tasks -----------------------------------------------------------------------------------
    def start_scan(self, verify: bool = False) -> None:
        """List the folder (shown at once), then check every file's header (or decode it in full
        when `verify`, reusing the listing) in the background."""
        from cnnstudio.data.summary import load_folder

        folder = self.project.dataset_folder()
        if folder is None:
            return
        self.cancel(quiet=True)
        state = TaskState(self._emit_progress, min_interval=0.1)
        self.state, self.verifying = state, verify
        index = self.index if verify and self.index is not None and self.index.root == folder else None
        self._set_busy(True)
        self._progress(0, 0, "decoding images" if verify else "listing files")
        if index is None:
            self.summary.setText(f"Listing {folder}…")
        self._index_shown = threading.Event()
        worker = create_worker(load_folder, folder, state, verify, index, self._index_shown, SCAN_THREADS,
                               _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda part: self._arrived(state, part))
        worker.errored.connect(lambda exc: self._task_failed(state, exc))
        worker.finished.connect(lambda: self.workers.remove(worker) if worker in self.workers else None)
        self.workers.append(worker)
        worker.start()

    def verify_images(self) -> None:
        """Decode every image in full (slower than the header checks, catches damaged pixel data)."""
        if self.scan is not None:
            self.start_scan(verify=True)

    def cancel(self, quiet: bool = False) -> None:
        """Stop the running scan or verification; what is shown stays (a verification keeps the
        header checks' result, and its decoded files are cached: the next one resumes)."""
        state = self.state
        if state is None:
            return
        done, total = state.done, state.total
        state.cancel()
        self._index_shown.set()  # a task waiting for the index to show goes on to see the cancel
        self.state = None
        self._set_busy(False)
        if quiet or self.closing:
            return
        if self.verifying:
            self.summary.setText(f"Verification cancelled after {done:,} of {total:,} files; the result of the "
                                 "header checks is shown. Verify all images again to go on from there.")
        elif self.folder_summary is not None:
            self.summary.setText(f"Header checks cancelled: the folder listing is shown ({self.folder_summary.listed:,}"
                                 " files, unusable files not known yet). Rescan to check them.")
        else:
            self.summary.setText("Scan cancelled by the user; nothing was changed.")

    def _emit_progress(self, state: TaskState) -> None:
        """Called in the scan's thread: once the panel is shutting down, nothing is emitted, so a
        late update cannot reach a signal whose object Qt has already deleted."""
        if not self.closing and state is self.state:
            self.progressed.emit(state.done, state.total, state.message)

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{message} %v/%m" if total else f"{message}…")

    def _task_failed(self, state: TaskState, exc: Exception) -> None:
        if self.closing or state is not self.state:
            return  # cancelled or replaced: cancel() said so already
        self.state = None
        self._set_busy(False)
        self.summary.setText(str(exc) if not isinstance(exc, TaskCancelled) else "Scan cancelled by the user.")

    def _arrived(self, state: TaskState, part: tuple[str, Any, FolderSummary]) -> None:
        if self.closing or state is not self.state:
            return
        kind, result, summary = part
        if kind == "index":
            self.index = result
            self._show_summary(summary)
            AfterPaint(self.thumbs.viewport(), self._index_shown.set)  # the header checks start then
            return
        self.state = None
        self.scan = result
        self.index = getattr(result, "index", None) or self.index
        self._set_busy(False)
        self._show_summary(summary)
        self.previews_due = True
        QTimer.singleShot(0, self._start_previews)  # once the result is painted (they compete for the GIL)

    def _start_previews(self) -> None:
        self.previews_due = False
        if self.closing or self.scan is None:
            return
        self.update_previews()
        self.update_augmentation()

    # ---- what the panel shows --------------------------------------------------------------------
    def _show_summary(self, summary: FolderSummary | None) -> None:
        """Hand a prepared summary to the views (no per-file work here)."""
        previous = self.folder_summary
        self.folder_summary = summary
        self.classes_view.show_summary(summary)
        label = self._chosen_class()
        keep = previous is not None and summary is not None and previous.class_names == summary.class_names
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        if summary is not None:
            self.class_filter.addItems(["All classes"] + [f"{name} ({int(count):,})" for name, count in
                                                          zip(summary.class_names, summary.counts, strict=True)])
            if keep and label is not None:
                self.class_filter.setCurrentIndex(label + 1)
        else:
            self.class_filter.addItem("All classes")
        self.class_filter.blockSignals(False)
        if summary is None:
            self.model.clear()
            self.thumb_count.setText("")
            self.summary.setText("No folder scanned yet." if not self.project.dataset.get("folder") else "")
            self.warnings.setText("")
            self.recipe_hint.show_for(None)
            return
        self._fill_thumbnails()
        self.summary.setText(self._summary_text(summary))
        self.warnings.setText("\n".join(f"⚠ {w}" for w in summary.warnings) or (summary.problem or ""))
        if summary.scanned:
            self.recipe_hint.show_for(dict(zip(summary.class_names, summary.counts.tolist(), strict=True)))

    @staticmethod
    def _summary_text(summary: FolderSummary) -> str:
        classes = len(summary.class_names)
        where = f"({summary.layout} layout)" if summary.layout else ""
        if not summary.scanned:
            return (f"<b>{summary.listed:,}</b> files in <b>{classes:,}</b> classes {where}; checking the images "
                    "in the background…")
        sizes = ", ".join(f"{size} ({count:,})" for size, count in summary.sizes[:3])
        more = f" and {summary.distinct_sizes - 3:,} more" if summary.distinct_sizes > 3 else ""
        checked = "every image decoded" if summary.verified else "headers checked"
        return (f"<b>{summary.shown:,}</b> images in <b>{classes:,}</b> classes {where}, "
                f"{len(summary.unusable):,} unusable ({checked}). Sizes: {sizes or 'none'}{more}.")

    def _chosen_class(self) -> int | None:
        index = self.class_filter.currentIndex()
        return index - 1 if index > 0 else None

    def _fill_thumbnails(self) -> None:
        summary = self.folder_summary
        if summary is None:
            return
        label = self._chosen_class()
        rows = summary.class_rows(label)
        self.model.set_files(summary.root, summary.paths, summary.class_names, summary.labels, rows)
        self.classes_view.select_class(label)
        state = "" if summary.scanned else " listed (unusable ones not known yet)"
        self.thumb_count.setText(f"{len(rows):,} image(s){state}")
