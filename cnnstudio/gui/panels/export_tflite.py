"""The Export panel's TFLite parts: the options form, generated from the table `cnnstudio export`
registers its flags from (cnnstudio.export.tflite_options), and the deployment report view
(each flavour's accuracy, agreement with the float model, size, latency, loss warnings)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.export.tflite_options import OPTIONS, QUANTIZE, cli_arguments
from cnnstudio.export.tflite_report import calibration_text
from cnnstudio.gui.panels.common import muted, row_table

REPORT_COLUMNS = ("Flavour", "Accuracy", "Agrees with float", "Size", "× float32", "Latency / image")


class TFLiteOptions(QWidget):
    """One field per TFLite option; a field the chosen quantisation does not use is disabled
    (its tooltip says which quantisation uses it)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 4, 0, 0)
        form.addRow(muted("TFLite options (the report compares the TFLite file with the float model):"))
        self.fields: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        for option in OPTIONS:
            field = self._field(option)
            where = "" if option.quantize == QUANTIZE.quantize else f" (quantisation {' or '.join(option.quantize)})"
            field.setToolTip(f"{option.help}{where}. CLI: {option.flag}")
            label = QLabel(option.label + ":")
            label.setToolTip(field.toolTip())
            form.addRow(label, field)
            self.fields[option.key], self.labels[option.key] = field, label
        self._follow()

    def _field(self, option) -> QWidget:
        if option.kind == "choice":
            field = QComboBox()
            for value, text in option.choices.items():
                field.addItem(value, value)
                field.setItemData(field.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
            field.setCurrentIndex(field.findData(option.default))
            field.currentIndexChanged.connect(lambda _i: self._follow())
            return field
        field = QSpinBox() if option.kind == "int" else QDoubleSpinBox()
        if option.kind == "float":
            field.setDecimals(1)
            field.setSingleStep(0.5)
        field.setRange(option.minimum, option.maximum)
        field.setValue(option.default)
        field.setSuffix(option.suffix)
        field.valueChanged.connect(lambda _v: self.changed.emit())
        return field

    def quantize(self) -> str:
        return self.fields[QUANTIZE.key].currentData()

    def _follow(self) -> None:
        quantize = self.quantize()
        for option in OPTIONS:
            used = option.applies(quantize)
            self.fields[option.key].setEnabled(used)
            self.labels[option.key].setEnabled(used)
        self.changed.emit()

    def set_value(self, key: str, value: Any) -> None:
        field = self.fields[key]
        if isinstance(field, QComboBox):
            field.setCurrentIndex(field.findData(value))
        else:
            field.setValue(value)

    def values(self) -> dict[str, Any]:
        """{key: value} of the options the chosen quantisation uses."""
        quantize = self.quantize()
        out: dict[str, Any] = {}
        for option in OPTIONS:
            if option.applies(quantize):
                field = self.fields[option.key]
                out[option.key] = field.currentData() if isinstance(field, QComboBox) else field.value()
        return out

    def arguments(self) -> list[str]:
        """The `cnnstudio export` flags for these values."""
        return cli_arguments(self.values())


class DeployReportView(QWidget):
    """A TFLite export's deployment report: a table of flavours and its warnings, in red."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.caption = muted()
        self.table = row_table(REPORT_COLUMNS)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.warning = QLabel(objectName="FieldError")
        self.warning.setWordWrap(True)
        self.warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.caption)
        column.addWidget(self.table)
        column.addWidget(self.warning)
        self.show_report(None)

    def show_report(self, deployment: dict[str, Any] | None) -> None:
        self.setVisible(deployment is not None)
        self.table.setRowCount(0)
        if deployment is None:
            self.caption.clear()
            self.warning.clear()
            return
        threads = deployment["threads"]
        self.caption.setText(f"On {deployment['images']} images ({deployment['origin']}). Latency: median per "
                             f"image on this CPU, {deployment['runtime']} with XNNPACK, {threads} thread"
                             f"{'s' if threads != 1 else ''}. Warns above a loss of "
                             f"{deployment['threshold']:g} accuracy points."
                             + (f" int8 calibrated on {calibration_text(deployment['calibration'])}."
                                if deployment.get("calibration") else ""))
        for row in deployment["rows"]:
            cells = [row["flavour"], _percent(row.get("accuracy")), _percent(row.get("agreement")),
                     "-" if row.get("bytes") is None else f"{row['bytes'] / 1024:.1f} KB",
                     "-" if row.get("size_ratio") is None else f"{row['size_ratio']:.2f}",
                     "-" if row.get("latency_ms") is None else f"{row['latency_ms']:.3f} ms"]
            index = self.table.rowCount()
            self.table.insertRow(index)
            for position, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if position:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(index, position, item)
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(index) for index in range(self.table.rowCount()))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth())
        warnings = deployment.get("warnings") or []
        self.warning.setText("\n".join(f"⚠ {text}" for text in warnings))
        self.warning.setVisible(bool(warnings))

    def cell(self, flavour: str, column: str) -> str:
        """The text of `flavour`'s row in `column` (tests, screenshots)."""
        for index in range(self.table.rowCount()):
            if self.table.item(index, 0).text() == flavour:
                return self.table.item(index, REPORT_COLUMNS.index(column)).text()
        raise KeyError(flavour)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
