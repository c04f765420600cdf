"""The "vary" toggle beside every project setting in the generated forms (Training, Data…)
and beside every numeric or choice parameter of the layer in the inspector (`node:NAME.PARAM`).

`DRAFT` is the search space being drawn up: key -> values text ("0, 10, 20"). A toggle in a
settings form and the Vary box of the Experiments section's space editor both edit it, and
both follow it, so a setting ticked in the Training section is ticked in Experiments too.
`install()` adds the toggle through param_form.FIELD_EXTRAS (once, when sections load).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QToolButton, QWidget

from cnnstudio.experiments.space import FIXED_SETTINGS, VARIABLE_SECTIONS
from cnnstudio.graph.params import ParamSpec

VARIABLE_KINDS = ("int", "float", "bool", "choice")


class VaryDraft:
    """The settings ticked to vary, with their values text; listeners hear every change."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def set(self, key: str, text: str) -> None:
        if self.values.get(key) != text:
            self.values[key] = text
            self._tell(key)

    def remove(self, key: str) -> None:
        if self.values.pop(key, None) is not None:
            self._tell(key)

    def clear(self) -> None:
        for key in list(self.values):
            self.remove(key)

    def _tell(self, key: str) -> None:
        for callback in list(self._listeners):
            callback(key)


DRAFT = VaryDraft()


def setting_key(spec: ParamSpec) -> str | None:
    """'training.learning_rate' when `spec` is a field of a variable schema section, else None."""
    from cnnstudio.project import schema

    for section in VARIABLE_SECTIONS:
        if any(candidate is spec for candidate in schema.SECTIONS[section]):
            key = f"{section}.{spec.name}"
            return None if key in FIXED_SETTINGS or spec.kind not in VARIABLE_KINDS else key
    return None


def field_key(form: Any, spec: ParamSpec) -> str | None:
    """The space key of a form's field: 'node:c1.filters' in the inspector's form of layer c1,
    'training.learning_rate' in a settings form, None for a field a sweep cannot vary."""
    node = getattr(form, "node", None)
    if node:
        return f"node:{node}.{spec.name}" if spec.kind in VARIABLE_KINDS else None
    return setting_key(spec)


def vary_toggle(form: Any, spec: ParamSpec) -> QWidget | None:
    """The FIELD_EXTRAS hook: a checkable "vary" button beside a project setting or a layer parameter."""
    key = field_key(form, spec)
    if key is None:
        return None
    button = QToolButton()
    button.setText("vary")
    button.setCheckable(True)
    button.setObjectName("VaryToggle")
    button.setProperty("setting", key)
    button.setToolTip(f"Vary {key} in the next sweep (Experiments section); its values are set there.")
    button.setChecked(key in DRAFT.values)

    def toggled(checked: bool) -> None:
        if checked:
            from cnnstudio.experiments.space_text import suggested_text

            current = getattr(form, "values", {}).get(spec.name, spec.default)
            DRAFT.set(key, DRAFT.values.get(key) or suggested_text(spec, current))
        else:
            DRAFT.remove(key)

    def follow(changed: str) -> None:
        if changed == key and button.isChecked() != (key in DRAFT.values):
            button.blockSignals(True)
            button.setChecked(key in DRAFT.values)
            button.blockSignals(False)

    button.toggled.connect(toggled)
    unsubscribe = DRAFT.subscribe(follow)
    button.destroyed.connect(lambda *_args: unsubscribe())
    return button


def install() -> None:
    from cnnstudio.gui.widgets import param_form

    if vary_toggle not in param_form.FIELD_EXTRAS:
        param_form.FIELD_EXTRAS.append(vary_toggle)
