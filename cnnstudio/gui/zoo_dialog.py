"""Pick a classic architecture, set its knobs, see its totals live, then insert it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.graph.analysis import analyze, human_bytes, human_count
from cnnstudio.graph.model import Graph
from cnnstudio.gui.widgets.param_form import ParamForm, refusal


def _zoo():
    try:
        from cnnstudio import zoo
    except ImportError:  # the zoo package is optional while it is being written
        return None
    return zoo if hasattr(zoo, "families") and hasattr(zoo, "create") else None


class ZooDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New from the zoo")
        self.resize(820, 520)
        self.graph: Graph | None = None
        self.knobs: dict[str, Any] = {}
        self.zoo = _zoo()
        self.list = QListWidget()
        self.list.setFixedWidth(200)
        self.form_host = QVBoxLayout()
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.totals = QLabel()
        self.totals.setTextFormat(Qt.TextFormat.RichText)
        self.totals.setWordWrap(True)
        self.height_box, self.width_box, self.channels_box, self.classes_box = (QSpinBox() for _ in range(4))
        for box, high in ((self.height_box, 4096), (self.width_box, 4096), (self.channels_box, 64),
                          (self.classes_box, 100000)):
            box.setRange(1, high)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._schedule)
        size_form = QFormLayout()
        size_form.addRow("Input height H", self.height_box)
        size_form.addRow("Input width W", self.width_box)
        size_form.addRow("Channels D", self.channels_box)
        size_form.addRow("Classes", self.classes_box)
        right = QVBoxLayout()
        right.addWidget(self.about)
        right.addLayout(size_form)
        right.addLayout(self.form_host)
        right.addStretch(1)
        right.addWidget(self.totals)
        holder = QWidget()
        holder.setLayout(right)
        row = QHBoxLayout()
        row.addWidget(self.list)
        row.addWidget(holder, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        self.refused = QLabel(objectName="FieldError", wordWrap=True)  # why Create did nothing
        self.refused.hide()
        layout.addWidget(self.refused)
        layout.addWidget(self.buttons)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(120)
        self.timer.timeout.connect(self.rebuild)
        self.form: ParamForm | None = None
        if self.zoo is None:
            self.about.setText("The architecture zoo is not available in this installation.")
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return
        for family in self.zoo.families():
            item = QListWidgetItem(family.title)
            item.setData(Qt.ItemDataRole.UserRole, family.name)
            item.setToolTip(family.summary)
            self.list.addItem(item)
        self.list.currentItemChanged.connect(lambda item, _: self.choose(item.data(Qt.ItemDataRole.UserRole)))
        self.list.setCurrentRow(0)

    def choose(self, name: str) -> None:
        family = self.zoo.describe(name)
        self.family = family
        self.knobs = family.defaults()
        self.about.setText(f"<b>{family.title}</b><br>{family.summary}<br><i>{family.reference}</i>")
        for box, value in zip((self.height_box, self.width_box, self.channels_box),
                              family.input_shape, strict=True):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.classes_box.blockSignals(True)
        self.classes_box.setValue(family.classes)
        self.classes_box.blockSignals(False)
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
        self.refused.hide()
        self.form = ParamForm(family.knobs, self.knobs, where=family.title)
        self.form.changed.connect(self._knob_changed)
        self.form_host.addWidget(self.form)
        self.rebuild()

    def accept(self) -> None:
        """Create only from the values shown: a knob in red (its last good value is the one the
        totals use) refuses, naming the field."""
        refused = refusal(self, "Create")
        if refused:
            self.refused.setText(refused)
            self.refused.show()
            return
        self.refused.hide()
        super().accept()

    def _knob_changed(self, key: str, value: Any) -> None:
        self.knobs[key] = value
        self._schedule()

    def _schedule(self, *_args) -> None:
        self.timer.start()

    def rebuild(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            graph = self.zoo.create(self.family.name, (self.height_box.value(), self.width_box.value()),
                                    self.channels_box.value(), self.classes_box.value(), **self.knobs)
        except StudioError as exc:
            self.graph = None
            self.totals.setText(f"<span style='color:#d64541'>{exc}</span>")
            ok.setEnabled(False)
            return
        analysis = analyze(graph)
        self.graph = graph
        ok.setEnabled(analysis.valid)
        self.totals.setText(
            f"<b>{len(graph)}</b> layers · <b>{human_count(analysis.total_params)}</b> parameters · "
            f"<b>{human_count(analysis.macs)}</b> MACs · {human_bytes(analysis.activation_bytes)} activations "
            "per image" + ("" if analysis.valid else f"<br><span style='color:#d64541'>"
                           f"{analysis.errors[0].message}</span>")
        )
