"""Augmentation settings as sliders and switches, generated from the project schema's ParamSpecs.

A float spec with a range becomes a labelled slider (the preview follows while dragging),
a bool a check box, anything else the generic ParamForm field.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGridLayout, QLabel, QWidget
from superqt import QLabeledDoubleSlider

from cnnstudio.gui.widgets.param_form import Field
from cnnstudio.project import schema


class AugmentationForm(QWidget):
    changed = Signal(str, object)

    def __init__(self, values: dict[str, Any], parent=None):
        super().__init__(parent)
        self.where = "Data › Augmentation"
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QWidget] = {}
        for spec in schema.AUGMENTATION:
            label = QLabel(spec.title)
            label.setToolTip(spec.help)
            value = values.get(spec.name, spec.default)
            if spec.kind == "float" and spec.minimum is not None and spec.maximum is not None:
                slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
                slider.setRange(float(spec.minimum), float(spec.maximum))
                slider.setDecimals(2 if spec.maximum <= 1 else 0)
                slider.setSingleStep((spec.maximum - spec.minimum) / 100)
                slider.setValue(float(value))
                slider.setToolTip(spec.help)
                slider.valueChanged.connect(lambda v, s=spec: self._commit(s, round(float(v), 4)))
                editor: QWidget = slider
            elif spec.kind == "bool":
                editor = QCheckBox()
                editor.setChecked(bool(value))
                editor.setToolTip(spec.help)
                editor.toggled.connect(lambda v, s=spec: self._commit(s, bool(v)))
            else:
                editor = Field(spec, value)
                editor.committed.connect(lambda v, s=spec: self.changed.emit(s.name, v))
            self.editors[spec.name] = editor
            form.addRow(label, editor)

    def invalid_fields(self) -> list[tuple[str, str]]:
        """Like ParamForm's: sliders and check boxes cannot hold a bad value, generic fields can."""
        return [(editor.spec.title, editor.problem) for editor in self.editors.values()
                if isinstance(editor, Field) and not editor.valid]

    def _commit(self, spec, value: Any) -> None:
        try:
            checked = spec.check(value)
        except Exception:  # the slider's range is the spec's: only rounding can get here
            return
        self.changed.emit(spec.name, checked)


def fill_grid(grid: QGridLayout, originals, variants, size: int = 72) -> None:
    """One row per image: the original, then its augmented variants."""
    from cnnstudio.gui.panels.common import array_to_pixmap

    while grid.count():
        widget = grid.takeAt(0).widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()
    for r, (original, row) in enumerate(zip(originals, variants, strict=True)):
        for c, image in enumerate([original, *row]):
            label = QLabel()
            label.setPixmap(array_to_pixmap(image, size))
            label.setToolTip("original" if c == 0 else f"augmented variant {c}")
            grid.addWidget(label, r, c)
