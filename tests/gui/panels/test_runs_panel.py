"""Runs panel: the project's runs, overlaid curves, what changed, delete only after asking."""

from __future__ import annotations

import os
import time

from tests.gui.panels.helpers import write_run


def test_runs_table_overlay_diff_and_delete(studio, qtbot, project_folder):
    project = studio.project
    older = write_run(project_folder / "runs" / "tiny-a", project, status="completed", epochs=3, best=0.8)
    changed = project.copy()
    changed.training["optimizer"] = "sgd"
    changed.graph["conv1"].params["filters"] = 8
    changed.exclusions.append("circle/circle_000.png")
    newer = write_run(project_folder / "runs" / "tiny-b", changed, status="stopped", epochs=2, best=0.7,
                      learning_rate=0.05)
    os.utime(older / "job.json", (time.time() - 100, time.time() - 100))
    panel = studio.sections["Runs"]
    panel.refresh()
    assert [r.name for r in panel.runs] == ["tiny-b", "tiny-a"]  # newest first
    cells = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert cells[1] == "stopped" and cells[3].startswith("0.700") and cells[4] == "2/2"
    assert "sgd" in cells[8] and "0.05" in cells[8]
    assert cells[6:8] == ["—", "—"]  # written without balanced metrics (before events revision 2)
    # The two newest runs are selected: both curves overlaid, and what changed between them.
    assert len(panel.selected()) == 2
    assert len(panel.acc_plot.getPlotItem().listDataItems()) == 2
    text = panel.diff.toPlainText()
    assert "'conv1' params.filters: 4 → 8" in text
    assert "training.optimizer: 'adam' → 'sgd'" in text
    assert "training.learning_rate: 0.01 → 0.05" in text
    assert "exclusions: 1 added" in text
    # Delete asks first; "no" keeps everything.
    panel.table.clearSelection()  # (selectRow toggles when an earlier test left Ctrl "held")
    panel.table.selectRow(1)
    asked = []
    panel.confirm = lambda title, text: asked.append(text) or False
    assert panel.delete_selected() == 0 and older.exists()
    assert asked and "tiny-a" in asked[0]
    panel.confirm = lambda title, text: True
    assert panel.delete_selected() == 1
    assert not older.exists() and newer.exists()
    assert [r.name for r in panel.runs] == ["tiny-b"]


def test_no_runs_and_unsaved_project(window):
    panel = window.sections["Runs"]
    assert panel.runs == [] and "Save the project" in panel.folder_label.text()
    assert not panel.delete_button.isEnabled()
