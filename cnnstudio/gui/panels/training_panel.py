"""The Training section: settings, Start / Stop / Resume, live plots, confusion matrix, event log.

The run is the worker process (cnnstudio.training.worker) under a QProcess; this panel reads
its events and tells the run store when a run starts, progresses and ends. It edits the
training settings through the project model (undoable) and follows the store's latest run.
Alone: `python -m cnnstudio.gui.panels.training_panel [PROJECT]`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.gui.panels.common import box, scrolled
from cnnstudio.gui.panels.recipe_dialog import RecipeRow
from cnnstudio.gui.panels.training_text import (
    describe,
    duration,
    fix_for,
)
from cnnstudio.gui.panels.training_view import DeviceChoice, RunView
from cnnstudio.gui.panels.worker_client import WorkerClient, new_run, resume_run
from cnnstudio.gui.projects import untitled_location
from cnnstudio.gui.widgets import param_form
from cnnstudio.project import schema
from cnnstudio.project.model import Change, ProjectModel
from cnnstudio.training import run_records
from cnnstudio.training.runstore import RunChange, RunStore, made_progress


class TrainingPanel(QWidget):
    message = Signal(str)  # for the window's status bar
    show_section = Signal(str)  # a failure's fix lives in another section (Data, Architecture)
    look_inside = Signal(str, str)  # run directory, image: open it in the Inside section

    def __init__(self, model: ProjectModel, runs: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.runs = runs
        self.client = WorkerClient(self)
        self.client.events.connect(self.on_events)
        self.client.stderr.connect(self._on_stderr)
        self.client.exited.connect(self._on_exit)
        self.client.state_changed.connect(lambda _s: self._update_buttons())
        self.run_dir: Path | None = None
        self.fresh_run = False  # the worker was started by Start (not Resume) for this run
        self.classes: list[str] = []
        self.total_steps = 0
        self.done_steps = 0
        self.session_start: tuple[float, int] | None = None
        self.last_error: dict[str, Any] | None = None
        self.failure: str | None = None  # the category the banner shows
        self.finished_event: dict[str, Any] | None = None
        self.events_seen = 0
        self._pending_log: list[str] = []
        self._own_edit = False
        self.form: Any = None
        # A run left training in the background (the window was closed) has no process here:
        # while it is shown, the store re-reads it now and then so its end shows up.
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(5000)
        self.follow_timer.timeout.connect(self._follow_background)
        self._build()
        self.ui_timer = QTimer(self)
        self.ui_timer.setInterval(100)  # progress, ETA and log: at most 10 updates per second
        self.ui_timer.timeout.connect(self._refresh)
        self.ui_timer.start()
        self._unsubscribe = [model.subscribe(self._model_changed), runs.subscribe(self._runs_changed)]
        self._show_settings()
        self.attach(runs.latest.path if runs.latest else None)

    @property
    def project(self):
        return self.model.project

    @property
    def running(self) -> bool:
        return self.client.running

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter)
        self.settings_host = QWidget()
        self.settings_layout = QVBoxLayout(self.settings_host)
        self.settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_frame, settings_box = box("Training settings", tip="Generated from the project's training section.")
        settings_box.addWidget(scrolled(self.settings_host), 1)
        splitter.addWidget(settings_frame)

        self.view = RunView()
        for name in RunView.PARTS:  # the panel reads and drives these parts directly
            setattr(self, name, getattr(self.view, name))
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.banner_fix.clicked.connect(self.apply_fix)
        self.banner_resume.clicked.connect(self.resume)
        self.matrix.cell_clicked.connect(self.open_cell)
        splitter.addWidget(self.view)
        splitter.setSizes([320, 1000])
        splitter.setStretchFactor(1, 1)
        self._update_buttons()

    # ---- project ---------------------------------------------------------------------------
    def _model_changed(self, change: Change) -> None:
        if change.kind == "project":
            self._show_settings()
        elif change.kind == "settings" and change.section in ("training", "") and not self._own_edit:
            if change.key:
                self._show_setting(change.key)
            else:  # a command that did not say which settings it changed
                self._show_settings()

    def _runs_changed(self, change: RunChange) -> None:
        if change.kind == "reloaded" and not self.client.running:
            self.attach(self.runs.latest.path if self.runs.latest else None)
        elif change.kind == "deleted" and self.run_dir is not None and self.run_dir in change.paths \
                and not self.client.running:
            self.attach(self.runs.latest.path if self.runs.latest else None)

    def _show_settings(self) -> None:
        """Build the settings form for the current project's training section."""
        old = self.form
        if old is not None:
            old.setParent(None)
            old.deleteLater()
        while self.settings_layout.count():
            self.settings_layout.takeAt(0)
        rules = getattr(schema, "rule_problems", None)
        # The device has its own control (device_row: the machine's GPUs by name), not a text field.
        specs = tuple(spec for spec in schema.TRAINING if spec.name != "device")
        self.form = param_form.ParamForm(specs, self.project.training, where="Training settings",
                                         rules=(lambda values: rules("training", values)) if rules else None)
        self.form.changed.connect(self._setting_changed)
        self.settings_layout.addWidget(RecipeRow(self.model))
        self.settings_layout.addWidget(self.device_row())
        self.settings_layout.addWidget(self.form)
        self.settings_layout.addStretch(1)

    def _show_setting(self, key: str) -> None:
        """A training setting changed elsewhere (undo, the status bar's batch box, a recipe)."""
        value = self.project.training.get(key)
        if key == "device":
            self.device_box.select(str(value))
            return
        setter = getattr(self.form, "set_value", None)
        if setter is not None:
            setter(key, value)
        elif key in self.form.fields:
            self._show_settings()  # the form has no way to take one value: build it again

    def device_row(self) -> QWidget:
        """Device choice: auto, CPU, each GPU, all GPUs (the training.device setting)."""
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 4)
        self.device_box = DeviceChoice(str(self.project.training.get("device", "auto")))
        self.device_box.picked.connect(lambda value: self._setting_changed("device", value))
        row.addWidget(QLabel("Device"))
        row.addWidget(self.device_box, 1)
        return holder

    def _setting_changed(self, name: str, value: Any) -> None:
        """An edit in this panel: one undoable step on the project model."""
        self._own_edit = True  # the control that made the edit already shows it
        try:
            self.model.set_setting("training", name, value)
        except StudioError as exc:
            self.message.emit(str(exc))
        finally:
            self._own_edit = False

    # ---- showing a run ---------------------------------------------------------------------
    def reset_view(self, keep_log: bool = False) -> None:
        self.view.clear(keep_log)
        if not keep_log:
            self._pending_log.clear()
        self._hide_banner()
        self.last_error = self.finished_event = None
        self.total_steps = self.done_steps = 0

    def attach(self, run_dir: Path | None, keep_log: bool = False) -> None:
        """Show a finished or stopped run from its files (curves, matrix, event log, status)."""
        self.reset_view(keep_log)
        self.run_dir = run_dir
        if run_dir is None:
            self.run_label.setText("No run yet: Start trains the project in a new run beside the project file."
                                   if self.project.path is not None else
                                   "No run yet: Start saves the project and trains it in a new run.")
        else:
            summary = self.runs.get(run_dir) or run_records.summarize(run_dir)
            self.classes = self.view.show_saved_run(run_dir, summary, keep_log)
            if summary.status == "failed" and summary.error:
                error = run_records.last_event(run_dir, "error") or {}
                self._show_banner(str(error.get("category") or "other"), summary.error, log=False)
        self._update_buttons()

    def _show_epoch(self, event: dict[str, Any]) -> None:
        self.view.show_epoch(event, self.classes)

    # ---- running -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Save the project if needed, then train it in a new run directory beside it."""
        refused = param_form.refusal(self, "Start")
        if refused:
            self.message.emit(refused)
            self._log(refused)
            return False
        try:
            if self.project.path is None:
                # An untitled project (the sample on first run) trains without a Save dialog: it
                # is kept in the user's project folder, and the status bar says where.
                path = untitled_location(self.project.name)
                self.model.save(path)
                self.message.emit(f"Saved the project to {path} so its runs have a home.")
            elif self.model.dirty:
                self.model.save()
        except (StudioError, OSError) as exc:
            self.message.emit(f"Cannot save the project before training: {exc}")
            return False
        run_dir, command = new_run(Path(self.project.path))
        self.launch(command, run_dir)
        self.fresh_run = True
        return True

    def resume(self) -> bool:
        if self.run_dir is None or self.client.running:
            return False
        command = resume_run(self.run_dir)
        self.attach(self.run_dir, keep_log=True)  # the curves so far; the resumed epochs continue them
        self._log("resuming from the last checkpoint")
        self.launch(command, self.run_dir, keep_view=True)
        return True

    def launch(self, command: list[str], run_dir: Path | None, keep_view: bool = False,
               env: dict[str, str] | None = None) -> None:
        """Start a worker command and follow its events (tests pass a fake worker here)."""
        if not keep_view:
            self.reset_view()
        else:
            self._hide_banner()
            self.last_error = self.finished_event = None
        self.run_dir = run_dir
        self.fresh_run = False
        self.events_seen = 0
        self.session_start = None
        self.run_label.setText(f"Run {run_dir.name if run_dir else '(test)'}: starting the worker…")
        self.client.start(command, run_dir, env)
        if run_dir is not None:
            self.runs.run_started(run_dir)
        self._update_buttons()

    def stop(self) -> None:
        if not self.client.running and self.in_background and self.run_dir is not None:
            (self.run_dir / "STOP").touch()  # the worker checks for it after every step
            self._log("stop requested from the STOP file: the background worker checkpoints and ends")
            self.message.emit(f"Asked the worker of {self.run_dir.name} to stop; it writes a checkpoint first.")
            return
        self.client.stop()
        self.eta.setText("stopping…")
        self._log("stop requested: the worker finishes its step and writes a checkpoint")

    @property
    def in_background(self) -> bool:
        """The shown run trains in a worker this panel does not own (left running at a close)."""
        summary = self.runs.get(self.run_dir) if self.run_dir is not None else None
        return not self.client.running and summary is not None and summary.status == "running"

    def _follow_background(self) -> None:
        if self.run_dir is None or not self.in_background:
            self.follow_timer.stop()
            return
        self.runs.run_progressed(self.run_dir)
        if not self.in_background:  # it ended (or went silent): show how
            self.attach(self.run_dir)

    def release(self) -> None:
        """The window closes but training goes on (the run directory records it; reopen to see it)."""
        self.client.release()
        self.ui_timer.stop()

    def on_events(self, events: list[dict[str, Any]]) -> None:
        self.events_seen += len(events)
        for event in events:
            kind = event["event"]
            if kind == "batch":
                self.plots.add_batch(event)
                steps = int(event["steps"])
                self.done_steps = (int(event["epoch"]) - 1) * steps + int(event["step"])
                if self.session_start is None:
                    self.session_start = (time.monotonic(), self.done_steps)
                continue
            if kind == "started":
                self.classes = list(event["class_names"])
                self.total_steps = int(event["epochs"]) * int(event["steps_per_epoch"])
                self.done_steps = (int(event["start_epoch"]) - 1) * int(event["steps_per_epoch"])
                self.run_label.setText(f"Run {Path(event['run_dir']).name}: training on "
                                       f"{', '.join(event['devices'])}, {event['train_examples']} images, "
                                       f"{event['total_params']:,} parameters.")
            elif kind == "epoch":
                self.plots.add_epoch(event)
                self._show_epoch(event)
                if self.run_dir is not None:
                    self.runs.run_progressed(self.run_dir)
            elif kind == "error":
                self.last_error = event
            elif kind == "finished":
                self.finished_event = event
            line = describe(event)
            if line:
                self._pending_log.append(line)

    def _log(self, line: str) -> None:
        self._pending_log.append(line)

    def _refresh(self) -> None:
        if self._pending_log:
            stamp = time.strftime("%H:%M:%S")
            self.log.appendPlainText("\n".join(f"{stamp}  {line}" for line in self._pending_log))
            self._pending_log.clear()
        if not self.client.running or not self.total_steps or self.client.state == "stopping":
            return
        self.progress.setValue(int(100 * min(self.done_steps, self.total_steps) / self.total_steps))
        if self.session_start is not None and self.done_steps > self.session_start[1]:
            elapsed = time.monotonic() - self.session_start[0]
            rate = (self.done_steps - self.session_start[1]) / max(elapsed, 1e-6)
            left = (self.total_steps - self.done_steps) / max(rate, 1e-9)
            self.eta.setText(f"step {self.done_steps}/{self.total_steps} · ETA {duration(left)}")

    def _on_stderr(self, text: str) -> None:
        self.worker_log.appendPlainText(text.rstrip("\n"))

    def _on_exit(self, code: int, crashed: bool) -> None:
        finished = self.finished_event
        if self.last_error is not None:
            self._show_banner(self.last_error["category"], self.last_error["message"])
        elif crashed or (finished is None and code != 0):
            detail = self.worker_log.toPlainText().strip().splitlines()[-1:] if code == 2 else []
            if code == 2 and detail:
                self._show_banner("other", detail[0].removeprefix("error: "))
            else:
                self._show_banner("killed", "The worker process ended without finishing (killed, or stopped by the "
                                  "system, e.g. out of memory). The project and the run's checkpoints are intact.")
        status = finished["status"] if finished else ("crashed" if crashed else f"exit {code}")
        self.eta.setText("")  # no estimate outlives the run
        run_dir = self.run_dir
        if run_dir is not None and self.fresh_run and status != "completed" and not made_progress(run_dir):
            # Failed before its first step: nothing to resume or compare, so no empty row in Runs.
            self.runs.run_finished(run_dir, keep=False)
            self.run_dir = None
            self._log("nothing was trained, so the run folder was removed")
            self.run_label.setText(f"Run {run_dir.name}: {status} before the first step; nothing was kept.")
        elif run_dir is not None:
            self.runs.run_finished(run_dir)
            summary = self.runs.get(run_dir)
            self.run_label.setText(f"Run {run_dir.name}: {status}.")
            if finished and finished["status"] == "completed":
                self.progress.setValue(100)
                seconds = summary.seconds if summary is not None and summary.seconds else finished["seconds"]
                self.eta.setText(f"done in {duration(seconds)}")
        else:
            self.run_label.setText(f"Run (test): {status}.")
        self._refresh()
        self._update_buttons()

    def _show_banner(self, category: str, message: str, log: bool = True) -> None:
        self.failure = category
        title = self.view.show_failure(category, message)
        if log:
            self._log(f"{title}: {message}")
        self._update_buttons()

    def _hide_banner(self) -> None:
        self.failure = None
        self.view.hide_failure()

    def apply_fix(self) -> None:
        """The failure's fix: another section to open, or a setting changed (undoable)."""
        fix = fix_for(self.failure or "")
        if fix is None:
            return
        if fix.section:
            self.show_section.emit(fix.section)
        if fix.setting:
            key, change = fix.setting
            old = self.project.training.get(key)
            new = change(old)
            if self.model.set_setting("training", key, new, label=fix.button):
                self.message.emit(f"{fix.button}: {key.replace('_', ' ')} {old} → {new}. Start a new run to use it.")

    def _update_buttons(self) -> None:
        running = self.client.running
        stopping = self.client.state == "stopping"
        summary = self.runs.get(self.run_dir) if self.run_dir is not None else None
        status = summary.status if summary is not None else None
        fix = fix_for(self.failure or "")
        background = not running and status == "running"
        can_resume = not running and self.run_dir is not None and (self.run_dir / "job.json").exists() \
            and status not in ("completed", "running", None) and (fix is None or fix.resumable)
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled((running and not stopping) or background)
        if background and not self.follow_timer.isActive():
            self.follow_timer.start()
        self.resume_button.setEnabled(can_resume)
        self.banner_resume.setEnabled(can_resume)
        self.banner_resume.setVisible(fix is None or fix.resumable)
        state = "stopping…" if stopping else "training" if running else \
            "training in the background" if background else (status or "idle")
        colour = {"training": "#2f9e5f", "training in the background": "#2f9e5f", "stopping…": "#c58a00",
                  "failed": "#d64541"}.get(state, "#687284")
        self.state_label.setText(f"<span style='color:{colour}'>●</span> {state}")

    def open_cell(self, true: int, predicted: int):
        from cnnstudio.gui.panels.cell_dialog import CellDialog, cell_entries
        from cnnstudio.training.val_predictions import read_val_predictions

        predictions = read_val_predictions(self.run_dir) if self.run_dir else None
        dialog = CellDialog(self.model, self.classes, cell_entries(predictions, true, predicted),
                            true, predicted, self, run_dir=self.run_dir)
        dialog.look_inside.connect(self.look_inside)
        if predictions is None:
            dialog.status.setText("This run has no per-image validation predictions (val_predictions.json).")
        dialog.open()
        return dialog

    def shutdown(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.ui_timer.stop()
        self.follow_timer.stop()
        self.plots.timer.stop()
        self.client.shutdown()



if __name__ == "__main__":
    from cnnstudio.gui.app import preview_panel

    raise SystemExit(preview_panel(TrainingPanel))
