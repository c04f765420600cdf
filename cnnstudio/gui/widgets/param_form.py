"""Forms generated from ParamSpecs: one editor widget per kind, validated as you type.

Used by the inspector (layer parameters), the block dialog and later the settings panels.
A field commits only values its spec accepts; a bad value shows the spec's message under it.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import ParameterError
from cnnstudio.graph.initializers import INITIALIZERS
from cnnstudio.graph.params import ParamSpec


def value_to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) for v in value) and len(value) == 2:
            return f"{value[0]}x{value[1]}"
        return json.dumps(value)
    return str(value)


def text_to_value(spec: ParamSpec, text: str) -> Any:
    """Parse what was typed and check it; raises ParameterError with the spec's message."""
    text = text.strip()
    if not text:
        if spec.optional:
            return None
        if spec.kind == "text":
            return spec.check("")
        raise ParameterError(f"'{spec.name}' needs a value.", field=spec.name)
    raw: Any = text
    if spec.kind in ("padding4", "shape", "size", "padding") and text.startswith("["):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            raise ParameterError(f"'{spec.name}': cannot read {text!r}; write e.g. 3, 3x5 or [3, 5].",
                                 field=spec.name) from None
    elif spec.kind in ("int",):
        raw = text
    elif spec.kind == "float":
        raw = text
    return spec.check(raw)


class Field(QWidget):
    """One parameter's editor; emits `committed(value)` with a checked value."""

    committed = Signal(object)

    def __init__(self, spec: ParamSpec, value: Any, parent=None):
        super().__init__(parent)
        self.spec = spec
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.editor = self._make_editor(value)
        self.editor.setToolTip(spec.help)
        self.editor.setMinimumWidth(60)  # the form must fit a narrow inspector
        layout.addWidget(self.editor)
        layout.addWidget(self.error)

    # ---- editors per kind -------------------------------------------------------------
    def _make_editor(self, value: Any) -> QWidget:
        spec = self.spec
        if spec.kind == "int" and not spec.optional:
            box = QSpinBox()
            box.setRange(int(spec.minimum if spec.minimum is not None else -(2**31)),
                         int(spec.maximum if spec.maximum is not None else 2**31 - 1))
            box.setValue(int(value) if isinstance(value, (int, float)) else int(spec.default))
            box.setKeyboardTracking(False)  # commit when typing pauses, not on every digit
            box.valueChanged.connect(lambda v: self._commit(v))
            return box
        if spec.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda v: self._commit(bool(v)))
            return box
        if spec.kind == "choice":
            box = QComboBox()
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            for choice in spec.choices:
                box.addItem(str(choice), choice)
            index = box.findData(value)
            box.setCurrentIndex(max(0, index))
            box.currentIndexChanged.connect(lambda i: self._commit(box.itemData(i)))
            return box
        if spec.kind == "initializer":
            box = QComboBox()
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            box.addItem("Project default", None)
            for item in INITIALIZERS.values():
                box.addItem(item.label, item.name)
                box.setItemData(box.count() - 1, item.help, 3)  # ToolTipRole
            name = value.get("name") if isinstance(value, dict) else None
            box.setCurrentIndex(max(0, box.findData(name)))
            box.currentIndexChanged.connect(
                lambda i: self._commit(None if box.itemData(i) is None else {"name": box.itemData(i)})
            )
            return box
        if spec.kind == "regularizer":
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            current = value if isinstance(value, dict) else {}
            self.l1 = QLineEdit(value_to_text(current.get("l1") or None), placeholderText="λ1 (L1)")
            self.l2 = QLineEdit(value_to_text(current.get("l2") or None), placeholderText="λ2 (L2)")
            for edit in (self.l1, self.l2):
                edit.setMinimumWidth(40)
                edit.setToolTip("C = C0 + λ1 Σ|w| + λ2 Σw². Empty: none.")
                edit.textChanged.connect(self._check_regularizer)
                edit.editingFinished.connect(self._commit_regularizer)
                row.addWidget(edit)
            return holder
        edit = QLineEdit(value_to_text(value))
        if spec.optional:
            edit.setPlaceholderText("empty: " + ("any" if spec.kind == "int" else "default"))
        edit.textChanged.connect(self._check_text)
        edit.editingFinished.connect(self._commit_text)
        return edit

    # ---- validation ---------------------------------------------------------------------
    def _show(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        target = self.editor
        target.setProperty("invalid", bool(message))
        target.style().unpolish(target)
        target.style().polish(target)

    def _check_text(self, text: str) -> bool:
        try:
            text_to_value(self.spec, text)
        except ParameterError as exc:
            self._show(str(exc))
            return False
        self._show("")
        return True

    def _commit_text(self) -> None:
        text = self.editor.text()
        if self._check_text(text):
            self._commit(text_to_value(self.spec, text))

    def _regularizer_value(self) -> dict | None:
        values = {}
        for key, edit in (("l1", self.l1), ("l2", self.l2)):
            text = edit.text().strip()
            values[key] = float(text) if text else 0.0
        if not values["l1"] and not values["l2"]:
            return None
        return self.spec.check(values)

    def _check_regularizer(self) -> bool:
        try:
            self._regularizer_value()
        except (ValueError, ParameterError) as exc:
            self._show(str(exc) if isinstance(exc, ParameterError) else "λ must be a number such as 1e-4.")
            return False
        self._show("")
        return True

    def _commit_regularizer(self) -> None:
        if self._check_regularizer():
            self._commit(self._regularizer_value())

    def _commit(self, value: Any) -> None:
        try:
            checked = self.spec.check(value)
        except ParameterError as exc:
            self._show(str(exc))
            return
        self._show("")
        self.committed.emit(checked)


class ParamForm(QWidget):
    """A form for a tuple of ParamSpecs; `changed(name, value)` on every committed edit."""

    changed = Signal(str, object)

    def __init__(self, specs: tuple[ParamSpec, ...], values: dict[str, Any], parent=None):
        super().__init__(parent)
        self.fields: dict[str, Field] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        main = QFormLayout()
        main.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        main.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(main)
        advanced = [s for s in specs if s.advanced]
        for spec in specs:
            if spec.advanced:
                continue
            main.addRow(self._label(spec), self._field(spec, values))
        if advanced:
            from superqt import QCollapsible

            more = QCollapsible("More")
            holder = QWidget()
            form = QFormLayout(holder)
            form.setContentsMargins(0, 0, 0, 0)
            for spec in advanced:
                form.addRow(self._label(spec), self._field(spec, values))
            more.addWidget(holder)
            outer.addWidget(more)
            self.more = more

    def _label(self, spec: ParamSpec) -> QLabel:
        label = QLabel(spec.title)
        label.setToolTip(spec.help)
        return label

    def _field(self, spec: ParamSpec, values: dict[str, Any]) -> Field:
        field = Field(spec, values.get(spec.name, spec.default))
        field.committed.connect(lambda value, name=spec.name: self.changed.emit(name, value))
        self.fields[spec.name] = field
        return field
