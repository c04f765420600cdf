"""Generated forms never hide a bad value: what is typed stays, says what is wrong, is not
committed, and the form lists it so that Start/Export refuse (issue 12 §3)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from cnnstudio.gui.widgets.param_form import ParamForm, invalid_settings, refusal
from cnnstudio.project import schema


@pytest.fixture
def app():
    from cnnstudio.gui.app import _application

    return _application()


def hosted(qtbot, form: QWidget) -> QMainWindow:
    window = QMainWindow()
    holder = QWidget()
    QVBoxLayout(holder).addWidget(form)
    window.setCentralWidget(holder)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def retype(qtbot, editor, text: str) -> None:
    """Select what is there, type `text` and press Enter, as a user does."""
    line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
    editor.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    editor.clearFocus()


def test_bad_values_stay_visible_and_block_start(app, qtbot):
    values = schema.defaults("training")
    form = ParamForm(schema.TRAINING, values, where="Training settings")
    committed: list[tuple[str, object]] = []
    form.changed.connect(lambda name, value: committed.append((name, value)))
    window = hosted(qtbot, form)
    assert form.invalid_fields() == [] and refusal(window, "Start") == ""

    learning_rate = form.fields["learning_rate"]
    retype(qtbot, learning_rate.editor, "0.05x")
    assert learning_rate.editor.text() == "0.05x"
    assert not learning_rate.valid and learning_rate.error.isVisibleTo(form)
    assert learning_rate.error.text() == "Must be a number from 1e-08 to 10. Received: 0.05x"

    batch = form.fields["batch_size"]
    retype(qtbot, batch.editor, "-5")
    assert batch.editor.lineEdit().text() == "-5"  # not turned into 5
    assert not batch.valid and batch.problem == "Must be a whole number from 1 to 65536. Received: -5"

    seed = form.fields["seed"]
    retype(qtbot, seed.editor, "99999999999")
    assert seed.editor.lineEdit().text() == "99999999999"  # not clamped to 2147483647
    assert not seed.valid

    assert not [c for c in committed if c[0] in ("learning_rate", "batch_size", "seed")]
    titles = [title for title, _message in form.invalid_fields()]
    assert titles == ["Learning rate", "Batch size", "Seed"]
    refused = refusal(window, "Start")
    assert refused.startswith("Start refused: fix Training settings › Learning rate: Must be a number")
    assert "(and 2 more)" in refused

    retype(qtbot, learning_rate.editor, "0.01")
    retype(qtbot, batch.editor, "64")
    retype(qtbot, seed.editor, "7")
    assert form.invalid_fields() == [] and refusal(window, "Start") == ""
    assert ("learning_rate", 0.01) in committed and ("batch_size", 64) in committed and ("seed", 7) in committed


def test_spin_box_arrows_stay_inside_the_spec(app, qtbot):
    form = ParamForm(schema.TRAINING, {"batch_size": 1})
    window = hosted(qtbot, form)
    box = form.fields["batch_size"].editor
    box.stepBy(-3)
    assert box.value() == 1 and form.fields["batch_size"].valid
    box.stepBy(2)
    assert box.value() == 3 and window.isVisible()


def test_validation_plus_test_share_must_stay_below_one(app, qtbot):
    specs = tuple(s for s in schema.DATASET if s.name != "folder")
    form = ParamForm(specs, schema.defaults("dataset"), where="Data › Split",
                     rules=lambda values: schema.rule_problems("dataset", values))
    committed: dict[str, object] = {}
    form.changed.connect(lambda name, value: committed.__setitem__(name, value))
    window = hosted(qtbot, form)
    validation, test = form.fields["validation_fraction"], form.fields["test_fraction"]
    retype(qtbot, validation.editor, "0.6")
    assert committed == {"validation_fraction": 0.6}
    retype(qtbot, test.editor, "0.6")
    assert "test_fraction" not in committed  # the project keeps a split that leaves training images
    for field in (validation, test):
        assert not field.valid and field.error.isVisibleTo(form)
        assert "Validation share" in field.error.text() and "test share" in field.error.text()
    assert "Data › Split › Validation share" in invalid_settings(window)[0]
    retype(qtbot, validation.editor, "0.3")  # fixing one field lets the held-back one through
    assert committed == {"validation_fraction": 0.3, "test_fraction": 0.6}
    assert form.invalid_fields() == []


def test_hidden_forms_being_replaced_do_not_count(app, qtbot):
    form = ParamForm(schema.TRAINING, {})
    window = hosted(qtbot, form)
    retype(qtbot, form.fields["learning_rate"].editor, "abc")
    assert invalid_settings(window)
    form.hide()  # what the Data panel does to a form it replaces
    assert invalid_settings(window) == []
