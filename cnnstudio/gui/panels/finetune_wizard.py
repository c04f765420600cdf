"""Fine-tune wizard: source model, what to freeze (its graph's groups and layers), new data, phases.

It only assembles the `cnnstudio finetune` command line; the Export panel runs it as a
child process, which writes a project per phase and trains its run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
    QWizard,
    QWizardPage,
)

from cnnstudio.gui.panels.common import cli_command, muted
from cnnstudio.training import run_records


def freeze_choices(run_dir: Path | None) -> list[tuple[str, str | None]]:
    """(label, --freeze value) from the run's architecture: groups first, then layers in order."""
    choices: list[tuple[str, str | None]] = [("Nothing: train every layer", None)]
    if run_dir is None:
        return choices
    project = run_records.read_json(Path(run_dir) / "config.json").get("project") or {}
    nodes = (project.get("architecture") or {}).get("nodes") or []
    groups: list[str] = []
    for node in nodes:
        group = node.get("group")
        if group and group not in groups:
            groups.append(group)
    choices += [(f"Group '{g}' and everything before it", g) for g in groups]
    choices += [(f"Layer '{n['name']}' ({n.get('type', '?')}) and everything before it", n["name"])
                for n in nodes if n.get("type") not in ("Input",)]
    return choices


def _folder_row(edit: QLineEdit, title: str) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    button = QPushButton("Choose…")

    def choose() -> None:
        folder = QFileDialog.getExistingDirectory(holder, title, edit.text())
        if folder:
            edit.setText(folder)

    button.clicked.connect(choose)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return holder


class FinetuneWizard(QWizard):
    def __init__(self, runs: list[Any], project_path: Path | None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Fine-tune a trained model")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(680, 420)
        self.runs = [r for r in runs if (Path(r.path) / "checkpoints").exists()]

        source = QWizardPage()
        source.setTitle("Source model and what to freeze")
        source.setSubTitle("The classifier is replaced for the new classes; frozen layers keep their weights "
                           "(BatchNorm in inference mode).")
        form = QFormLayout(source)
        self.source_box = QComboBox()
        for run in self.runs:
            best = "" if run.best_metric is None else f" (best {run.best_metric:.3f})"
            self.source_box.addItem(f"{run.name}{best}", str(run.path))
        self.keras_file = QLineEdit(placeholderText="or a .keras file")
        self.freeze_box = QComboBox()
        self.source_box.currentIndexChanged.connect(self._fill_freeze)
        form.addRow("Run", self.source_box)
        form.addRow(".keras file", self.keras_file)
        form.addRow("Freeze", self.freeze_box)
        self.addPage(source)

        data = QWizardPage()
        data.setTitle("New dataset")
        data.setSubTitle("A folder with one subfolder per class (or train/ val/ test/).")
        data_form = QFormLayout(data)
        self.data_folder = QLineEdit()
        data_form.addRow("Image folder", _folder_row(self.data_folder, "New dataset"))
        self.addPage(data)

        phases = QWizardPage()
        phases.setTitle("Phases")
        phases.setSubTitle("Optionally train only the new classifier first, then everything not frozen.")
        phase_form = QFormLayout(phases)
        self.head_epochs = QSpinBox(minimum=0, maximum=1000, value=1)
        self.head_epochs.setToolTip("Epochs training only the new classifier (0: a single phase).")
        self.epochs = QSpinBox(minimum=1, maximum=10000, value=5)
        self.backbone_lr = QDoubleSpinBox(minimum=0.001, maximum=1.0, singleStep=0.05, value=0.1, decimals=3)
        self.backbone_lr.setToolTip("Backbone learning rate as a fraction of the head's.")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(project_path).resolve().parent if project_path else Path.home()
        self.output = QLineEdit(str(base / f"finetune-{stamp}"))
        phase_form.addRow("Head-only epochs", self.head_epochs)
        phase_form.addRow("Epochs (all unfrozen)", self.epochs)
        phase_form.addRow("Backbone rate ×", self.backbone_lr)
        phase_form.addRow("Output folder", _folder_row(self.output, "Output folder"))
        phase_form.addRow(muted("The output folder receives one project per phase, their initial weights and "
                                "runs."))
        self.addPage(phases)
        self._fill_freeze()

    def _fill_freeze(self) -> None:
        self.freeze_box.clear()
        path = self.source_box.currentData()
        for label, value in freeze_choices(Path(path) if path else None):
            self.freeze_box.addItem(label, value)

    def source(self) -> str | None:
        return self.keras_file.text().strip() or self.source_box.currentData()

    def command(self) -> list[str]:
        source = self.source()
        args = ["finetune", str(source), "--data", self.data_folder.text().strip(), "-o", self.output.text().strip(),
                "--epochs", str(self.epochs.value()), "--head-epochs", str(self.head_epochs.value()),
                "--backbone-lr", f"{self.backbone_lr.value():g}", "--json"]
        if self.freeze_box.currentData():
            args += ["--freeze", str(self.freeze_box.currentData())]
        return cli_command(*args)

    def problem(self) -> str | None:
        if not self.source():
            return "Choose a trained run or a .keras file to start from."
        if not Path(self.data_folder.text().strip()).is_dir():
            return "Choose the new image folder."
        if not self.output.text().strip():
            return "Choose an output folder."
        return None
