"""The Export section: export a run (verified, in a child `cnnstudio export`), fine-tune, and try
the model on dropped images (top-5 and Grad-CAM from the TensorFlow helper process).

The run list is the run store's: a run that finishes is offered at once, newest selected.
Alone: `python -m cnnstudio.gui.panels.export_panel [PROJECT]`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.child_process import ChildProcess, ChildResult, cli_command, run_child
from cnnstudio.gui.panels.common import box, muted, scrolled
from cnnstudio.gui.panels.export_tflite import DeployReportView, TFLiteOptions
from cnnstudio.gui.panels.helper import helper_for
from cnnstudio.gui.panels.try_model import DropArea, ResultCard
from cnnstudio.project.model import ProjectModel
from cnnstudio.training import run_records
from cnnstudio.training.runstore import RunChange, RunStore

FORMATS = {"savedmodel": ("SavedModel", "savedmodel"), "keras": (".keras", "model.keras"),
           "tflite": ("TFLite", "model.tflite"), "onnx": ("ONNX", "model.onnx"), "python": ("Python source", "model.py")}


def report_html(report: dict[str, Any]) -> str:
    """The verification report of one export as HTML."""
    ok = report.get("passed")
    head = f"<b>{report.get('format')}</b>: " + ("<span style='color:#2f9e5f'>verified</span>" if ok
                                                  else "<span style='color:#d64541'>verification FAILED</span>")
    lines = [head, "<ul style='margin-top:0'>"]
    lines += [f"<li>wrote {a}</li>" for a in report.get("artefacts", [])]
    for check in report.get("verification", []):
        limit = f"limit {check['tolerance']:g}" if check.get("tolerance") is not None else "quantised: reported only"
        lines.append(f"<li>{Path(check['artefact']).name}: {check['samples']} samples ({check['sample_origin']}), "
                     f"same top class {check['top_class_agreement']:.0%}, max |diff| {check['max_abs_diff']:.3g} "
                     f"({limit})</li>")
    lines += [f"<li>note: {n}</li>" for n in report.get("notes", [])]
    if report.get("deployment"):  # TFLite: each flavour's cost is in the deployment table
        warned = len(report.get("warnings") or [])
        lines.append("<li>deployment report (accuracy, agreement, size, latency) in the table above"
                     + (f"; <span style='color:#d64541'>{warned} accuracy warning(s)</span>" if warned else "")
                     + "</li>")
    return "".join(lines) + "</ul>"


def has_model(run_dir: Path) -> bool:
    """True when the run left weights to export: a checkpoint file or its final model."""
    checkpoints = run_dir / "checkpoints"
    return (run_dir / "model.keras").exists() or (checkpoints.is_dir() and any(checkpoints.iterdir()))


class ExportPanel(QWidget):
    message = Signal(str)

    def __init__(self, model: ProjectModel, runs: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.store = runs
        self.runs: list[run_records.RunSummary] = []
        self.process: ChildProcess | None = None
        self.queue: list[list[str]] = []
        self.reports: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.temp = tempfile.TemporaryDirectory(prefix="cnnstudio-infer-")
        self.confirm_error = lambda title, text: QMessageBox.warning(self, title, text)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter)

        left = QWidget()
        column = QVBoxLayout(left)
        model_frame, model_box = box("Trained model")
        self.run_box = QComboBox()
        self.run_box.setToolTip("A run of this project (its checkpoints are the source).")
        self.run_box.currentIndexChanged.connect(lambda _i: self._run_chosen())
        model_box.addWidget(self.run_box)
        source_row = QHBoxLayout()
        self.best = QRadioButton("best checkpoint")
        self.last = QRadioButton("last checkpoint")
        self.best.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.best)
        group.addButton(self.last)
        source_row.addWidget(self.best)
        source_row.addWidget(self.last)
        source_row.addStretch(1)
        model_box.addLayout(source_row)
        column.addWidget(model_frame)

        export_frame, export_box = box("Export", tip="Every artefact is verified in a fresh process.")
        grid = QGridLayout()
        self.format_boxes: dict[str, QCheckBox] = {}
        for i, (name, (label, _file)) in enumerate(FORMATS.items()):
            check = QCheckBox(label)
            check.setChecked(name == "savedmodel")
            self.format_boxes[name] = check
            grid.addWidget(check, i // 3, i % 3)
        export_box.addLayout(grid)
        self.tflite = TFLiteOptions()  # the same option table as `cnnstudio export --format tflite`
        self.tflite.setToolTip("TFLite only: the report states each flavour's accuracy against the float model.")
        export_box.addWidget(self.tflite)
        self.format_boxes["tflite"].toggled.connect(self.tflite.setEnabled)
        self.tflite.setEnabled(self.format_boxes["tflite"].isChecked())
        out_row = QHBoxLayout()
        self.output = QLineEdit(placeholderText="output folder")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_output)
        out_row.addWidget(self.output, 1)
        out_row.addWidget(choose)
        export_box.addLayout(out_row)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export and verify")
        self.export_button.clicked.connect(self.export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export that is running (files it had not finished are not kept).")
        self.cancel_button.clicked.connect(self.cancel_export)
        self.cancel_button.setEnabled(False)
        self.finetune_button = QPushButton("Fine-tune…")
        self.finetune_button.setToolTip("Start a fine-tuning of the chosen run on a new dataset.")
        self.finetune_button.clicked.connect(self.open_finetune)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.finetune_button)
        buttons.addStretch(1)
        export_box.addLayout(buttons)
        self.status = muted()
        export_box.addWidget(self.status)
        self.deployment = DeployReportView()
        export_box.addWidget(self.deployment)
        self.report = QTextBrowser()
        self.report.setPlaceholderText("The verification report appears here when the export finishes.")
        export_box.addWidget(self.report, 1)
        column.addWidget(export_frame, 1)
        splitter.addWidget(left)

        right = QWidget()
        right_column = QVBoxLayout(right)
        infer_frame, infer_box = box("Try the model", tip="Top-5 classes and a Grad-CAM overlay per image.")
        self.drop = DropArea(self.classify)
        infer_box.addWidget(self.drop)
        sample_row = QHBoxLayout()
        self.samples_button = QPushButton("Try validation samples")
        self.samples_button.setToolTip("Classify one validation image per class (from the run's last epoch).")
        self.samples_button.clicked.connect(self.classify_samples)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_results)
        sample_row.addWidget(self.samples_button)
        sample_row.addWidget(self.clear_button)
        sample_row.addStretch(1)
        infer_box.addLayout(sample_row)
        self.infer_status = muted()
        infer_box.addWidget(self.infer_status)
        self.cards_host = QWidget()
        self.cards = QVBoxLayout(self.cards_host)
        self.cards.addStretch(1)
        infer_box.addWidget(scrolled(self.cards_host), 1)
        right_column.addWidget(infer_frame)
        splitter.addWidget(right)
        splitter.setSizes([560, 700])
        self._unsubscribe = runs.subscribe(self._runs_changed)
        self._output_folder: Path | None = None
        self.refresh()

    # ---- runs ----------------------------------------------------------------------------------
    def _runs_changed(self, change: RunChange) -> None:
        self.refresh(newest=change.kind in ("finished", "reloaded"))

    def refresh(self, newest: bool = False) -> None:
        """Show the store's runs; `newest` selects the newest run with checkpoints (a run just ended)."""
        folder = self.store.folder
        self.runs = [run for run in self.store.runs if not self.store.is_live(run.path)]
        current = self.run_box.currentData()
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for run in self.runs:
            best = "" if run.best_metric is None else f" · best {run.best_metric:.3f}"
            self.run_box.addItem(f"{run.name} · {run.status}{best}", str(run.path))
        usable = [i for i, run in enumerate(self.runs) if has_model(run.path)]
        if not newest and current and self.run_box.findData(current) >= 0:
            self.run_box.setCurrentIndex(self.run_box.findData(current))
        elif usable:  # the newest run that has checkpoints to export
            self.run_box.setCurrentIndex(usable[0])
        self.run_box.blockSignals(False)
        default_output = str(folder.parent / "export") if folder is not None else ""
        if folder != self._output_folder and (not self.output.text() or self._output_folder is not None):
            self.output.setText(default_output)  # another project: its own export folder
            self._output_folder = folder
        self._run_chosen()

    def _run_chosen(self) -> None:
        """Export and predictions need weights: a checkpoint or the final model of the chosen run."""
        run = self.run_dir()
        usable = run is not None and has_model(run)
        for widget in (self.drop, self.samples_button, self.finetune_button):
            widget.setEnabled(usable)
        self.export_button.setEnabled(usable and self.process is None)
        if not self.runs:
            self.status.setText("Train the project first: exports and predictions use a run's checkpoints.")
        elif not usable:
            self.status.setText(f"Run {run.name if run else ''} has no checkpoint yet (it stopped before its "
                                "first epoch ended): choose another run, or resume it in Training.")
        elif self.status.text().startswith(("Train the project first", "Run ")):
            self.status.setText("")

    def run_dir(self) -> Path | None:
        data = self.run_box.currentData()
        return Path(data) if data else None

    def checkpoint(self) -> str:
        return "last" if self.last.isChecked() else "best"

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.output.text())
        if folder:
            self.output.setText(folder)

    # ---- export (child processes, one format after the other) ---------------------------------
    def export(self) -> bool:
        run = self.run_dir()
        chosen = [name for name, check in self.format_boxes.items() if check.isChecked()]
        if run is None or not has_model(run) or not chosen or self.process is not None:
            return False
        out = Path(self.output.text() or run.parent.parent / "export")
        out.mkdir(parents=True, exist_ok=True)
        self.queue = [cli_command("export", str(run), "--format", name, "-o", str(out / FORMATS[name][1]),
                                  "--checkpoint", self.checkpoint(), "--json",
                                  *(self.tflite.arguments() if name == "tflite" else ()))
                      for name in chosen]
        self.reports = []
        self.report.clear()
        self.deployment.show_report(None)
        self._next_export()
        return True

    def _next_export(self) -> None:
        if not self.queue:
            self.process = None
            self._run_chosen()
            self.cancel_button.setEnabled(False)
            passed = sum(1 for r in self.reports if r.get("passed"))
            warned = sum(len(r.get("warnings") or []) for r in self.reports)
            self.status.setText(f"Done: {passed} of {len(self.reports)} export(s) verified."
                                + (f" {warned} accuracy warning(s): see the deployment report." if warned else ""))
            return
        command = self.queue.pop(0)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Exporting {command[command.index('--format') + 1]} and verifying it in a fresh "
                            "process…")
        self.process = self._start(command, self._export_done)

    def _start(self, command: list[str], done) -> ChildProcess:
        return run_child(command, done, self)

    def _export_done(self, result: ChildResult) -> None:
        try:
            report = json.loads(result.stdout)
            self.reports.append(report)
            self.report.append(report_html(report))
            if report.get("deployment"):
                self.deployment.show_report(report["deployment"])
        except json.JSONDecodeError:
            message = f"error: {result.error_line()}"
            self.reports.append({"passed": False, "error": message})
            self.report.append(f"<p style='color:#d64541'>{message}</p>")
        self._next_export()

    def cancel_export(self) -> None:
        """Stop the running export and the ones queued after it."""
        if self.process is None or not self.cancel_button.isEnabled():
            return
        self.queue.clear()
        process, self.process = self.process, None
        process.kill()
        self.cancel_button.setEnabled(False)
        self._run_chosen()
        self.status.setText(f"Export cancelled ({len(self.reports)} finished before).")

    # ---- fine-tuning --------------------------------------------------------------------------
    def open_finetune(self):
        from cnnstudio.gui.panels.finetune_wizard import FinetuneWizard

        wizard = FinetuneWizard(self.runs, self.model.path, self)
        wizard.accepted.connect(lambda: self.start_finetune(wizard))
        wizard.open()
        return wizard

    def start_finetune(self, wizard) -> bool:
        problem = wizard.problem()
        if problem:
            self.confirm_error("Cannot fine-tune", problem)
            return False
        if self.process is not None:
            return False
        self.status.setText("Fine-tuning: writing the project and training its run(s)…")
        self.finetune_output = Path(wizard.output.text().strip())
        self.process = self._start(wizard.command(), self._finetune_done)
        return True

    def _finetune_done(self, result: ChildResult) -> None:
        self.process = None
        try:
            phases = json.loads(result.stdout)
        except json.JSONDecodeError:
            self.status.setText(f"Fine-tuning failed: {result.error_line()}")
            return
        lines = [f"phase {p['phase']}: {p['status']}, best {p.get('best_metric')} → {p['run_dir']}" for p in phases]
        self.status.setText(f"Fine-tuned into {self.finetune_output}. Open its project from File ▸ Open.")
        self.report.append("<p>" + "<br>".join(lines) + "</p>")

    # ---- inference ----------------------------------------------------------------------------
    def classify(self, files: list[str]) -> bool:
        run = self.run_dir()
        if run is None or not files:
            return False
        self.infer_status.setText(f"Classifying {len(files)} image(s)…")
        out = str(Path(self.temp.name) / f"predict-{len(self.results)}.npz")
        helper_for(self.window()).request("predict", {"model": str(run), "checkpoint": self.checkpoint(),
                                                        "images": files, "top_k": 5, "gradcam": True, "out": out},
                                            lambda answer: self._classified(answer, out))
        return True

    def sample_images(self, limit: int = 4) -> list[str]:
        """One validation image per class from the run's predictions, else from the dataset folder."""
        from cnnstudio.export.images import find_images
        from cnnstudio.training.val_predictions import read_val_predictions

        run = self.run_dir()
        picked: dict[int, str] = {}
        for row in (read_val_predictions(run) or {}).get("predictions", []) if run else []:
            if Path(row["path"]).is_file():
                picked.setdefault(int(row["label"]), row["path"])
        if picked:
            return [picked[k] for k in sorted(picked)][:limit]
        return [str(p) for p in find_images(self.model.project.dataset_folder(), limit)]

    def classify_samples(self) -> bool:
        return self.classify(self.sample_images())

    def clear_results(self) -> None:
        while self.cards.count() > 1:
            widget = self.cards.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.results.clear()
        self.infer_status.setText("")

    def wait_ready(self, timeout_s: float) -> bool:
        """For screenshots: show the model on a few validation images, and wait for the answer."""
        import time

        from PySide6.QtWidgets import QApplication

        if not self.results and self.run_dir() is not None:
            self.classify_samples()
        helper = getattr(self.window(), "_panels_helper", None)
        deadline = time.monotonic() + timeout_s
        while helper is not None and helper.busy and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.02)
        QApplication.processEvents()
        return helper is None or not helper.busy

    def _classified(self, answer: dict[str, Any], out: str) -> None:
        if not answer.get("ok"):
            self.infer_status.setText(f"Cannot classify: {answer.get('error')}")
            return
        arrays = dict(np.load(out)) if Path(out).exists() else {}
        for i, result in enumerate(answer["results"]):
            card = ResultCard(result, arrays.get(f"input_{i}"), arrays.get(f"gradcam_{i}"))
            self.cards.insertWidget(0, card)
            self.results.append(result)
        notes = " ".join(answer.get("notes") or [])
        self.infer_status.setText(f"{len(self.results)} image(s) classified. {notes}".strip())

    def shutdown(self) -> None:
        self._unsubscribe()
        self.queue.clear()
        process, self.process = self.process, None
        if process is not None:
            process.kill()
        if self.window() is self:  # alone (no window owns the helper): end it here
            helper = getattr(self, "_panels_helper", None)
            if helper is not None:
                helper.shutdown()
        self.temp.cleanup()


if __name__ == "__main__":
    from cnnstudio.gui.app import preview_panel

    raise SystemExit(preview_panel(ExportPanel))
