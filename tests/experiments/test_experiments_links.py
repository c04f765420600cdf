"""The Experiments section in the window: vary a layer parameter from the inspector, and
"Open trial" shows the trial's run in the Runs section."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from cnnstudio.gui.panels.experiments_vary import DRAFT
from cnnstudio.project import load_project
from tests.experiments.helpers import small_digits
from tests.experiments.test_experiments_panel import fake_sweep
from tests.gui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow

    DRAFT.clear()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNSTUDIO_HOME", str(tmp_path / "home"))
    _application()
    win = MainWindow(load_project(small_digits(tmp_path, classes=4, per_class=3)))
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.sections["Experiments"].shutdown()
    win.close()
    DRAFT.clear()


def test_vary_a_layer_parameter_from_the_inspector(window, qtbot):
    editor = window.editor
    name = next(node.name for node in window.project.graph if node.type == "Conv2D")
    editor.scene.clearSelection()
    editor.scene.cards[name].setSelected(True)  # the card, selected as a click does
    qtbot.waitUntil(lambda: editor.inspector.node == name)
    toggles = {b.property("setting"): b for b in editor.inspector.form.findChildren(QToolButton, "VaryToggle")}
    key = f"node:{name}.filters"
    assert key in toggles and f"node:{name}.activation" in toggles  # a choice varies too
    assert all(k.startswith(f"node:{name}.") for k in toggles)  # no project-setting key in a layer's form
    qtbot.mouseClick(toggles[key], Qt.MouseButton.LeftButton)
    assert key in DRAFT.values
    window.show_section("Experiments")
    space = window.sections["Experiments"].space_editor
    row = space._find(key)
    assert row.checkState(0) == Qt.CheckState.Checked and row.text(1) == DRAFT.values[key]
    assert not row.isHidden() and row.parent().isExpanded()  # shown where the user looks
    row.setText(1, "4, 8")  # the values, edited in the Experiments section
    assert space.space() == {key: {"choices": [4, 8]}}
    row.setCheckState(0, Qt.CheckState.Unchecked)  # and unticked there: the inspector's toggle follows
    assert not toggles[key].isChecked()
    window.show_section("Architecture")
    editor.scene.clearSelection()
    editor.scene.cards[name].setSelected(True)
    qtbot.waitUntil(lambda: editor.inspector.node == name)
    qtbot.mouseClick(editor.inspector.form.findChild(QToolButton, "VaryToggle"), Qt.MouseButton.LeftButton)
    assert len(DRAFT.values) == 1 and row.checkState(0) == Qt.CheckState.Checked  # a fresh form's toggle too


def trial_run(folder, started):
    folder.mkdir(parents=True)
    (folder / "job.json").write_text(json.dumps({"project": "trial.cnnproj", "run_dir": str(folder)}))
    (folder / "run.json").write_text(json.dumps({"status": "completed", "epochs": 2, "epochs_completed": 2,
                                                 "best_metric": 0.9, "best_epoch": 2, "started": started}))
    (folder / "metrics.csv").write_text("epoch,val_accuracy,val_loss\n1,0.5,1.0\n2,0.9,0.4\n")


def test_open_trial_shows_its_run_in_the_runs_section(window, qtbot, tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", [
        (0, "completed", {"training.learning_rate": 0.01}, 0.8, 2000),
        (1, "completed", {"training.learning_rate": 0.001}, 0.9, 4000),
        (2, "running", {"training.learning_rate": 0.1}, None, 4000),
    ])
    for number in (0, 1):
        trial_run(sweep.path / f"trials/trial-{number:04d}", f"2026-01-0{number + 1}T10:00:00")
    panel = window.sections["Experiments"]
    window.show_section("Experiments")
    panel.show_sweep(sweep.path)
    messages: list[str] = []
    panel.message.connect(messages.append)
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "2")
    panel.table.selectRow(row)  # trial 2 has no run directory yet: refused in words, no section change
    qtbot.mouseClick(panel.open_trial_button, Qt.MouseButton.LeftButton)
    assert "Trial 2" in messages[-1] and "not a run directory" in messages[-1]
    assert window.stack.currentWidget() is panel
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "0")
    panel.table.selectRow(row)
    qtbot.mouseClick(panel.open_trial_button, Qt.MouseButton.LeftButton)
    runs = window.sections["Runs"]  # built by the click
    assert window.stack.currentWidget() is runs
    assert [r.name for r in runs.selected()] == ["trial-0000"]  # the trial alone, selected
    assert "0 run(s) in" in runs.folder_label.text() and "1 sweep trial(s)" in runs.folder_label.text()
    assert runs.acc_plot.getPlotItem().listDataItems()  # its curves drawn
    panel.table.selectRow(next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "1"))
    panel.open_trial()  # the Runs section exists now: it follows the second one too
    assert [r.name for r in runs.selected()] == ["trial-0001"]
    assert {r.name for r in runs.runs} >= {"trial-0000", "trial-0001"}
