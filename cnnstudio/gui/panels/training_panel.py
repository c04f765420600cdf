"""The Training section: settings, Start / Stop / Resume, live plots, confusion matrix, event log.

The run is the worker process (cnnstudio.training.worker) under a QProcess; this panel only
reads its events and its run directory. On a project change it re-attaches to the latest run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.panels.common import box, mark_dirty, muted, scrolled
from cnnstudio.gui.panels.confusion import ClassBars, ConfusionMatrix
from cnnstudio.gui.panels.plots import LivePlots
from cnnstudio.gui.panels.training_text import CATEGORIES, LOG_LINES, describe, duration, local_gpus
from cnnstudio.gui.panels.worker_client import WorkerClient
from cnnstudio.gui.widgets.param_form import ParamForm
from cnnstudio.project import schema
from cnnstudio.training import run_records
from cnnstudio.training.runstore import runs_folder


class TrainingPanel(QWidget):
    def __init__(self, window: Any):
        super().__init__()
        self.window_ref = window
        self.client = WorkerClient(self)
        self.client.events.connect(self.on_events)
        self.client.stderr.connect(self._on_stderr)
        self.client.exited.connect(self._on_exit)
        self.client.state_changed.connect(lambda _s: self._update_buttons())
        self.run_dir: Path | None = None
        self.classes: list[str] = []
        self.total_steps = 0
        self.done_steps = 0
        self.session_start: tuple[float, int] | None = None
        self.last_error: dict[str, Any] | None = None
        self.finished_event: dict[str, Any] | None = None
        self.events_seen = 0
        self._pending_log: list[str] = []
        self._build()
        self.ui_timer = QTimer(self)
        self.ui_timer.setInterval(100)  # progress, ETA and log: at most 10 updates per second
        self.ui_timer.timeout.connect(self._refresh)
        self.ui_timer.start()
        window.project_changed.connect(self.set_project)
        self.set_project(window.project)

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
        settings_frame.setMinimumWidth(300)
        splitter.addWidget(settings_frame)

        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(6, 0, 0, 0)
        bar = QHBoxLayout()
        self.state_label = QLabel(objectName="StateChip")
        self.start_button = QPushButton("▶ Start")
        self.start_button.setToolTip("Save the project and train it in a new run (a separate worker process).")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Finish the current step, write a checkpoint and stop (resume later).")
        self.resume_button = QPushButton("⟳ Resume")
        self.resume_button.setToolTip("Continue the latest run from its last checkpoint.")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.eta = QLabel()
        self.eta.setMinimumWidth(220)
        for widget in (self.state_label, self.start_button, self.stop_button, self.resume_button):
            bar.addWidget(widget)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.eta)
        column.addLayout(bar)
        self.run_label = muted()
        column.addWidget(self.run_label)
        self.banner = QFrame(objectName="CrashBanner")
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(10, 6, 6, 6)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_resume = QPushButton("Resume")
        self.banner_resume.clicked.connect(self.resume)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.banner_resume)
        self.banner.setStyleSheet("QFrame#CrashBanner { background: #fbe3e1; border: 1px solid #e49a93; "
                                  "border-radius: 6px; } QFrame#CrashBanner QLabel { color: #6b1d17; }")
        self.banner.hide()
        column.addWidget(self.banner)

        vertical = QSplitter(Qt.Orientation.Vertical)
        self.plots = LivePlots()
        vertical.addWidget(self.plots)
        self.tabs = QTabWidget()
        matrix_page = QWidget()
        matrix_row = QHBoxLayout(matrix_page)
        self.matrix = ConfusionMatrix()
        self.matrix.cell_clicked.connect(self.open_cell)
        self.class_bars = ClassBars()
        left, left_box = box("Confusion matrix (validation)", self.matrix)
        right, _ = box("Per-class accuracy", self.class_bars)
        matrix_row.addWidget(left, 3)
        matrix_row.addWidget(right, 2)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.worker_log = QPlainTextEdit(readOnly=True)
        self.worker_log.setMaximumBlockCount(LOG_LINES)
        self.worker_log.setPlaceholderText("The worker's standard error (TensorFlow messages) appears here.")
        self.tabs.addTab(matrix_page, "Confusion matrix")
        self.tabs.addTab(self.log, "Event log")
        self.tabs.addTab(self.worker_log, "Worker output")
        vertical.addWidget(self.tabs)
        vertical.setSizes([520, 300])
        column.addWidget(vertical, 1)
        splitter.addWidget(centre)
        splitter.setSizes([320, 1000])
        splitter.setStretchFactor(1, 1)
        self._update_buttons()

    # ---- project ---------------------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        self.project = project
        old = getattr(self, "form", None)
        if old is not None:
            old.setParent(None)
            old.deleteLater()
        while self.settings_layout.count():
            self.settings_layout.takeAt(0)
        self.form = ParamForm(schema.TRAINING, project.training)
        self.form.changed.connect(self._setting_changed)
        self.settings_layout.addWidget(self.device_row())
        self.settings_layout.addWidget(self.form)
        self.settings_layout.addStretch(1)
        if not self.client.running:
            runs = run_records.list_runs(runs_folder(project.path))
            self.attach(runs[0].path if runs else None)

    def device_row(self) -> QWidget:
        """Device choice: auto, CPU, each GPU, all GPUs (the training.device setting)."""
        old = getattr(self, "device_box", None)
        if old is not None:
            old.parent().hide()
            old.parent().deleteLater()
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 4)
        label = QLabel("Device")
        self.device_box = QComboBox()
        self.device_box.setToolTip("Where the worker trains: one device, or every GPU with MirroredStrategy.")
        choices = [("Automatic (GPU if present)", "auto"), ("CPU", "cpu")]
        gpus = local_gpus()
        choices += [(f"GPU {i}: {name}", f"gpu:{i}") for i, name in enumerate(gpus)]
        if len(gpus) > 1:
            choices.append((f"All {len(gpus)} GPUs (mirrored)", "all"))
        current = str(self.project.training.get("device", "auto"))
        if current not in [value for _label, value in choices]:
            choices.append((current, current))
        for text, value in choices:
            self.device_box.addItem(text, value)
        self.device_box.setCurrentIndex(self.device_box.findData(current))
        self.device_box.currentIndexChanged.connect(
            lambda i: self._setting_changed("device", self.device_box.itemData(i)))
        row.addWidget(label)
        row.addWidget(self.device_box, 1)
        return holder

    def _setting_changed(self, name: str, value: Any) -> None:
        self.project.training[name] = value
        mark_dirty(self.window_ref)
        field = self.form.fields.get(name)
        if name == "device" and field is not None and hasattr(field.editor, "setText"):
            field.editor.blockSignals(True)
            field.editor.setText(str(value))  # the text field under More shows the same setting
            field.editor.blockSignals(False)
        if name == "batch_size" and hasattr(self.window_ref, "batch"):
            self.window_ref.batch.setValue(int(value))

    # ---- showing a run ---------------------------------------------------------------------
    def reset_view(self) -> None:
        self.plots.clear()
        self.matrix.set_matrix(None, [])
        self.class_bars.set_values(None, [])
        self.log.clear()
        self.banner.hide()
        self.last_error = self.finished_event = None
        self.total_steps = self.done_steps = 0
        self.progress.setValue(0)
        self.eta.setText("")

    def attach(self, run_dir: Path | None) -> None:
        """Show a finished or stopped run from its files (curves, matrix, status)."""
        self.reset_view()
        self.run_dir = run_dir
        if run_dir is None:
            self.run_label.setText("No run yet: Start trains the project in a new run beside the project file.")
            self._update_buttons()
            return
        self.classes = run_records.class_names(run_dir)
        for record in run_records.read_batches(run_dir):
            self.plots.add_batch(record)
        summary = run_records.summarize(run_dir)
        for row in run_records.RunDirectory(run_dir, writer=False).read_metrics():
            self.plots.add_epoch({**row, "best": False})
        self.plots.set_best(summary.best_epoch)
        epoch = run_records.last_event(run_dir, "epoch")
        if epoch is not None:
            self._show_epoch(epoch)
        if summary.epochs:
            self.progress.setValue(int(100 * summary.epochs_completed / summary.epochs))
        best = "" if summary.best_metric is None else f", best {summary.best_metric:.3f} at epoch {summary.best_epoch}"
        self.run_label.setText(f"Run {run_dir.name}: {summary.status}, {summary.epochs_completed}/"
                               f"{summary.epochs or '?'} epochs{best}.")
        if summary.status == "failed" and summary.error:
            self._show_banner("other", summary.error)
        self._update_buttons()

    def _show_epoch(self, event: dict[str, Any]) -> None:
        if event.get("confusion_matrix"):
            self.matrix.set_matrix(event["confusion_matrix"], self.classes)
        self.class_bars.set_values(event.get("per_class_accuracy"), self.classes)

    # ---- running -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Save the project if needed, then train it in a new run directory beside it."""
        from cnnstudio.training.console import default_run_dir
        from cnnstudio.training.job import Job
        from cnnstudio.training.process import worker_command

        window = self.window_ref
        if self.project.path is None:
            # An untitled project (the sample on first run) trains without a Save dialog: it
            # is kept in the user's project folder, and the status bar says where.
            path = untitled_location(self.project.name)
            if not window.save_as(path):
                return False
            window.statusBar().showMessage(f"Saved the project to {path} so its runs have a home.", 10_000)
        elif getattr(window, "dirty", False) and not window.save():
            return False
        run_dir = default_run_dir(self.project.path)
        run_dir.mkdir(parents=True, exist_ok=True)
        job = Job(project=str(Path(self.project.path).resolve()), run_dir=str(run_dir.resolve()))
        job_file = job.save(run_dir / "job.json")
        self.launch(worker_command(job_file), run_dir)
        return True

    def resume(self) -> bool:
        from cnnstudio.training.job import Job, load_job
        from cnnstudio.training.process import worker_command

        if self.run_dir is None or self.client.running:
            return False
        original = load_job(self.run_dir / "job.json")
        job = Job(project=original.project, run_dir=str(self.run_dir), mode="resume")
        job_file = job.save(self.run_dir / "resume-job.json")
        self.attach(self.run_dir)  # the curves so far; the resumed epochs continue them
        self.launch(worker_command(job_file), self.run_dir, keep_view=True)
        return True

    def launch(self, command: list[str], run_dir: Path | None, keep_view: bool = False,
               env: dict[str, str] | None = None) -> None:
        """Start a worker command and follow its events (tests pass a fake worker here)."""
        if not keep_view:
            self.reset_view()
        else:
            self.banner.hide()
            self.last_error = self.finished_event = None
        self.run_dir = run_dir
        self.events_seen = 0
        self.session_start = None
        self.run_label.setText(f"Run {run_dir.name if run_dir else '(test)'}: starting the worker…")
        self.client.start(command, run_dir, env)
        self._update_buttons()

    def stop(self) -> None:
        self.client.stop()
        self._log("stop requested: the worker finishes its step and writes a checkpoint")

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
        if not self.client.running or not self.total_steps:
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
        self._refresh()
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
        self.run_label.setText(f"Run {self.run_dir.name if self.run_dir else ''}: {status}.")
        if finished and finished["status"] == "completed":
            self.progress.setValue(100)
            self.eta.setText(f"done in {duration(finished['seconds'])}")
        self._update_buttons()
        runs = getattr(self.window_ref, "sections", {}).get("Runs")
        if runs is not None and hasattr(runs, "refresh"):
            runs.refresh()

    def _show_banner(self, category: str, message: str) -> None:
        title = CATEGORIES.get(category, category)
        self.banner_text.setText(f"<b>{title}.</b> {message}")
        self.banner.show()
        self._log(f"{title}: {message}")

    def _update_buttons(self) -> None:
        running = self.client.running
        stopping = self.client.state == "stopping"
        status = run_records.summarize(self.run_dir).status if self.run_dir and self.run_dir.exists() else None
        can_resume = not running and self.run_dir is not None and (self.run_dir / "job.json").exists() \
            and status not in ("completed", None)
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running and not stopping)
        self.resume_button.setEnabled(can_resume)
        self.banner_resume.setEnabled(can_resume)
        state = "stopping…" if stopping else "training" if running else (status or "idle")
        colour = {"training": "#2f9e5f", "stopping…": "#c58a00", "failed": "#d64541"}.get(state, "#687284")
        self.state_label.setText(f"<span style='color:{colour}'>●</span> {state}")

    def open_cell(self, true: int, predicted: int):
        from cnnstudio.gui.panels.cell_dialog import CellDialog, cell_entries
        from cnnstudio.training.val_predictions import read_val_predictions

        predictions = read_val_predictions(self.run_dir) if self.run_dir else None
        dialog = CellDialog(self.window_ref, self.project, self.classes, cell_entries(predictions, true, predicted),
                            true, predicted, self)
        if predictions is None:
            dialog.status.setText("This run has no per-image validation predictions (val_predictions.json).")
        dialog.open()
        return dialog

    def shutdown(self) -> None:
        self.ui_timer.stop()
        self.plots.timer.stop()
        self.client.shutdown()


def untitled_location(name: str) -> Path:
    """A free file name for an untitled project in the user's CNN Studio folder."""
    import re

    from cnnstudio.gui.projects import data_dir

    folder = data_dir() / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "untitled"
    candidate = folder / f"{stem}.cnnproj"
    counter = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{counter}.cnnproj"
        counter += 1
    return candidate
