"""The Experiments section: the space editor, the trials table and plots, apply, and a real sweep."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from cnnstudio.experiments.sweep_file import SweepConfig, SweepDir
from cnnstudio.gui.panels.experiments_vary import DRAFT
from cnnstudio.project import load_project
from cnnstudio.project.model import ProjectModel
from cnnstudio.training.runstore import RunStore
from tests.experiments.helpers import small_digits
from tests.gui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch):
    from cnnstudio.gui.panels.experiments_panel import ExperimentsPanel

    DRAFT.clear()

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNSTUDIO_HOME", str(tmp_path / "home"))
    path = small_digits(tmp_path, classes=4, per_class=15)
    model = ProjectModel(load_project(path))
    widget = ExperimentsPanel(model, RunStore(path))
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()
    DRAFT.clear()


def fake_sweep(folder, trials):
    sweep = SweepDir(folder)
    sweep.path.mkdir(parents=True)
    sweep.write_config(SweepConfig(source_project="p.cnnproj", space={"training.learning_rate": {"choices": [0.1]}},
                                   sampler="grid"))
    rows = [{"number": n, "status": status, "settings": settings, "value": value, "macs": macs, "params": 1000 + n,
             "seconds": 12.0, "run_dir": str(folder / f"trials/trial-{n:04d}"), "best_epoch": 2,
             "curve": [value / 2 if value else None, value]}
            for n, status, settings, value, macs in trials]
    (sweep.path / "status.json").write_text(json.dumps({"running": [], "trials": rows}))
    return sweep


def test_space_editor_builds_a_checked_space(panel, qtbot):
    editor = panel.space_editor
    assert not panel.start_button.isEnabled()  # nothing ticked yet
    editor.vary("training.learning_rate", "1e-4 .. 1e-1 log")
    editor.vary("node:c1.filters", "4, 8")
    editor.vary("augmentation.rotation")  # the suggested values
    assert not panel.start_button.isEnabled()  # a log range cannot be a grid...
    assert "training.learning_rate: a grid needs choices" in editor.problem_text()
    panel.sampler_box.setCurrentText("random")
    space = editor.space()
    assert space["training.learning_rate"] == {"log_uniform": [1e-4, 0.1]}
    assert space["node:c1.filters"] == {"choices": [4, 8]}
    assert "augmentation.rotation" in space
    assert not panel.start_button.isEnabled()  # ...and random needs a number of trials
    panel.trials_box.setValue(3)
    assert panel.start_button.isEnabled() and editor.problem_text() == ""
    editor.vary("training.batch_size", "0, 16")  # below the field's minimum
    assert "training.batch_size" in editor.problem_text() and not panel.start_button.isEnabled()
    item = editor._find("training.batch_size")
    item.setCheckState(0, Qt.CheckState.Unchecked)  # the Vary box, unticked
    assert editor.problem_text() == "" and panel.start_button.isEnabled()


def test_vary_toggles_beside_the_settings_forms_follow_the_space(panel, qtbot):
    from PySide6.QtWidgets import QToolButton

    from cnnstudio.gui import sections  # noqa: F401  (installs the toggle, as the window does)
    from cnnstudio.gui.widgets.param_form import ParamForm
    from cnnstudio.project import schema

    form = ParamForm(schema.TRAINING, panel.model.project.training, where="Training settings")
    qtbot.addWidget(form)
    form.show()
    toggles = {b.property("setting"): b for b in form.findChildren(QToolButton, "VaryToggle")}
    assert "training.learning_rate" in toggles and "training.device" not in toggles
    zoo_form = ParamForm(__import__("cnnstudio.zoo", fromlist=["x"]).describe("resnet").knobs, {})
    qtbot.addWidget(zoo_form)
    assert not zoo_form.findChildren(QToolButton, "VaryToggle")  # not a project setting
    qtbot.mouseClick(toggles["training.learning_rate"], Qt.MouseButton.LeftButton)
    row = panel.space_editor._find("training.learning_rate")
    assert row.checkState(0) == Qt.CheckState.Checked and row.text(1) == "0.0001 .. 0.01 log"
    row.setText(1, "0.001, 0.01")  # edited in the Experiments section
    assert DRAFT.values["training.learning_rate"] == "0.001, 0.01"
    assert panel.space_editor.space() == {"training.learning_rate": {"choices": [0.001, 0.01]}}
    row.setCheckState(0, Qt.CheckState.Unchecked)
    assert not toggles["training.learning_rate"].isChecked() and DRAFT.values == {}


def test_trials_table_plots_apply_and_undo(panel, qtbot, tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", [
        (0, "completed", {"training.learning_rate": 0.01, "node:c1.filters": 4}, 0.8, 2000),
        (1, "completed", {"training.learning_rate": 0.001, "node:c1.filters": 8}, 0.9, 4000),
        (2, "completed", {"training.learning_rate": 0.1, "node:c1.filters": 8}, 0.7, 4000),
        (3, "pruned", {"training.learning_rate": 1.0, "node:c1.filters": 4}, 0.2, 2000),
    ])
    panel.show_sweep(sweep.path)
    assert panel.table.rowCount() == 4
    assert [panel.table.item(r, 0).text() for r in range(4)] == ["1", "0", "2", "3"]  # best first
    assert panel.best().number == 1 and panel.export_button.isEnabled()
    assert panel.trade_off.front_numbers == [0, 1]  # trial 2 costs as much as 1 and is worse
    assert len(panel.parallel.lines) == 4
    panel.table.selectRow(1)  # trial 0
    assert len(panel.curves.curves) == 1 and panel.apply_button.isEnabled()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert panel.model.project.training["learning_rate"] == 0.01
    assert panel.model.graph["c1"].params["filters"] == 4
    panel.model.undo()  # one undo step for the whole trial
    assert panel.model.project.training["learning_rate"] == 0.001
    assert panel.model.graph["c1"].params["filters"] == 6


@pytest.mark.slow
def test_a_sweep_started_from_the_panel(panel, qtbot, tmp_path):
    from cnnstudio.project import save_project

    save_project(panel.model.project)
    panel.space_editor.vary("training.learning_rate", "0.001, 0.003")
    panel.epochs_box.setValue(1)
    assert panel.start_button.isEnabled()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.running() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running(), timeout=600_000)
    assert panel.process.exitCode() == 0, panel.last_line
    qtbot.waitUntil(lambda: len(panel.rows) == 2 and all(r.status == "completed" for r in panel.rows), timeout=5000)
    assert sorted(r.settings["training.learning_rate"] for r in panel.rows) == [0.001, 0.003]
    assert panel.sweep.path.parent == tmp_path / "sweeps"
    assert not panel.resume_button.isEnabled()  # nothing left to resume
