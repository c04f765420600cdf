"""The Data panel's previews: the split table, the statistics images (mean, normalised,
whitened) and the augmentation grid. Mixed into DataPanel: each computes off the GUI thread
(split, statistics) or in the TensorFlow helper process (augmentation) from the panel's scan
and project, and draws the answer into the panel's widgets."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
from superqt.utils import create_worker

from cnnstudio.data.progress import TaskState
from cnnstudio.gui.panels.common import array_to_pixmap
from cnnstudio.gui.panels.data_settings import fill_grid
from cnnstudio.gui.panels.helper import helper_for

SPLIT_TABLE_CLASSES = 40  # up to this many classes the split table has a row per class
_running_previews = [0]  # preview workers running in this process (the collector is process-wide)


def _previews_started() -> None:
    """While previews run, the objects older than them (the window, the libraries, the scan) are
    left out of the collector's full passes: those passes stop every thread, and with them the
    event loop, for ~60 ms at 300k files (12 ms frozen). Thawed when the last preview ends, so
    cycles among them are still collected afterwards."""
    if _running_previews[0] == 0:
        gc.freeze()
    _running_previews[0] += 1


def _previews_ended() -> None:
    _running_previews[0] = max(_running_previews[0] - 1, 0)
    if _running_previews[0] == 0:
        gc.unfreeze()


class DataPreviews:
    """update_split / update_preprocessing / update_augmentation and their answers; _run and
    _task start the panel's thread work (scan, split, statistics) with a cancel flag."""

    def _run(self, function, *args, done=None, failed=None):
        worker = create_worker(function, *args, _start_thread=False, _ignore_errors=True)  # ours handle them
        failed = failed or (lambda exc: self.summary.setText(str(exc)))
        if done is not None:  # results that arrive while the window closes go nowhere
            worker.returned.connect(lambda result: None if self.closing else done(result))
        worker.errored.connect(lambda exc: None if self.closing else failed(exc))
        worker.finished.connect(lambda: self._run_ended(worker))
        self.workers.append(worker)
        _previews_started()
        worker.start()
        return worker

    def _run_ended(self, worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        _previews_ended()

    def _task(self) -> TaskState:
        """A cancel flag for a preview; shutdown cancels them all."""
        state = TaskState()
        self.tasks = [t for t in getattr(self, "tasks", []) if not t.cancelled][-8:] + [state]
        return state

    def _clear_messages(self) -> None:
        """Forget what the previous folder said, in every tab (split table, statistics and
        previews, augmentation grid): previews still running for it are cancelled."""
        for task in getattr(self, "tasks", []):
            task.cancel()
        self.split_summary.setText("")
        self.pre_note.setText("")
        self.pre_warnings.setText("")
        for label in self.pre_images:
            label.clear()
        fill_grid(self.aug_grid, [], [])
        self.aug_status.setText("")
        self.warnings.setText("")

    def update_split(self) -> None:
        from cnnstudio.gui.panels.data_previews import safe, split_counts

        if self.scan is None:
            return
        self._run(safe, split_counts, self.project, self._task(), None, self.scan, done=self._split_done)

    def update_previews(self) -> None:
        """The split table and the statistics preview, from one pass over the folder (after a scan)."""
        from cnnstudio.gui.panels.data_previews import both_previews, safe

        if self.scan is None:
            return
        self.pre_note.setText("Computing the statistics…")
        self._run(safe, both_previews, self.project, self._task(), self.scan, done=self._previews_done)

    def _previews_done(self, result: dict[str, Any]) -> None:
        self._split_done(result.get("split", result))
        self._preprocessing_done(result.get("preprocessing", result))

    def _split_done(self, result: dict[str, Any]) -> None:
        if "error" in result:
            self.split_summary.setText(f"<span style='color:#d64541'>{result['error']}</span>")
            return
        counts, subsets = result["counts"], ("train", "val", "test")
        classes = result["classes"]
        totals = "".join(f"<td align='right'><b>{sum(counts[s].values()):,}</b></td>" for s in subsets)
        if len(classes) <= SPLIT_TABLE_CLASSES:
            rows = "".join(f"<tr><td>{name}</td>" + "".join(f"<td align='right'>{counts[s][name]}</td>"
                                                            for s in subsets) + "</tr>" for name in classes)
            note = ""
        else:  # a row per class of 1,000 would be a page of rich text: the range per subset instead
            rows = "<tr><td>per class</td>" + "".join(
                f"<td align='right'>{min(counts[s].values()):,}–{max(counts[s].values()):,}</td>"
                for s in subsets) + "</tr>"
            note = f"<p>{len(classes):,} classes: the class table on the left has each one's images.</p>"
        self.split_summary.setText(f"<table cellspacing=6><tr><th></th><th>train</th><th>val</th><th>test</th></tr>"
                                   f"{rows}<tr><td><b>total</b></td>{totals}</tr></table>{note}")

    def update_preprocessing(self) -> None:
        from cnnstudio.gui.panels.data_previews import preprocessing_preview, safe

        if self.scan is None:
            return
        self.pre_note.setText("Computing the statistics…")
        self._run(safe, preprocessing_preview, self.project, self._task(), None, self.scan,
                  done=self._preprocessing_done)

    def _preprocessing_done(self, result: dict[str, Any]) -> None:
        if "error" in result:
            self.pre_note.setText(result["error"])
            self.pre_warnings.setText("")
            return
        self.pre_warnings.setText("\n".join(f"⚠ {w}" for w in result.get("warnings", [])))
        for label, key in zip(self.pre_images, ("mean", "normalized", "whitened"), strict=True):
            if key in result:
                label.setPixmap(array_to_pixmap(result[key], 112))
            else:
                label.setText("—")
        self.pre_note.setText(f"From {result['count']} training images. {result['note']}".strip())
        # The tab's layout keeps the one-line height of "Computing…": ask for the wrapped one.
        self.pre_note.setMinimumHeight(self.pre_note.heightForWidth(max(self.pre_note.width(), 240)))

    def _reseed(self) -> None:
        self.aug_seed += 1
        self.update_augmentation()

    def update_augmentation(self) -> None:
        from cnnstudio.data import input_shape

        summary = self.folder_summary
        if self.scan is None or summary is None or not summary.samples:
            return
        if not self.isVisible():  # the TensorFlow helper starts only once someone looks at the preview
            self._augment_pending = True
            return
        self._augment_pending = False
        try:
            shape = input_shape(self.project)
        except Exception as exc:  # no fixed Input size: say so
            self.aug_status.setText(str(exc))
            return
        picks = list(summary.samples)  # the first usable image of the first classes (found by the scan's worker)
        out = str(Path(self.temp.name) / f"augment-{self.aug_seed}.npz")
        self.aug_status.setText("Augmenting with the training layer…")
        helper_for(self.window()).request(
            "augment", {"images": picks, "shape": list(shape), "resize": self.project.preprocessing["resize"],
                        "settings": dict(self.project.augmentation), "seed": self.aug_seed, "variants": 4,
                        "out": out}, lambda answer: self._augmented(answer, out), key="augment")

    def _augmented(self, answer: dict[str, Any], out: str) -> None:
        if not answer.get("ok"):
            self.aug_status.setText(f"Preview unavailable: {answer.get('error')}")
            return
        data = np.load(out)
        fill_grid(self.aug_grid, data["originals"], data["variants"])
        self.aug_status.setText("Left: the original; then random variants, as training sees them.")
        self.augmented_count = int(data["variants"].shape[0] * data["variants"].shape[1])
