"""The main window: sections rail, menus, status totals, and the project's life cycle.

It owns the project model (one undo history for graph and settings edits) and the run store;
sections take those, not the window. A section is built the first time it is shown.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.graph.analysis import Analysis, human_bytes, human_count, training_memory
from cnnstudio.gui import projects
from cnnstudio.gui.editor.editor import ArchitectureEditor
from cnnstudio.gui.sections import ICONS, SECTIONS, Sections
from cnnstudio.gui.window_menus import RecoveryBar, build_menus
from cnnstudio.project.file import Project, load_project
from cnnstudio.project.model import Change, ProjectModel
from cnnstudio.training.runstore import RunStore

if TYPE_CHECKING:
    from cnnstudio.gui.child_process import ChildProcess, ChildResult

AUTOSAVE_MS = 15_000
PROJECT_FILTER = "CNN Studio projects (*.cnnproj *.json)"


class MainWindow(QMainWindow):
    project_changed = Signal(object)

    def __init__(self, project: Project | None = None):
        super().__init__()
        self.setWindowTitle("CNN Studio")
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.model = ProjectModel(project or projects.empty_project())
        self.runs = RunStore()
        self.editor: ArchitectureEditor | None = None
        self.import_process: ChildProcess | None = None
        self.ask_training_close = self._ask_training_close  # replaced in tests
        self.ask_save = self._ask_save  # replaced in tests
        self.architecture_host = QWidget()
        QVBoxLayout(self.architecture_host).setContentsMargins(0, 0, 0, 0)

        self.rail = QListWidget(objectName="SectionRail")
        self.stack = QStackedWidget()
        self.recovery_bar = RecoveryBar()
        self.recovery_bar.restore.connect(self.restore_recovery)
        self.recovery_bar.discard.connect(self.discard_recovery)
        self.sections = Sections(self, self.stack)
        for name in SECTIONS:
            item = QListWidgetItem(f"{ICONS.get(name, '•')}  {name}")
            item.setToolTip(name)
            self.rail.addItem(item)
        self._fit_rail()
        self.rail.currentRowChanged.connect(self._rail_changed)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.recovery_bar)
        column.addWidget(self.stack)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.rail)
        row.addWidget(body, 1)
        self.setCentralWidget(central)

        self._status_bar()
        self.undo_action, self.redo_action, self.recent_menu = build_menus(self)
        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.write_recovery)
        self.autosave.start()
        self.model.subscribe(self._model_changed)
        self._project_opened()
        self.rail.setCurrentRow(0)

    @property
    def project(self) -> Project:
        return self.model.project

    def _fit_rail(self) -> None:
        """As wide as its widest label in the styled font (bold, padded): no clipped name and no
        horizontal scroll bar, however many sections there are."""
        self.rail.ensurePolished()
        widest = self.rail.sizeHintForColumn(0)
        self.rail.setFixedWidth(max(120, widest + 2 * self.rail.frameWidth() + 4))

    def _rail_changed(self, row: int) -> None:
        if row >= 0:
            self.stack.setCurrentWidget(self.sections[list(SECTIONS)[row]])

    def restore_layout(self) -> None:
        """Window size and place from the last session (not for screenshots: those are fixed)."""
        geometry = projects.settings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    # ---- layout pieces ----------------------------------------------------------------------
    def _status_bar(self) -> None:
        bar = self.statusBar()
        self.totals = {key: QLabel() for key in ("params", "macs", "memory", "training", "problems")}
        tips = {
            "params": "Trainable + frozen weights and biases.",
            "macs": "Multiply-adds for one image (FLOPs ≈ 2 × MACs).",
            "memory": "Activations produced for one image, all layers (float32).",
            "training": "Rough memory to train one step: weights, gradients, optimizer slots and "
            "activations kept for the backward pass (×2).",
        }
        for key, label in self.totals.items():
            label.setToolTip(tips.get(key, ""))
        self.batch = QSpinBox()
        self.batch.setRange(1, 65536)
        self.batch.setPrefix("batch ")
        self.batch.setToolTip("Batch size for the training-memory estimate: the project's training setting "
                              "(changing it here changes it for training too; Ctrl+Z undoes it).")
        self.batch.valueChanged.connect(lambda value: self.model.set_setting("training", "batch_size", int(value)))
        for key in ("params", "macs", "memory"):
            bar.addPermanentWidget(self.totals[key])
        bar.addPermanentWidget(self.batch)
        bar.addPermanentWidget(self.totals["training"])
        bar.addPermanentWidget(self.totals["problems"])

    # ---- project life cycle -----------------------------------------------------------------------
    def set_project(self, project: Project, dirty: bool = False) -> None:
        """Open another project (new, opened, imported, recovered): a fresh undo history."""
        self.model.open(project, dirty=dirty)

    def _model_changed(self, change: Change) -> None:
        if change.kind == "project":
            self._project_opened()
        elif change.kind == "settings" and change.section in ("training", ""):
            if change.key in ("batch_size", ""):
                self._show_batch()
            if change.key in ("batch_size", "optimizer", ""):
                self.update_totals()
        elif change.kind == "saved":
            self._saved(Path(change.key) if change.key else None)
        elif change.kind == "state":
            self._update_title()

    def _project_opened(self) -> None:
        if self.editor is not None:
            self.editor.detach()
            self.editor.setParent(None)
            self.editor.deleteLater()
        project = self.project
        self.editor = ArchitectureEditor(project.graph, model=self.model)
        self.architecture_host.layout().addWidget(self.editor)
        self.editor.analysed.connect(lambda a: self.update_totals(a))
        self.editor.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._show_batch()
        self.update_totals(self.editor.scene.analysis)
        self._update_title()
        QTimer.singleShot(0, self.editor.view.show_start)
        self.runs.open(project.path)
        self.project_changed.emit(project)
        self.check_recovery()

    def _show_batch(self) -> None:
        self.batch.blockSignals(True)
        self.batch.setValue(int(self.project.training.get("batch_size", 32)))
        self.batch.blockSignals(False)

    def undo(self) -> None:
        self.model.undo()  # graph and settings edits share one history
        self._say_undo("Undid")

    def redo(self) -> None:
        self.model.redo()
        self._say_undo("Redid")

    def _say_undo(self, verb: str) -> None:
        label = self.model.redo_label if verb == "Undid" else self.model.undo_label
        if label:
            self.statusBar().showMessage(f"{verb}: {label}", 4000)

    @property
    def dirty(self) -> bool:
        return self.model.dirty

    def _update_title(self) -> None:
        name = self.project.path.name if self.project.path else self.project.name
        self.setWindowTitle(f"{name}{' •' if self.dirty else ''} — CNN Studio")
        self.undo_action.setEnabled(self.model.can_undo)
        self.redo_action.setEnabled(self.model.can_redo)
        self.undo_action.setText(f"&Undo {self.model.undo_label}".strip())
        self.redo_action.setText(f"&Redo {self.model.redo_label}".strip())

    def update_totals(self, analysis: Analysis | None = None) -> None:
        if analysis is None:
            analysis = self.editor.scene.analysis if self.editor else None
        if analysis is None:
            return
        # A broken graph's sums are partial: show the last valid totals greyed, or "?".
        shown = analysis if analysis.valid else (self.editor.scene.last_valid if self.editor else None)
        values = {"params": "?", "macs": "?", "memory": "?", "training": "?"}
        if shown is not None:
            estimate = training_memory(shown, self.batch.value(), str(self.project.training.get("optimizer", "adam")))
            values = {"params": human_count(shown.total_params), "macs": human_count(shown.macs),
                      "memory": human_bytes(shown.activation_bytes), "training": human_bytes(estimate["total"])}
        style = "" if shown is analysis else " style='color:#8a8f98'"
        note = "" if shown is analysis else " (invalid)" if shown is None else " (last valid)"
        self.totals["params"].setText(f"<span{style}>Params <b>{values['params']}</b>{note}</span>")
        self.totals["macs"].setText(f"<span{style}>MACs <b>{values['macs']}</b></span>")
        self.totals["memory"].setText(f"<span{style}>Activations <b>{values['memory']}</b>/image</span>")
        self.totals["training"].setText(f"<span{style}>Training ≈ <b>{values['training']}</b></span>")
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        if errors:
            text = f"<span style='color:#d64541'>● {errors} error{'s' if errors > 1 else ''}</span>"
        elif warnings:
            text = f"<span style='color:#c58a00'>● {warnings} warning{'s' if warnings > 1 else ''}</span>"
        else:
            text = "<span style='color:#2f9e5f'>● valid</span>"
        self.totals["problems"].setText(text)

    def _ask_save(self) -> str:
        """'save', 'discard' or 'cancel' for unsaved changes."""
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.project.name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            answer, "cancel")

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project."""
        if not self.dirty:
            return True
        answer = self.ask_save()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_project(self) -> None:
        if self.maybe_save():
            projects.drop_recovery(self.project.path)
            self.set_project(projects.empty_project())

    def new_from_zoo(self) -> None:
        from cnnstudio.gui.zoo_dialog import ZooDialog

        dialog = ZooDialog(self)
        if dialog.exec() and dialog.graph is not None and self.maybe_save():
            self.set_project(Project(graph=dialog.graph, name=dialog.graph.name), dirty=True)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER + ";;Keras models (*.keras)")
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        if path.suffix == ".keras":
            self.import_keras(path)
            return True
        if not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except StudioError as exc:
            QMessageBox.warning(self, "Cannot open project", str(exc))
            return False
        self.set_project(project)
        projects.add_recent(path)
        return True

    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as()
        return self._save_to(self.project.path)

    def save_as(self, path: Path | None = None) -> bool:
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "Save project", f"{self.project.name}.cnnproj", PROJECT_FILTER)
            if not chosen:
                return False
            path = Path(chosen)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            self.model.save(path)  # the window hears Change("saved") like any other saver's
        except (StudioError, OSError) as exc:
            QMessageBox.warning(self, "Cannot save", f"{path}: {exc}")
            return False
        return True

    def _saved(self, old: Path | None) -> None:
        path = self.project.path
        projects.drop_recovery(old)
        projects.drop_recovery(path)
        if path is not None:
            projects.add_recent(path)
        if old is None or path is None or old.resolve() != path.resolve():
            self.runs.open(path)  # the runs live beside the project file
        self.statusBar().showMessage(f"Saved {path}", 5000)

    # ---- recovery ----------------------------------------------------------------------------------
    def write_recovery(self) -> None:
        if self.dirty:
            try:
                projects.write_recovery(self.project)
            except OSError as exc:
                self.statusBar().showMessage(f"Could not write the recovery copy: {exc}", 8000)

    def check_recovery(self) -> None:
        found = projects.pending_recovery(self.project.path)
        if found is None:
            self.recovery_bar.hide()
            return
        self._recovery = found
        self.recovery_bar.label.setText(
            "CNN Studio did not close cleanly: a recovery copy of "
            f"<b>{self.project.path.name if self.project.path else 'the untitled project'}</b> with unsaved "
            "changes was found.")
        self.recovery_bar.show()

    def restore_recovery(self) -> None:
        try:
            recovered = load_project(self._recovery)
        except StudioError as exc:
            QMessageBox.warning(self, "Cannot restore", str(exc))
            return
        recovered.path = self.project.path
        self.recovery_bar.hide()
        self.set_project(recovered, dirty=True)
        self.recovery_bar.hide()

    def discard_recovery(self) -> None:
        projects.drop_recovery(self.project.path)
        self.recovery_bar.hide()

    # ---- .keras import (in a helper process: TensorFlow never loads in the window) -----------------
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import Keras model", "", "Keras models (*.keras)")
        if path:
            self.import_keras(Path(path))

    def import_keras(self, path: Path) -> None:
        if self.import_process is not None:
            self.statusBar().showMessage("An import is already running.", 5000)
            return
        if not self.maybe_save():
            return
        # Kept in the app's data folder, not a temp dir: the imported weights must outlive
        # this session until the user saves the project somewhere.
        folder = projects.data_dir() / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        output = Path(tempfile.mkdtemp(prefix=f"{path.stem}-", dir=folder)) / f"{path.stem}.cnnproj"
        from cnnstudio.gui.child_process import run_child

        self.statusBar().showMessage(f"Importing {path.name}…")
        self.import_process = run_child(projects.import_command(path, output),
                                        lambda result: self._import_done(result, path, output), self)

    def _import_done(self, result: ChildResult, source: Path, output: Path) -> None:
        self.import_process = None
        if not result.ok or not output.exists():
            message = result.error_line() if not result.ok else "the importer wrote no project file"
            QMessageBox.warning(self, "Cannot import", f"{source.name}: {message}")
            return
        try:
            project = load_project(output)
        except StudioError as exc:
            QMessageBox.warning(self, "Cannot import", str(exc))
            return
        weights = project.weights_file() if hasattr(project, "weights_file") else None
        if weights is not None:
            project.weights = str(weights.resolve())  # absolute: the project has no folder yet
        project.path = None
        project.name = source.stem
        for node in project.graph:
            node.position = None  # lay the imported graph out afresh
        self.set_project(project, dirty=True)
        self.statusBar().showMessage(f"Imported {source.name}", 5000)

    # ---- window events -----------------------------------------------------------------------------
    def show_section(self, name: str) -> None:
        names = list(SECTIONS)
        if name not in names:
            raise StudioError(f"Unknown section {name!r}: choose one of {', '.join(names)}.")
        self.rail.setCurrentRow(names.index(name))

    def look_inside(self, run_dir: str, image: str) -> None:
        """Open `image` in the Inside section with the run as its source (a panel's `look_inside` signal)."""
        self.show_section("Inside")
        self.sections["Inside"].look_at(image, run_dir)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls()
        path = Path(urls[0].toLocalFile()) if urls else None
        if path is not None and (path.suffix in (".cnnproj", ".json", ".keras") or path.is_dir()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = Path(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()
        if path.is_dir() and "Data" in SECTIONS:  # an image folder: the Data panel
            self.show_section("Data")
            QTimer.singleShot(0, lambda: self.sections["Data"].set_folder(path))
            return
        QTimer.singleShot(0, lambda: self.open_path(path))

    def _ask_training_close(self) -> str:
        """'stop', 'background' or 'cancel' when the window closes during training."""
        box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                          "A training run is still going. Stop it now (it writes a checkpoint you can "
                          "resume), or keep it running in the background after the window closes?", parent=self)
        stop = box.addButton("Stop and keep the checkpoint", QMessageBox.ButtonRole.AcceptRole)
        # Only where the worker runs under its launcher (POSIX) can it outlive the window.
        background = box.addButton("Keep running in background", QMessageBox.ButtonRole.ActionRole) \
            if os.name == "posix" else None
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "stop" if clicked is stop else "background" if background is not None and clicked is background \
            else "cancel"

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        training = self.sections.built.get("Training")
        leave_running = False
        if training is not None and getattr(training, "running", False):
            answer = self.ask_training_close()
            if answer == "cancel":
                event.ignore()
                return
            leave_running = answer == "background"
        if not self.maybe_save():
            event.ignore()
            return
        projects.settings().setValue("window/geometry", self.saveGeometry())
        projects.drop_recovery(self.project.path)
        self.autosave.stop()
        if self.import_process is not None:
            self.import_process.kill()
            self.import_process = None
        if self.editor is not None:
            self.editor.detach()
        if leave_running and training is not None:
            training.release()  # the worker keeps training; its run directory records everything
        for page in self.sections.built.values():  # panels end their workers and child processes
            getattr(page, "shutdown", lambda: None)()
        helper = getattr(self, "_panels_helper", None)
        if helper is not None:
            helper.shutdown()
        event.accept()
