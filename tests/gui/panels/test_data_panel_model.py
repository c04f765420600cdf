"""Data panel on the project model: every settings edit is one undo step (Ctrl+Z in the window),
and the panel follows changes made elsewhere (an undo, another project opened)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.panels.helpers import make_image_folder, make_project

ROOT = Path(__file__).resolve().parents[3]


def wait_ready(panel, qtbot, timeout: float = 90) -> None:
    qtbot.waitUntil(lambda: not panel.busy(), timeout=int(timeout * 1000))


def ctrl_z(window, qtbot, shift: bool = False) -> None:
    """Press the window's Undo shortcut (Ctrl+Z), or its Redo one with `shift`, on the window."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.rail.setFocus()
    action = window.redo_action if shift else window.undo_action
    QTest.keySequence(window.rail, action.shortcut())


def retype(qtbot, editor, text: str) -> None:
    line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_split_and_augmentation_edits_are_undone_with_ctrl_z(studio, qtbot):
    panel = studio.sections["Data"]
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    wait_ready(panel, qtbot)
    assert not studio.dirty
    split = panel.forms["dataset"]
    retype(qtbot, split.fields["validation_fraction"].editor, "0.5")
    assert studio.project.dataset["validation_fraction"] == 0.5 and studio.dirty
    assert studio.model.undo_label.lower().startswith("set validation")
    wait_ready(panel, qtbot)
    assert ">18<" in panel.split_summary.text().replace("<b>", "").replace("</b>", "")  # the preview follows

    panel.aug_form.editors["rotation"].setValue(12.0)
    panel.aug_form.editors["rotation"].setValue(30.0)  # a drag: one undo step, not one per value
    assert studio.project.augmentation["rotation"] == 30.0

    ctrl_z(studio, qtbot)  # the rotation
    assert studio.project.augmentation["rotation"] == 0
    assert panel.aug_form.editors["rotation"].value() == 0  # the rebuilt form shows the value in use
    ctrl_z(studio, qtbot)  # the split share
    assert studio.project.dataset["validation_fraction"] == 0.25
    assert panel.forms["dataset"].fields["validation_fraction"].editor.text() == "0.25"
    assert not studio.dirty
    wait_ready(panel, qtbot)
    assert ">9<" in panel.split_summary.text().replace("<b>", "").replace("</b>", "")  # 27 train / 9 val
    ctrl_z(studio, qtbot, shift=True)  # redo
    assert studio.project.dataset["validation_fraction"] == 0.5
    assert panel.forms["dataset"].fields["validation_fraction"].editor.text() == "0.5"
    wait_ready(panel, qtbot)


def test_choosing_a_folder_is_one_undo_step(studio, qtbot, tmp_path):
    panel = studio.sections["Data"]
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    wait_ready(panel, qtbot)
    first, first_split = studio.project.dataset["folder"], studio.project.split
    other = make_image_folder(tmp_path / "other", per_class=4, broken=False)
    retype(qtbot, panel.folder_edit, str(other))
    assert studio.project.dataset["folder"] == str(other) and studio.project.split is None
    qtbot.waitUntil(lambda: panel.scan is not None and panel.scan.folder == other, timeout=30_000)
    assert panel.model.rowCount() == 12
    wait_ready(panel, qtbot)

    ctrl_z(studio, qtbot)  # back to the first folder, its split and its scan
    assert studio.project.dataset["folder"] == first and studio.project.split == first_split
    assert panel.folder_edit.text() == first
    qtbot.waitUntil(lambda: panel.scan is not None and str(panel.scan.folder) == first, timeout=30_000)
    assert panel.model.rowCount() == 36 and panel.unusable.model().rowCount() == 1
    wait_ready(panel, qtbot)


def test_panel_follows_another_project(studio, qtbot, tmp_path):
    from cnnstudio.project.file import load_project

    panel = studio.sections["Data"]
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    wait_ready(panel, qtbot)
    data = make_image_folder(tmp_path / "second-data", per_class=2, broken=False)
    second = make_project(tmp_path / "second", data)
    second.preprocessing["normalization"] = "zca"
    from cnnstudio.project.file import save_project

    save_project(second, tmp_path / "second" / "tiny.cnnproj")
    studio.set_project(load_project(tmp_path / "second" / "tiny.cnnproj"))
    assert panel.folder_edit.text() == str(data)
    assert panel.forms["preprocessing"].fields["normalization"].editor.currentData() == "zca"
    qtbot.waitUntil(lambda: panel.scan is not None and panel.scan.folder == data, timeout=30_000)
    assert panel.model.rowCount() == 6
    wait_ready(panel, qtbot)


def test_data_panel_opens_alone_on_a_project(tmp_path):
    from PySide6.QtGui import QImage

    make_project(tmp_path, make_image_folder(tmp_path / "data", per_class=2))
    out = tmp_path / "data.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_HOME=str(tmp_path / "home"),
               CNNSTUDIO_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-m", "cnnstudio.gui.panels.data", str(tmp_path / "tiny.cnnproj"),
                             "--screenshot", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert image.width() >= 1000 and image.height() >= 600
    bad = subprocess.run([sys.executable, "-m", "cnnstudio.gui.panels.data", str(tmp_path / "nope.cnnproj"),
                          "--screenshot", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
