"""The Inside section: feature maps, filters, saliency, the embedding map and histograms over training.

Takes a source (the project, untrained, or one of its runs) from the project model and the
run store; every TensorFlow computation runs in the inspection helper process
(cnnstudio/inspect/service.py) and arrives as an .npz of plain results that the views draw.
`show_layer(name)` is the slot a card click in the editor calls; `look_at(image, run)` the one the
confusion-cell dialog's "Look inside" reaches through the window (`MainWindow.look_inside`).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.export.images import IMAGE_SUFFIXES
from cnnstudio.gui.panels.common import muted
from cnnstudio.gui.panels.inspect_client import InspectHelper
from cnnstudio.gui.panels.inspect_embedding import EmbeddingView
from cnnstudio.gui.panels.inspect_histograms import HistogramView
from cnnstudio.gui.panels.inspect_maps import MapsView
from cnnstudio.gui.panels.inspect_saliency import SaliencyView

PROJECT = "project"


class InspectPanel(QWidget):
    message = Signal(str)

    def __init__(self, model: Any, runs: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.model, self.runs = model, runs
        self.helper = InspectHelper(self)
        self.helper.progress.connect(self._progress)
        self._folder = tempfile.TemporaryDirectory(prefix="cnnstudio-inspect-")
        self._numbers = itertools.count(1)
        self.image: str | None = None
        self.described: dict[str, Any] | None = None

        self.source = QComboBox()
        self.source.setMinimumWidth(260)
        self.source.setToolTip("The untrained project (random initial weights) or one of its runs")
        self.checkpoint = QComboBox()
        self.checkpoint.addItem("best checkpoint", "best")
        self.checkpoint.addItem("last checkpoint", "last")
        self.pick_image = QPushButton("Image…")
        self.pick_image.setToolTip("Choose an image file (or drop one on this panel)")
        self.pick_image.clicked.connect(self._choose_image)
        self.image_label = muted("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(160)
        self.progress_bar.hide()
        self.status = muted("")
        top = QHBoxLayout()
        top.addWidget(QLabel("Source"))
        top.addWidget(self.source)
        top.addWidget(self.checkpoint)
        top.addWidget(self.pick_image)
        top.addWidget(self.image_label, 1)
        top.addWidget(self.progress_bar)

        self.maps = MapsView(self.request)
        self.saliency = SaliencyView(self.request)
        self.embedding = EmbeddingView(self.request)
        self.histograms = HistogramView()
        self.maps.layer_chosen.connect(self.histograms.select_layer)
        self.embedding.point_chosen.connect(self._point_chosen)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.maps, "Feature maps")
        self.tabs.addTab(self.saliency, "Saliency")
        self.tabs.addTab(self.embedding, "Embedding map")
        self.tabs.addTab(self.histograms, "Histograms")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

        self._unsubscribe = [model.subscribe(self._project_changed), runs.subscribe(self._runs_changed)]
        self.source.currentIndexChanged.connect(lambda _i: self._source_changed())
        self.checkpoint.currentIndexChanged.connect(lambda _i: self._source_changed())
        self._fill_sources()
        self._default_image()

    # ---- sources ---------------------------------------------------------------------------
    def _fill_sources(self) -> None:
        current = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        if self.model.path is not None:
            self.source.addItem("Untrained project (random weights)", (PROJECT, str(self.model.path)))
        for run in self.runs.runs:
            if run.epochs_completed > 0:
                self.source.addItem(f"Run {run.name} ({run.status}, {run.epochs_completed} epochs)",
                                    ("run", str(run.path)))
        index = self.source.findData(current) if current is not None else -1
        if index < 0 and self.source.count():
            index = self.source.count() - 1  # the newest run
        self.source.setCurrentIndex(index)
        self.source.blockSignals(False)
        if self.source.currentData() != current:
            self._source_changed()
        elif self.source.count() == 0:
            self._source_changed()

    def _runs_changed(self, change: Any) -> None:
        self._fill_sources()
        shown = self.source_path
        if self.source_kind == "run" and any(str(path) == shown for path in change.paths):
            self.histograms.set_run(Path(shown))  # a new epoch of the shown run: its histograms grew

    def _project_changed(self, change: Any) -> None:
        if change.kind in ("project", "saved"):
            self._fill_sources()
            if change.kind == "project":
                self._default_image()

    @property
    def source_kind(self) -> str | None:
        data = self.source.currentData()
        return None if data is None else data[0]

    @property
    def source_path(self) -> str | None:
        data = self.source.currentData()
        return None if data is None else data[1]

    def _source_changed(self) -> None:
        self.described = None
        self.checkpoint.setEnabled(self.source_kind == "run")
        run = Path(self.source_path) if self.source_kind == "run" else None
        self.histograms.set_run(run)
        if run is None:
            self.embedding.clear("The embedding map needs a trained run: pick one above.")
        else:
            self.embedding.enable()
        if self.source_path is None:
            self.status.setText("Save the project to inspect its untrained network, or train it to inspect a run.")
            self.maps.set_layers([])
            return
        self.status.setText("Opening the model…")
        self.request("describe", {}, self._described, key="describe")

    def _described(self, answer: dict[str, Any], _out: str) -> None:
        if not answer.get("ok"):
            self.status.setText(answer.get("error", "failed"))
            self.maps.set_layers([])
            return
        self.described = answer
        if self.image is None and answer.get("sample_image"):
            self.set_image(answer["sample_image"])
        notes = " ".join(answer.get("notes") or [])
        self.status.setText(notes)
        self.saliency.set_classes(list(answer.get("classes") or []))
        self.maps.set_layers(list(answer.get("layers") or []))
        self.saliency.refresh()

    # ---- images ----------------------------------------------------------------------------
    def _default_image(self) -> None:
        """The first validation image of the project's stored split (no disk scan)."""
        project = self.model.project
        folder = project.dataset_folder() if hasattr(project, "dataset_folder") else None
        subsets = (project.split or {}).get("subsets") or {}
        for subset in ("val", "test", "train"):
            for relative in subsets.get(subset) or []:
                if folder is not None:
                    self.set_image(str(Path(folder) / relative))
                    return
        self.image_label.setText("No image yet: choose one or drop it here.")

    def set_image(self, path: str) -> None:
        self._label_image(path)
        self.maps.image_changed()
        self.saliency.refresh()

    def _label_image(self, path: str) -> None:
        self.image = path
        self.image_label.setText(Path(path).name)
        self.image_label.setToolTip(path)

    def look_at(self, image: str, run: str | None = None, checkpoint: str = "last") -> bool:
        """Show `image` as seen by `run` (a run directory) at `checkpoint`: the confusion-cell dialog's
        "Look inside", reached through the window. None keeps the source. False: the run is not a source."""
        self._fill_sources()
        index = self.source.currentIndex()
        if run is not None:
            wanted = Path(run).resolve()
            index = next((i for i in range(self.source.count()) if self.source.itemData(i)[0] == "run"
                          and Path(self.source.itemData(i)[1]).resolve() == wanted), -1)
            if index < 0:
                text = f"Run {Path(run).name} cannot be inspected yet: it has no completed epoch."
                self.status.setText(text)
                self.message.emit(text)
                return False
        point = self.checkpoint.findData(checkpoint) if run is not None else self.checkpoint.currentIndex()
        changed = index != self.source.currentIndex() or point != self.checkpoint.currentIndex()
        if changed:
            for box, row in ((self.source, index), (self.checkpoint, point)):
                box.blockSignals(True)
                box.setCurrentIndex(row)
                box.blockSignals(False)
            self._label_image(image)
            self._source_changed()  # the new source's layers arrive, then this image's maps
        else:
            self.set_image(image)
        if self.tabs.currentWidget() not in (self.maps, self.saliency):
            self.tabs.setCurrentWidget(self.maps)
        return True

    def _choose_image(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Image to inspect", str(Path(self.image or ".").parent),
                                              f"Images ({patterns})")
        if path:
            self.set_image(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
                self.set_image(url.toLocalFile())
                event.acceptProposedAction()
                return

    def _point_chosen(self, path: str) -> None:
        """A point of the embedding map: show that image's saliency (and its maps)."""
        self.set_image(path)
        self.tabs.setCurrentWidget(self.saliency)

    # ---- the editor ------------------------------------------------------------------------
    def show_layer(self, name: str) -> bool:
        """Slot for a card click in the editor: show that layer's maps; False if the model lacks it."""
        self.histograms.select_layer(name)
        return self.maps.select_layer(name)

    # ---- the helper ------------------------------------------------------------------------
    def request(self, op: str, payload: dict[str, Any], callback: Callable[[dict[str, Any], str], None],
                key: str | None = None, image: bool = False, run: bool = False) -> bool:
        """Send a request about the current source; False (nothing sent) when a needed input is missing."""
        if self.source_path is None or (image and self.image is None) or (run and self.source_kind != "run"):
            return False
        out = str(Path(self._folder.name) / f"{op}-{next(self._numbers)}.npz")
        full = {"source": self.source_path, "out": out, **payload}
        if self.source_kind == "run":
            full["checkpoint"] = self.checkpoint.currentData()
        if image:
            full["image"] = self.image
        source = (self.source_path, full.get("checkpoint"))

        def answered(answer: dict[str, Any]) -> None:
            if not self.helper.busy:
                self.progress_bar.hide()
            current = (self.source_path, self.checkpoint.currentData() if self.source_kind == "run" else None)
            if source == current:  # an answer for a source no longer shown is dropped
                callback(answer, out)

        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.helper.request(op, full, answered, key=key)
        return True

    def _progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(int(fraction * 100))
        self.progress_bar.setToolTip(message)

    def shutdown(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self.helper.shutdown()
        self._folder.cleanup()


def section(window: Any) -> InspectPanel:
    """The Inside section for the window: the panel, with the editor's card clicks choosing its layer."""
    panel = InspectPanel(window.model, window.runs)
    panel.message.connect(lambda text: window.statusBar().showMessage(text, 10_000))

    def wire(*_: Any) -> None:
        editor = getattr(window, "editor", None)
        if editor is None or getattr(editor, "_inspect_wired", False):
            return
        editor._inspect_wired = True

        def chosen() -> None:
            names = editor.selected()
            if len(names) == 1:
                panel.show_layer(names[0])

        editor.scene.selectionChanged.connect(chosen, Qt.ConnectionType.QueuedConnection)

    wire()
    window.project_changed.connect(wire)
    return panel


if __name__ == "__main__":  # python -m cnnstudio.gui.panels.inspect_panel PROJECT
    import sys

    from cnnstudio.gui.app import _application
    from cnnstudio.project.file import load_project
    from cnnstudio.project.model import ProjectModel
    from cnnstudio.training.runstore import RunStore

    app = _application()
    project = load_project(sys.argv[1])
    panel = InspectPanel(ProjectModel(project), RunStore(project.path))
    panel.resize(1200, 800)
    panel.show()
    code = app.exec()
    panel.shutdown()
    sys.exit(code)
