"""Forms generated from ParamSpecs: one editor widget per kind, validated as you type.

Used by the inspector (layer parameters), the block dialog and the settings panels.
A field commits only values its spec accepts; a bad value shows the spec's message under it
and stays visible (never clamped or reverted), and the form lists it in `invalid_fields()`
so that actions which use the settings (Start, Export) refuse while it is there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
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

INT32 = (-(2**31), 2**31 - 1)
_INTEGER_TEXT = re.compile(r"^\s*[-+]?\d*\s*$")


class IntBox(QSpinBox):
    """A spin box that keeps what was typed: out-of-range or over-long numbers stay in the box
    (the field shows the spec's message) instead of being clamped or reverted silently.

    Its own range is the whole int32 range so that the spec, not Qt, judges the value; the
    arrows step within the spec's range.
    """

    def __init__(self, spec: ParamSpec):
        super().__init__()
        self.low = int(spec.minimum) if spec.minimum is not None else INT32[0]
        self.high = int(spec.maximum) if spec.maximum is not None else INT32[1]
        self.setRange(*INT32)

    def validate(self, text: str, pos: int):  # noqa: D102
        if not _INTEGER_TEXT.match(text):
            return QValidator.State.Invalid, text, pos
        digits = text.strip().lstrip("+-")
        if not digits:
            return QValidator.State.Intermediate, text, pos
        if INT32[0] <= int(text) <= INT32[1]:
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos  # too long for Qt: the field says why

    def fixup(self, text: str) -> str:  # never rewrite what the user typed
        return text

    def is_acceptable(self) -> bool:
        return self.validate(self.lineEdit().text(), 0)[0] == QValidator.State.Acceptable

    def focusOutEvent(self, event) -> None:  # noqa: N802
        if self.is_acceptable():
            super().focusOutEvent(event)
        else:  # QAbstractSpinBox would put the previous value back: keep the text and its error
            QWidget.focusOutEvent(self, event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        from PySide6.QtCore import Qt

        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.is_acceptable():
            event.accept()  # same: Enter on a bad number keeps it (the error is already shown)
            return
        super().keyPressEvent(event)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = min(max(self.value() + steps * self.singleStep(), self.low), self.high)
        self.setValue(value)
        self.selectAll()

    def stepEnabled(self):  # noqa: N802
        flags = QSpinBox.StepEnabledFlag.StepNone
        if self.value() < self.high:
            flags |= QSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() > self.low:
            flags |= QSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def minimumSizeHint(self):  # noqa: N802
        hint = super().minimumSizeHint()  # the int32 range would make it as wide as "-2147483648"
        hint.setWidth(min(hint.width(), 60))
        return hint

    def sizeHint(self):  # noqa: N802
        hint = super().sizeHint()
        digits = max(len(str(self.low)), len(str(self.high)), 4)
        hint.setWidth(min(hint.width(), self.fontMetrics().horizontalAdvance("9" * min(digits, 10)) + 40))
        return hint


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
        self.problem = ""  # the message shown under the editor; "" while the value is good
        self.rule_problem = ""  # a rule across fields (schema.rule_problems) that this value breaks
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.editor = self._make_editor(value)
        self.editor.setToolTip(spec.help)
        if not isinstance(self.editor, QComboBox):  # a choice keeps room for its longest text
            self.editor.setMinimumWidth(60)  # the form must fit a narrow inspector
        layout.addWidget(self.editor)
        layout.addWidget(self.error)

    # ---- editors per kind -------------------------------------------------------------
    def _make_editor(self, value: Any) -> QWidget:
        spec = self.spec
        if spec.kind == "int" and not spec.optional:
            box = IntBox(spec)
            box.setValue(int(value) if isinstance(value, (int, float)) else int(spec.default))
            box.setKeyboardTracking(False)  # commit when typing pauses, not on every digit
            box.valueChanged.connect(lambda v: self._commit(v))
            box.lineEdit().textEdited.connect(self._check_int_text)
            return box
        if spec.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda v: self._commit(bool(v)))
            return box
        if spec.kind == "choice":
            box = QComboBox()
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            # As wide as its longest choice ("balanced_accuracy"): a chosen value is never cut off.
            box.setMinimumContentsLength(max(8, *(len(str(choice)) for choice in spec.choices)))
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
    @property
    def valid(self) -> bool:
        return not (self.problem or self.rule_problem)

    def show_rule_problem(self, message: str) -> None:
        """A rule across fields (set by the form); the field's own error wins when both apply."""
        self.rule_problem = message
        self._render()

    def _show(self, message: str) -> None:
        self.problem = message
        self._render()

    def _render(self) -> None:
        message = self.problem or self.rule_problem
        self.error.setText(message)
        self.error.setVisible(bool(message))
        target = self.editor
        target.setProperty("invalid", bool(message))
        target.style().unpolish(target)
        target.style().polish(target)

    def _words(self, exc: Exception, received: Any) -> str:
        """The spec's message in the form's words: what the field accepts and what it received
        (numbers and choices; other kinds keep the spec's own explanation)."""
        if self.spec.kind in ("int", "float", "choice"):
            from cnnstudio.project.schema import allowed

            shown = value_to_text(received) if not isinstance(received, str) else received.strip()
            return f"Must be {allowed(self.spec)}. Received: {shown}"
        return str(exc)

    def _check_text(self, text: str) -> bool:
        try:
            text_to_value(self.spec, text)
        except ParameterError as exc:
            self._show(self._words(exc, text) if text.strip() else str(exc))
            return False
        self._show("")
        return True

    def _check_int_text(self, text: str) -> None:
        """As the user types into a spin box: a number outside the spec shows its message at once."""
        try:
            self.spec.check(text.strip())
        except ParameterError as exc:
            self._show(self._words(exc, text) if text.strip().lstrip("+-") else "Needs a value.")
            return
        self._show("")

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
            self._show(self._words(exc, value))
            return
        self._show("")
        self.committed.emit(checked)


# Widgets other sections put beside every generated field (the Experiments section's "vary"
# toggle): each hook takes (form, spec) and returns a widget, or None to add nothing.
FIELD_EXTRAS: list[Callable[[Any, ParamSpec], QWidget | None]] = []


class ParamForm(QWidget):
    """A form for a tuple of ParamSpecs; `changed(name, value)` on every committed edit.

    `rules(values)` (e.g. schema.rule_problems for a section) returns (field names, message)
    for combinations that are wrong although each field is fine: the fields involved show
    the message and are not committed until the combination is right again.
    `where` names the form in messages ("Training settings").
    `node` names the layer whose parameters the form edits (the inspector), for FIELD_EXTRAS.
    """

    changed = Signal(str, object)

    def __init__(self, specs: tuple[ParamSpec, ...], values: dict[str, Any], parent=None,
                 rules: Callable[[dict[str, Any]], list[tuple[tuple[str, ...], str]]] | None = None,
                 where: str = "", node: str | None = None):
        super().__init__(parent)
        self.fields: dict[str, Field] = {}
        self.node = node
        self.rules = rules
        self.where = where
        self.values = {spec.name: values.get(spec.name, spec.default) for spec in specs}
        self.committed_values = dict(self.values)
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
        self._apply_rules()

    def _label(self, spec: ParamSpec) -> QLabel:
        label = QLabel(spec.title)
        label.setToolTip(spec.help)
        return label

    def _field(self, spec: ParamSpec, values: dict[str, Any]) -> QWidget:
        field = Field(spec, values.get(spec.name, spec.default))
        field.committed.connect(lambda value, name=spec.name: self._field_committed(name, value))
        self.fields[spec.name] = field
        extras = [widget for hook in FIELD_EXTRAS if (widget := hook(self, spec)) is not None]
        if not extras:
            return field
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(field, 1)
        for widget in extras:
            line.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def _field_committed(self, name: str, value: Any) -> None:
        self.values[name] = value
        broken = self._apply_rules()
        for other, pending in self.values.items():
            if other in broken or not self.fields[other].valid:
                continue
            if other == name or pending != self.committed_values.get(other):
                self.committed_values[other] = pending  # a field held back by a rule goes through now
                self.changed.emit(other, pending)

    def _apply_rules(self) -> set[str]:
        problems = self.rules(dict(self.values)) if self.rules is not None else []
        messages: dict[str, str] = {}
        for names, message in problems:
            for name in names:
                messages.setdefault(name, message)
        for name, field in self.fields.items():
            field.show_rule_problem(messages.get(name, ""))
        return set(messages)

    def invalid_fields(self) -> list[tuple[str, str]]:
        """(field title, message) for every field whose shown value is not the one in use."""
        return [(field.spec.title, field.problem or field.rule_problem)
                for field in self.fields.values() if not field.valid]


def invalid_settings(root: QWidget) -> list[str]:
    """Every invalid field of every generated form under `root` (hidden forms being replaced
    excepted), as "Form › Field: message" lines. Actions that use the settings refuse while
    this is not empty, so a value shown in red is never silently replaced by an older one."""
    lines = []
    for form in root.findChildren(QWidget):
        check = getattr(form, "invalid_fields", None)
        if check is None or form.isHidden():
            continue
        where = getattr(form, "where", "")
        for title, message in check():
            lines.append(f"{where} › {title}: {message}" if where else f"{title}: {message}")
    return lines


def refusal(widget: QWidget, action: str) -> str:
    """'' when every form of `widget`'s window is valid, else one message naming the fields that
    stop `action`. The whole window: Start in Training uses the Data tab's split settings too."""
    lines = invalid_settings(widget.window())
    if not lines:
        return ""
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{action} refused: fix {lines[0]}{more}"
