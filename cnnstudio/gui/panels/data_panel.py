"""The Data section: folder index shown at once, header checks and full decodes in the background
(cancellable), class table and chart, thumbnails, unusable files; split, preprocessing and
augmentation settings with live previews.

Scanning, splitting and statistics are cnnstudio.data's; augmentation variants come from the
training layer, computed in the TensorFlow helper process. Settings are edited through the
project model (each edit one undo step) and the panel follows the model's changes (another
project, an undo, a recipe). `self.model` is the thumbnails' list model; the project model is
`self.project_model`. Alone: `python -m cnnstudio.gui.panels.data [PROJECT] [--screenshot OUT]`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.data.progress import TaskState
from cnnstudio.errors import StudioError
from cnnstudio.gui.panels.common import (
    box,
    muted,
    scrolled,
)
from cnnstudio.gui.panels.data_preview_views import DataPreviews
from cnnstudio.gui.panels.data_scan_views import DataScanViews
from cnnstudio.gui.panels.data_settings import AugmentationForm
from cnnstudio.gui.panels.data_summary import ClassesView
from cnnstudio.gui.panels.recipe_dialog import RecipeSuggestion
from cnnstudio.gui.panels.thumbs import THUMB, ThumbnailLoader, ThumbnailModel
from cnnstudio.gui.widgets.param_form import ParamForm
from cnnstudio.project import schema
from cnnstudio.project.commands import Composite, SetField, SetSetting
from cnnstudio.project.model import Change, ProjectModel
from cnnstudio.training.runstore import RunStore

SECTIONS = ("dataset", "preprocessing", "augmentation")  # the project sections this panel edits
CURATION = ("split", "exclusions", "relabels")  # project fields that change the split preview


class DataPanel(DataScanViews, DataPreviews, QWidget):
    progressed = Signal(int, int, str)  # emitted from worker threads; queued to the GUI thread
    message = Signal(str)  # for the window's status bar

    def __init__(self, model: ProjectModel, runs: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.project_model = model
        self.runs = runs
        self._own_edit = False
        self.shown_folder = ""  # the project's dataset.folder value the panel shows
        self.forms: dict[str, QWidget] = {}
        self.scan = None
        self.state: TaskState | None = None
        self.workers: list[Any] = []
        self.aug_seed = 0
        self.closing = False  # set by shutdown: workers still finishing must not call back
        self.temp = tempfile.TemporaryDirectory(prefix="cnnstudio-preview-")
        self.loader = ThumbnailLoader(THUMB, self)
        self.progressed.connect(self._progress)
        self._build()
        self._unsubscribe = model.subscribe(self._model_changed)
        self.set_project()

    @property
    def project(self):
        return self.project_model.project

    # ---- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        folder_frame, folder_box = box("Image folder", tip="One subfolder per class, or train/ val/ test/. "
                                       "Drop a folder onto the window to use it.")
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(placeholderText="drop a folder here or choose one")
        self.folder_edit.editingFinished.connect(lambda: self.set_folder(self.folder_edit.text()))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_folder)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.clicked.connect(lambda: self.start_scan())
        self.rescan_button.setToolTip("List the folder again and check what changed (unchanged files are "
                                      "not read again).")
        self.verify_button = QPushButton("Verify all images")
        self.verify_button.setToolTip("Decode every image in full, in the background: slower than the header "
                                      "checks, and catches damaged pixel data. Cancel keeps what is done; the "
                                      "next verification goes on from there.")
        self.verify_button.clicked.connect(self.verify_images)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(choose)
        row.addWidget(self.rescan_button)
        folder_box.addLayout(row)
        folder_box.addWidget(self.verify_button, alignment=Qt.AlignmentFlag.AlignLeft)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        folder_box.addLayout(progress_row)
        self.summary = muted()
        folder_box.addWidget(self.summary)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b07800;")
        self.recipe_hint = RecipeSuggestion(lambda: self.project_model)
        folder_box.addWidget(self.warnings)
        folder_box.addWidget(self.recipe_hint)
        column.addWidget(folder_frame)
        self.classes_view = ClassesView()
        self.classes_view.class_chosen.connect(lambda label: self.class_filter.setCurrentIndex(label + 1))
        self.class_table, self.chart = self.classes_view.class_table, self.classes_view.chart
        self.unusable = self.classes_view.unusable
        column.addWidget(self.classes_view, 1)
        splitter.addWidget(left)

        centre = QWidget()
        centre_column = QVBoxLayout(centre)
        centre_column.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.class_filter = QComboBox()
        self.class_filter.currentIndexChanged.connect(lambda _i: self._fill_thumbnails())
        self.thumb_count = muted()
        head.addWidget(QLabel("Show"))
        head.addWidget(self.class_filter)
        head.addWidget(self.thumb_count, 1)
        thumbs_frame, thumbs_box = box("Thumbnails")
        thumbs_box.addLayout(head)
        self.thumbs = QListView()
        self.thumbs.setViewMode(QListView.ViewMode.IconMode)
        self.thumbs.setIconSize(QSize(THUMB, THUMB))
        self.thumbs.setGridSize(QSize(THUMB + 18, THUMB + 30))
        self.thumbs.setUniformItemSizes(True)
        self.thumbs.setLayoutMode(QListView.LayoutMode.Batched)
        self.thumbs.setBatchSize(500)
        self.thumbs.setResizeMode(QListView.ResizeMode.Adjust)
        self.thumbs.setMovement(QListView.Movement.Static)
        self.model = ThumbnailModel(self.loader, self)
        self.thumbs.setModel(self.model)
        thumbs_box.addWidget(self.thumbs, 1)
        centre_column.addWidget(thumbs_frame)
        splitter.addWidget(centre)

        self.settings_tabs = QTabWidget()
        self.split_host, self.pre_host, self.aug_host = QWidget(), QWidget(), QWidget()
        for host, title in ((self.split_host, "Split"), (self.pre_host, "Preprocessing"),
                            (self.aug_host, "Augmentation")):
            QVBoxLayout(host).setContentsMargins(4, 4, 4, 4)
            self.settings_tabs.addTab(scrolled(host), title)
        self.split_summary = muted()
        self.pre_images = [QLabel() for _ in range(3)]
        self.pre_preview = QWidget()  # built once: the settings forms are rebuilt per project
        row = QHBoxLayout(self.pre_preview)
        row.setContentsMargins(0, 8, 0, 0)
        for label, title in zip(self.pre_images, ("Mean image", "Normalised sample", "ZCA-whitened"), strict=True):
            cell = QVBoxLayout()
            label.setFixedSize(112, 112)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.addWidget(label)
            caption = muted(title)
            caption.setWordWrap(False)  # a wrapping caption under-reports its height: the note below overlapped it
            cell.addWidget(caption)
            row.addLayout(cell)
        row.addStretch(1)
        self.pre_note = muted()
        self.pre_warnings = QLabel(objectName="Warning")
        self.pre_warnings.setWordWrap(True)
        self.pre_warnings.setStyleSheet("color: #b07800;")
        self.aug_grid = QGridLayout()
        self.aug_grid.setSpacing(4)
        self.aug_status = muted()
        right = QWidget()
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(0, 0, 0, 0)
        right_column.addWidget(self.settings_tabs, 3)
        preview_frame, preview_box = box("Augmentation preview", tip="Random variants from the training "
                                         "layer itself, updated as you move the sliders.")
        grid_host = QWidget()
        grid_host.setLayout(self.aug_grid)
        preview_box.addWidget(grid_host)
        preview_box.addWidget(self.aug_status)
        shuffle = QPushButton("New random variants")
        shuffle.clicked.connect(self._reseed)
        preview_box.addWidget(shuffle, alignment=Qt.AlignmentFlag.AlignLeft)
        right_column.addWidget(preview_frame, 2)
        splitter.addWidget(right)
        splitter.setSizes([360, 640, 420])
        splitter.setStretchFactor(1, 1)
        self._set_busy(False)

    # ---- project and folder --------------------------------------------------------------------
    def set_project(self) -> None:
        """Show the model's project (at start, and when another project is opened)."""
        self._build_settings()
        self._show_folder()

    def _show_folder(self, chosen: bool = False) -> None:
        """The project's folder: the old folder's results go at once, the folder is scanned (a
        folder the user just `chosen` even when missing, so the scan says what is wrong)."""
        self.shown_folder = self.project.dataset.get("folder", "")
        folder = self.project.dataset_folder()
        self.folder_edit.setText(str(folder) if folder else "")
        self.cancel(quiet=True)
        self.scan = self.index = None
        self._clear_messages()
        self._show_summary(None)
        if folder is not None and (chosen or folder.is_dir()):
            self.start_scan()

    def _clear(self, host: QWidget) -> QVBoxLayout:
        layout = host.layout()
        while layout.count():
            item = layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget not in (self.split_summary, self.pre_note, self.pre_warnings,
                                                     self.pre_preview):
                widget.hide()  # at once: deleteLater waits for the event loop
                widget.deleteLater()
        return layout

    def _build_settings(self, sections: tuple[str, ...] = SECTIONS) -> None:
        """(Re)build the forms of `sections` from the project's current values."""
        p = self.project
        if "dataset" in sections:
            layout = self._clear(self.split_host)
            split_form = ParamForm(tuple(s for s in schema.DATASET if s.name != "folder"), p.dataset,
                                   rules=lambda values: schema.rule_problems("dataset", values), where="Data › Split")
            split_form.changed.connect(lambda n, v: self._setting("dataset", n, v))
            layout.addWidget(split_form)
            layout.addWidget(self.split_summary)
            layout.addStretch(1)
            self.forms["dataset"] = split_form
        if "preprocessing" in sections:
            layout = self._clear(self.pre_host)
            pre_form = ParamForm(schema.PREPROCESSING, p.preprocessing, where="Data › Preprocessing")
            pre_form.changed.connect(lambda n, v: self._setting("preprocessing", n, v))
            layout.addWidget(pre_form)
            layout.addWidget(self.pre_preview)
            layout.addWidget(self.pre_note)
            layout.addWidget(self.pre_warnings)
            layout.addStretch(1)
            self.forms["preprocessing"] = pre_form
        if "augmentation" in sections:
            layout = self._clear(self.aug_host)
            self.aug_form = AugmentationForm(p.augmentation)
            self.aug_form.changed.connect(lambda n, v: self._setting("augmentation", n, v))
            layout.addWidget(self.aug_form)
            layout.addStretch(1)
            self.forms["augmentation"] = self.aug_form

    def _setting(self, section: str, name: str, value: Any) -> None:
        """An edit in this panel's forms: one undo step on the project model (the form already
        shows the value, so it is not rebuilt; the previews follow through _model_changed)."""
        self._own_edit = True
        try:
            self.project_model.set_setting(section, name, value)
        except StudioError as exc:
            self.message.emit(str(exc))
        finally:
            self._own_edit = False

    def _model_changed(self, change: Change) -> None:
        if self.closing:
            return
        if change.kind == "project":
            self.set_project()
        elif change.kind == "settings" and change.section in (*SECTIONS, ""):
            sections = (change.section,) if change.section else SECTIONS
            if not self._own_edit and self.shown_folder != self.project.dataset.get("folder", ""):
                self._build_settings(sections)
                self._show_folder()  # an undone folder choice (or a recipe's): scan the folder in use
                return
            if not self._own_edit:
                self._build_settings(sections)  # undo, redo, a recipe: the forms show the values in use
            self._update_previews(sections)
        elif change.kind == "fields" and change.key in (*CURATION, ""):
            self.update_split()

    def _update_previews(self, sections: tuple[str, ...]) -> None:
        if "dataset" in sections:
            self.update_split()
        if "preprocessing" in sections:
            self.update_preprocessing()
        if "preprocessing" in sections or "augmentation" in sections:
            self.update_augmentation()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Image folder", self.folder_edit.text())
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        folder = str(folder).strip()
        if not folder or folder == self.project.dataset.get("folder"):
            return
        commands = [SetSetting("dataset", "folder", folder), SetField("split", None)]  # a new folder, a new split
        if self.project.path is None:
            # An unsaved project (the sample on first launch) pointed at another folder is that
            # folder's project now: Start must not save it under the sample's name.
            commands.append(SetField("name", Path(folder).name or "untitled"))
        self.scan = None  # nothing previews the old folder's scan with the new settings
        self._own_edit = True
        try:
            self.project_model.push(Composite(f"Use image folder {Path(folder).name or folder}", commands))
        except StudioError as exc:
            self.message.emit(str(exc))
        finally:
            self._own_edit = False
        self._show_folder(chosen=True)

    # ---- background work -----------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.rescan_button.setEnabled(not busy)
        self.verify_button.setEnabled(not busy and self.scan is not None)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if getattr(self, "_augment_pending", False):
            self.update_augmentation()

    def busy(self) -> bool:
        helper = getattr(self.window(), "_panels_helper", None)
        return bool(self.workers) or self.previews_due or (helper is not None and helper.busy)

    def wait_ready(self, timeout_s: float) -> bool:
        """Process events until scans and previews are done (screenshots, tests)."""
        import time

        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if not self.busy():
                QApplication.processEvents()  # the previews' new labels show on the next pass
                return True
            time.sleep(0.02)
        return False

    def shutdown(self) -> None:
        self.closing = True
        self._unsubscribe()
        self.cancel()
        self.loader.shutdown()
        for task in getattr(self, "tasks", []):
            task.cancel()
        for worker in list(self.workers):
            worker.quit()
        QThreadPool.globalInstance().waitForDone(30_000)  # scans see the cancel flag within a file
        if self.window() is self:  # alone (no window owns the helper): end it here
            helper = getattr(self, "_panels_helper", None)
            if helper is not None:
                helper.shutdown()
        self.temp.cleanup()


if __name__ == "__main__":
    from cnnstudio.gui.app import preview_panel

    raise SystemExit(preview_panel(DataPanel))
