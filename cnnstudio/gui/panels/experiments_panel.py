"""The Experiments section: define a search space, run a sweep, compare its trials.

The sweep runs as `cnnstudio sweep ...` in a child process (the same scheduler as the
command line); this panel draws SWEEP_DIR/status.json, which the scheduler rewrites at most
twice a second, re-reading it at most once a second. Stop asks the scheduler through the
folder's STOP file (trials checkpoint); Resume runs `cnnstudio sweep resume`.
Alone: `python -m cnnstudio.gui.panels.experiments_panel [PROJECT]`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.experiments.results import TrialRow, best_row, count_text, sort_rows
from cnnstudio.experiments.sweep_file import OBJECTIVES, SweepDir
from cnnstudio.experiments.trial_project import apply_command, settings_label
from cnnstudio.gui.child_process import cli_command, process_environment
from cnnstudio.gui.panels.common import box, muted, row_table
from cnnstudio.gui.panels.experiments_plots import (
    STATUS_BRUSH,
    ParallelCoordinates,
    TradeOffPlot,
    TrialCurves,
)
from cnnstudio.gui.panels.experiments_space import SpaceEditor, SweepOptions
from cnnstudio.gui.panels.plots import pg
from cnnstudio.gui.panels.training_text import duration
from cnnstudio.project.model import Change, ProjectModel
from cnnstudio.training.run_records import is_run
from cnnstudio.training.runstore import RunStore

COLUMNS = ("#", "Status", "Objective", "Epoch", "Params", "MACs", "Time", "Settings")
POLL_MS = 1000


class ExperimentsPanel(QWidget):
    message = Signal(str)
    show_section = Signal(str)  # "Open trial" shows the trial's run in the Runs section

    def __init__(self, model: ProjectModel, runs: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.runs = runs
        self.sweep: SweepDir | None = None
        self.rows: list[TrialRow] = []
        self.objective = "val_accuracy"
        self._status_stamp: float | None = None
        self.process: QProcess | None = None
        self.export_process: QProcess | None = None
        self.last_line = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.folder_label = muted("No sweep yet: tick Vary beside the settings to search, then Start.")
        self.open_button = QPushButton("Open sweep…")
        self.start_button = QPushButton("Start sweep")
        self.stop_button = QPushButton("Stop")
        self.resume_button = QPushButton("Resume")
        self.start_button.setToolTip("Run a sweep of the saved project over the ticked settings.")
        self.stop_button.setToolTip("Running trials finish their step and checkpoint; Resume continues them.")
        self.resume_button.setToolTip("Continue this sweep: finished trials are kept, interrupted ones resume.")
        self.open_button.clicked.connect(self.open_dialog)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        bar.addWidget(self.folder_label, 1)
        for button in (self.open_button, self.start_button, self.stop_button, self.resume_button):
            bar.addWidget(button)
        outer.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        self.space_editor = SpaceEditor()
        self.space_editor.changed.connect(self._update_buttons)
        frame, _ = box("Search space", self.space_editor, "Tick Vary beside each setting the sweep should search.")
        left_column.addWidget(frame, 1)
        self.options = SweepOptions()
        for name in ("sampler_box", "pruner_box", "objective_box", "second_box", "trials_box", "parallel_box",
                     "epochs_box"):
            setattr(self, name, getattr(self.options, name))
        self.sampler_box.currentTextChanged.connect(self._sampler_changed)
        self.trials_box.valueChanged.connect(self._update_buttons)
        left_column.addWidget(self.options)
        splitter.addWidget(left)
        right = QSplitter(Qt.Orientation.Vertical)
        table_host = QWidget()
        table_column = QVBoxLayout(table_host)
        table_column.setContentsMargins(0, 0, 0, 0)
        self.table = row_table(COLUMNS)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.open_trial())
        table_column.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.open_trial_button = QPushButton("Open trial")
        self.open_trial_button.setToolTip("Show the trial's run in the Runs section: an ordinary run (curves, "
                                          "what changed, export, resume, fine-tune).")
        self.apply_button = QPushButton("Apply settings to project")
        self.apply_button.setToolTip("Set the selected trial's settings in the project (one undo step).")
        self.export_button = QPushButton("Export best…")
        self.export_button.setToolTip("Export the best trial's model as a .keras file (verified).")
        self.open_trial_button.clicked.connect(self.open_trial)
        self.apply_button.clicked.connect(self.apply_selected)
        self.export_button.clicked.connect(self.export_dialog)
        self.status_line = muted()
        actions.addWidget(self.status_line, 1)
        for button in (self.open_trial_button, self.apply_button, self.export_button):
            actions.addWidget(button)
        table_column.addLayout(actions)
        right.addWidget(table_host)
        plots = QWidget()
        plot_row = QHBoxLayout(plots)
        plot_row.setContentsMargins(0, 0, 0, 0)
        self.parallel = ParallelCoordinates()
        self.trade_off = TradeOffPlot()
        self.curves = TrialCurves()
        for plot in (self.parallel, self.trade_off, self.curves):
            plot_row.addWidget(plot)
        right.addWidget(plots)
        right.setSizes([320, 300])
        splitter.addWidget(right)
        splitter.setSizes([380, 900])
        outer.addWidget(splitter, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        unsubscribe = model.subscribe(self._model_changed)
        self.destroyed.connect(lambda *_args: unsubscribe())
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # closing the window asks the sweep to stop
        self.space_editor.set_project(model.project)
        self.space_editor.set_grid(True)
        self._update_buttons()

    def _sampler_changed(self, sampler: str) -> None:
        self.space_editor.set_grid(sampler == "grid")
        self._update_buttons()

    # ---- the sweep process --------------------------------------------------------------
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self) -> None:
        project_path = self.model.path
        if project_path is None or self.model.dirty:
            self.message.emit("Save the project first: a sweep trains the saved project file.")
            return
        from cnnstudio.paths import resources_dir

        if resources_dir().resolve() in Path(project_path).resolve().parents:
            self.message.emit("This is the bundled sample: save it into your own folder first (File › Save As), "
                              "so the sweep's trials are written there.")
            return
        try:
            space = self.space_editor.space()
        except Exception as exc:  # SpaceError: the editor already shows it beside the rows
            self.message.emit(str(exc))
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path(project_path).resolve().parent / "sweeps"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{Path(project_path).stem}-{stamp}"
        space_file = folder / f"{target.name}.space.json"
        space_file.write_text(json.dumps(space, indent=2), encoding="utf-8")
        args = ["sweep", str(project_path), "--space", str(space_file), "--sampler", self.sampler_box.currentText(),
                "--pruner", self.pruner_box.currentText(), "--objective", self.objective_box.currentText(), "-o",
                str(target)]
        if self.second_box.currentText() != "none":
            args += ["--second-objective", self.second_box.currentText()]
        for flag, spin in (("--trials", self.trials_box), ("--parallel", self.parallel_box),
                           ("--epochs", self.epochs_box)):
            if spin.value():
                args += [flag, str(spin.value())]
        self._run(args, SweepDir(target))

    def resume(self) -> None:
        if self.sweep is not None:
            self._run(["sweep", "resume", str(self.sweep.path)], self.sweep)

    def stop(self) -> None:
        if self.sweep is not None and self.running():
            self.sweep.stop_file.touch()
            self.status_line.setText("stopping: running trials checkpoint…")

    def _run(self, args: list[str], sweep: SweepDir) -> None:
        if self.running():
            return
        self.show_sweep(sweep.path)
        command = cli_command(*args)
        process = QProcess(self)
        process.setProcessEnvironment(process_environment())
        process.readyReadStandardError.connect(self._read_output)
        process.finished.connect(self._finished)
        self.process = process
        process.start(command[0], command[1:])
        self.status_line.setText("starting the sweep…")
        self._update_buttons()

    def _read_output(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            self.last_line = lines[-1]
            self.status_line.setText(self.last_line[:200])

    def _finished(self, code: int, _status: Any) -> None:
        self._read_output()
        if code == 2 and self.last_line.startswith("error:"):
            self.message.emit(self.last_line)
        self.poll(force=True)
        self._update_buttons()

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Ask the sweep to stop (trials checkpoint), wait briefly, then end the scheduler.

        Nothing is lost either way: trial workers finish their step and checkpoint, and
        `sweep resume` (the Resume button) continues whatever was interrupted.
        """
        self.timer.stop()
        for process in (self.process, self.export_process):
            if process is None or process.state() == QProcess.ProcessState.NotRunning:
                continue
            if process is self.process and self.sweep is not None:
                self.sweep.stop_file.touch()
            if not process.waitForFinished(wait_ms):
                process.kill()
                process.waitForFinished(5000)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    # ---- showing a sweep ----------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.model.path).parent / "sweeps") if self.model.path else ""
        folder = QFileDialog.getExistingDirectory(self, "Open a sweep folder", start)
        if folder:
            self.show_sweep(Path(folder))

    def show_sweep(self, folder: Path) -> None:
        self.sweep = SweepDir(folder)
        self._status_stamp = None
        self.rows = []
        try:
            self.objective = self.sweep.read_config().objective if self.sweep.exists() else \
                self.objective_box.currentText()
        except Exception:  # an unreadable sweep.json: show what status.json has
            pass
        self.folder_label.setText(f"Sweep: {self.sweep.path}")
        self.poll(force=True)

    def poll(self, force: bool = False) -> None:
        """Re-read status.json when it changed (at most once per timer tick)."""
        if self.sweep is None:
            return
        status = self.sweep.path / "status.json"
        try:
            stamp = status.stat().st_mtime_ns
        except OSError:
            if force:
                self._show_rows([])
            return
        if stamp == self._status_stamp and not force:
            return
        self._status_stamp = stamp
        try:
            data = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return  # mid-replace on a platform without atomic rename: next tick
        rows = [TrialRow(**{k: v for k, v in row.items() if k in TrialRow.__dataclass_fields__})
                for row in data.get("trials", [])]
        self._show_rows(sort_rows(rows, OBJECTIVES.get(self.objective, "maximize")))

    def _show_rows(self, rows: list[TrialRow]) -> None:
        keep = {row.number for row in self.selected()}
        self.rows = rows
        maximize = OBJECTIVES.get(self.objective, "maximize") == "maximize"
        self.table.blockSignals(True)
        self.table.setHorizontalHeaderItem(2, QTableWidgetItem(self.objective))
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            value = "—" if row.value is None else f"{row.value:.4f}"
            values = (str(row.number), row.status + (" ★" if row.pareto else ""), value,
                      str(row.best_epoch or ""), count_text(row.params), count_text(row.macs),
                      duration(row.seconds) if row.seconds else "—", settings_label(row.settings))
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c == 1:
                    item.setForeground(pg.mkColor(STATUS_BRUSH.get(row.status, "#687284")))
                    if row.failure:
                        item.setToolTip(f"{row.failure}: {row.message or ''}")
                if c in (0, 2, 3, 4, 5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            if row.number in keep:
                self.table.selectRow(r)
        self.table.blockSignals(False)
        self.parallel.objective = self.objective
        self.parallel.show_rows(rows, maximize)
        self.trade_off.show_rows(rows, maximize)
        self._selection_changed()
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        if not self.running():
            self.status_line.setText(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no trials yet")
        self._update_buttons()

    def selected(self) -> list[TrialRow]:
        chosen = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.rows[i] for i in chosen if i < len(self.rows)]

    def _selection_changed(self) -> None:
        self.curves.show_rows(self.selected())
        self._update_buttons()

    def best(self) -> TrialRow | None:
        return best_row(self.rows, OBJECTIVES.get(self.objective, "maximize"))

    # ---- acting on trials ---------------------------------------------------------------
    def open_trial(self) -> None:
        """The selected trial's run joins the run store's list; the Runs section shows it selected."""
        chosen = self.selected()
        if not chosen or not chosen[0].run_dir:
            return
        path = Path(chosen[0].run_dir)
        if not is_run(path):
            self.message.emit(f"Trial {chosen[0].number}: {path} is not a run directory yet (the trial has not "
                              "started, or its folder was moved).")
            return
        self.show_section.emit("Runs")  # first: the Runs section is built on first show, then hears the run
        try:
            self.runs.include(path)
        except StudioError as exc:
            self.message.emit(f"Trial {chosen[0].number}: {exc}")

    def apply_selected(self) -> None:
        """The selected trial's settings into the project, as one undoable edit."""
        chosen = self.selected()
        if len(chosen) != 1:
            return
        settings = chosen[0].settings
        try:
            command = apply_command(self.model.project, settings, f"Apply trial {chosen[0].number} settings")
        except StudioError as exc:
            self.message.emit(str(exc))
            return
        self.model.push(command)
        self.message.emit(f"Applied trial {chosen[0].number}: {settings_label(settings)} (Ctrl+Z undoes it).")

    def export_dialog(self) -> None:
        best = self.best()
        if best is None or self.sweep is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the best trial", f"trial-{best.number}.keras",
                                              "Keras model (*.keras)")
        if path:
            self.export_best(Path(path))

    def export_best(self, target: Path) -> None:
        """`cnnstudio sweep export DIR --format keras -o TARGET` in a child process."""
        if self.sweep is None or (self.export_process is not None
                                  and self.export_process.state() != QProcess.ProcessState.NotRunning):
            return
        command = cli_command("sweep", "export", str(self.sweep.path), "--format", "keras", "-o", str(target))
        process = QProcess(self)
        process.setProcessEnvironment(process_environment())
        process.finished.connect(lambda code, _s: self.message.emit(
            f"Exported the best trial to {target}" if code == 0 else
            f"Export failed: {bytes(process.readAllStandardError().data()).decode(errors='replace')[-300:]}"))
        self.export_process = process
        process.start(command[0], command[1:])
        self.message.emit(f"Exporting the best trial to {target}…")

    # ---- state --------------------------------------------------------------------------
    def _model_changed(self, change: Change) -> None:
        if change.kind in ("project", "graph"):
            self.space_editor.set_project(self.model.project)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.running()
        has_space = not self.space_editor.problem_text() and bool(self.space_editor._ticked())
        budget = self.sampler_box.currentText() == "grid" or self.trials_box.value() > 0
        self.start_button.setEnabled(not running and has_space and budget)
        self.start_button.setToolTip("Run a sweep of the saved project over the ticked settings." if budget else
                                     "Random and TPE need a number of trials.")
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self.sweep is not None and self.sweep.exists()
                                      and any(r.status in ("running", "waiting") for r in self.rows))
        chosen = self.selected()
        self.open_trial_button.setEnabled(len(chosen) == 1 and bool(chosen[0].run_dir))
        self.apply_button.setEnabled(len(chosen) == 1)
        self.export_button.setEnabled(self.best() is not None and not running)


if __name__ == "__main__":
    from cnnstudio.gui.app import preview_panel

    raise SystemExit(preview_panel(ExperimentsPanel))
