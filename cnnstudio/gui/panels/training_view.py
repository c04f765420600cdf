"""The centre of the Training section, as widgets only: state chip, Start / Stop / Resume,
progress and ETA, the failure banner, live plots, confusion matrix, event log, worker output.
The Training panel (training_panel.py) wires them to the worker and the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
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

from cnnstudio.gui.panels.common import box, muted
from cnnstudio.gui.panels.confusion import ClassBars, ConfusionMatrix
from cnnstudio.gui.panels.plots import LivePlots
from cnnstudio.gui.panels.training_text import (
    CATEGORIES,
    LOG_LINES,
    duration,
    fix_for,
    local_gpus,
    log_lines,
)
from cnnstudio.training import run_records
from cnnstudio.training.run_records import RunSummary
from cnnstudio.training.rundir import RunDirectory


class RunView(QWidget):
    PARTS = ("state_label", "start_button", "stop_button", "resume_button", "progress", "eta", "run_label",
             "banner", "banner_text", "banner_fix", "banner_resume", "plots", "tabs", "matrix", "class_bars",
             "log", "worker_log")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 0, 0, 0)
        bar = QHBoxLayout()
        self.state_label = QLabel(objectName="StateChip")
        self.start_button = QPushButton("▶ Start")
        self.start_button.setToolTip("Save the project and train it in a new run (a separate worker process).")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Finish the current step, write a checkpoint and stop (resume later).")
        self.resume_button = QPushButton("⟳ Resume")
        self.resume_button.setToolTip("Continue the latest run from its last checkpoint.")
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
        self.banner_fix = QPushButton()
        self.banner_fix.hide()
        self.banner_resume = QPushButton("Resume")
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.banner_fix)
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
        self.class_bars = ClassBars()
        left, _ = box("Confusion matrix (validation)", self.matrix)
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

    def clear(self, keep_log: bool = False) -> None:
        self.plots.clear()
        self.matrix.set_matrix(None, [])
        self.class_bars.set_values(None, [])
        if not keep_log:
            self.log.clear()
        self.progress.setValue(0)
        self.eta.setText("")

    def show_epoch(self, event: dict[str, Any], classes: list[str]) -> None:
        if event.get("confusion_matrix"):
            self.matrix.set_matrix(event["confusion_matrix"], classes)
        self.class_bars.set_values(event.get("per_class_accuracy"), classes)

    def show_saved_run(self, run_dir: Path, summary: RunSummary, keep_log: bool = False) -> list[str]:
        """Draw a run from its files (curves, last matrix, event log, status line); its class names."""
        classes = run_records.class_names(run_dir)
        for record in run_records.read_batches(run_dir):
            self.plots.add_batch(record)
        for row in RunDirectory(run_dir, writer=False).read_metrics():
            self.plots.add_epoch({**row, "best": False})
        self.plots.set_best(summary.best_epoch)
        epoch = run_records.last_event(run_dir, "epoch")
        if epoch is not None:
            self.show_epoch(epoch, classes)
        if not keep_log:
            self.log.setPlainText("\n".join(log_lines(run_dir)))
        if summary.epochs:
            self.progress.setValue(int(100 * summary.epochs_completed / summary.epochs))
        best = "" if summary.best_metric is None else f", best {summary.best_metric:.3f} at epoch {summary.best_epoch}"
        took = f", {duration(summary.seconds)}" if summary.seconds else ""
        self.run_label.setText(f"Run {run_dir.name}: {summary.status}, {summary.epochs_completed}/"
                               f"{summary.epochs or '?'} epochs{best}{took}.")
        return classes

    def show_failure(self, category: str, message: str) -> str:
        """The banner for a failed run, with its fix's button when there is one; returns the title."""
        title = CATEGORIES.get(category, category)
        self.banner_text.setText(f"<b>{title}.</b> {message}")
        fix = fix_for(category)
        self.banner_fix.setVisible(fix is not None)
        if fix is not None:
            self.banner_fix.setText(fix.button)
            self.banner_fix.setToolTip(fix.tip)
        self.banner.show()
        return title

    def hide_failure(self) -> None:
        self.banner.hide()
        self.banner_fix.hide()


class DeviceChoice(QComboBox):
    """Where the worker trains: automatic, CPU, each local GPU, all GPUs; `picked(value)` on a choice."""

    picked = Signal(str)

    def __init__(self, current: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip("Where the worker trains: one device, or every GPU with MirroredStrategy.")
        choices = [("Automatic (GPU if present)", "auto"), ("CPU", "cpu")]
        gpus = local_gpus()
        choices += [(f"GPU {i}: {name}", f"gpu:{i}") for i, name in enumerate(gpus)]
        if len(gpus) > 1:
            choices.append((f"All {len(gpus)} GPUs (mirrored)", "all"))
        for text, value in choices:
            self.addItem(text, value)
        self.select(current)
        self.currentIndexChanged.connect(lambda i: self.picked.emit(self.itemData(i)))

    def select(self, value: str) -> None:
        """Show `value` without telling anyone (it came from the model)."""
        self.blockSignals(True)
        if self.findData(value) < 0:
            self.addItem(value, value)  # a setting typed elsewhere (e.g. gpu:3 on another machine)
        self.setCurrentIndex(self.findData(value))
        self.blockSignals(False)
