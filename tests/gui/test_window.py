"""The window opens fast, without TensorFlow, renders a screenshot, and manages projects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from cnnstudio.gui import projects
from cnnstudio.project.file import Project, load_project, save_project
from tests.gui.conftest import lenet_graph

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_without_tensorflow(tmp_path):
    out = tmp_path / "shot.png"
    code = (
        "import sys\n"
        "from cnnstudio.cli import main\n"
        f"rc = main(['gui', '--screenshot', {str(out)!r}, '--section', 'Architecture'])\n"
        "assert rc == 0, rc\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() >= 1200 and image.height() >= 800


def test_bad_project_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.cnnproj"
    bad.write_text("{not json")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "gui", str(bad), "--screenshot",
                             str(tmp_path / "x.png")], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_section_is_a_clean_error(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "gui", "--screenshot", str(tmp_path / "x.png"),
                             "--section", "Nope"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unknown section" in result.stderr.lower()


def test_sections_rail_switches_pages(window, qtbot):
    from cnnstudio.gui.sections import SECTIONS

    assert window.rail.count() == len(SECTIONS) >= 5
    window.show_section("Training")
    assert window.stack.currentWidget() is window.sections["Training"]
    window.rail.setCurrentRow(0)
    assert window.stack.currentWidget() is window.sections["Architecture"]


@pytest.mark.parametrize("size", [(1280, 720), (1440, 900)])
def test_section_rail_fits_without_scrolling(window, qtbot, size):
    """Every section's name fits the rail: no horizontal scroll bar, no label wider than the rail."""
    from PySide6.QtGui import QFontMetrics

    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0], timeout=2000)
    rail = window.rail
    assert rail.count() >= 7
    assert not rail.horizontalScrollBar().isVisible() and not rail.verticalScrollBar().isVisible()
    assert rail.sizeHintForColumn(0) <= rail.viewport().width()  # the widest item, styled, fits
    metrics = QFontMetrics(rail.font())
    for row in range(rail.count()):
        item = rail.item(row)
        rect = rail.visualItemRect(item)
        assert rect.right() <= rail.viewport().width() and metrics.horizontalAdvance(item.text()) < rect.width()


def test_status_bar_totals(window):
    analysis = window.editor.scene.analysis
    assert analysis.total_params == 156 + 14 * 14 * 6 * 10 + 10  # conv 5·5·6+6, dense 1176→10
    assert "11.9K" in window.totals["params"].text()
    window.batch.setValue(64)
    small = window.totals["training"].text()
    window.batch.setValue(1)
    assert window.totals["training"].text() != small


def test_save_and_reopen(window, tmp_path, qtbot):
    target = tmp_path / "lenet.cnnproj"
    assert window.save_as(target)
    assert not window.dirty and target.exists()
    window.editor.add_layer("Dropout", "flat")
    assert window.dirty and window.windowTitle().startswith("lenet.cnnproj •")
    assert window.save()
    saved = load_project(target)
    assert "dropout" in saved.graph and saved.graph["out"].inputs == ["dropout"]
    window.editor.add_layer("BatchNorm", "c1")  # then drop these changes on reopen
    assert window.open_path(target)
    assert window.project.graph.to_dict() == saved.graph.to_dict()
    assert not window.dirty
    assert str(target.resolve()) in projects.recent_files()


def test_unsaved_changes_prompt_can_cancel(window):
    window.editor.add_layer("Dropout", "flat")
    answers = []
    window.ask_save = lambda: answers.append(1) or "cancel"
    window.new_project()
    assert answers and "dropout" in window.project.graph  # still the same project
    window.ask_save = lambda: "discard"
    window.new_project()
    assert list(window.project.graph.names) == ["input"]


def test_crash_recovery_offer(tmp_path, qtbot):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow

    _application()
    path = tmp_path / "p.cnnproj"
    save_project(Project(graph=lenet_graph(), name="p"), path)
    # A session edits and autosaves, then "crashes" (never closes).
    first = MainWindow(load_project(path))
    first.ask_save = lambda: "discard"
    qtbot.addWidget(first)
    first.editor.add_layer("Dropout", "flat")
    first.write_recovery()
    recovery = projects.recovery_path(path)
    assert recovery.exists()
    os.utime(recovery, (time.time() + 5, time.time() + 5))
    first.autosave.stop()
    first.editor.detach()
    # The next start offers it back.
    second = MainWindow(load_project(path))
    second.ask_save = lambda: "discard"
    qtbot.addWidget(second)
    second.show()
    assert second.recovery_bar.isVisible()
    qtbot.mouseClick(second.recovery_bar.restore_button, Qt.MouseButton.LeftButton)
    assert "dropout" in second.project.graph
    assert second.dirty and second.project.path == path
    assert not second.recovery_bar.isVisible()
    assert second.save()
    assert not recovery.exists()
    assert any(n["name"] == "dropout" for n in json.loads(path.read_text())["architecture"]["nodes"])
    second.close()


def test_discard_recovery_deletes_it(tmp_path, qtbot):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow

    _application()
    path = tmp_path / "p.cnnproj"
    save_project(Project(graph=lenet_graph(), name="p"), path)
    recovery = projects.recovery_path(path)
    recovery.write_text(path.read_text())
    os.utime(recovery, (time.time() + 5, time.time() + 5))
    win = MainWindow(load_project(path))
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    win.show()
    assert win.recovery_bar.isVisible()
    qtbot.mouseClick(win.recovery_bar.discard_button, Qt.MouseButton.LeftButton)
    assert not recovery.exists() and not win.recovery_bar.isVisible()
    win.close()


def test_drop_project_file_on_window(window, tmp_path, qtbot):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    graph = lenet_graph()
    graph.add_layer("Dropout", ["out"], name="extra")
    path = tmp_path / "dropped.cnnproj"
    save_project(Project(graph=graph, name="dropped"), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    target = window.rail  # any child: the drop bubbles up to the window
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, QDragEnterEvent(QPoint(5, 5), *args))
    QApplication.sendEvent(target, QDropEvent(QPointF(5, 5), *args))
    qtbot.waitUntil(lambda: window.project.path == path, timeout=3000)
    assert "extra" in window.project.graph


@pytest.mark.slow
def test_import_keras_runs_in_a_helper_process(window, tmp_path, qtbot):
    model = tmp_path / "tiny.keras"
    code = (
        "import keras\n"
        "inputs = keras.Input((16, 16, 1))\n"
        "x = keras.layers.Conv2D(4, 3, name='conv')(inputs)\n"
        "x = keras.layers.Flatten(name='flat')(x)\n"
        "outputs = keras.layers.Dense(3, activation='softmax', name='probs')(x)\n"
        f"keras.Model(inputs, outputs).save({str(model)!r})\n"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="-1", TF_CPP_MIN_LOG_LEVEL="3")
    made = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    window.import_keras(model)
    assert window.import_process is not None  # the work happens in a child process
    qtbot.waitUntil(lambda: window.import_process is None, timeout=240_000)
    graph = window.project.graph
    assert {"conv", "flat", "probs"} <= set(graph.names)
    assert window.editor.scene.analysis.nodes["conv"].output_shape == (14, 14, 4)
    assert window.dirty and window.project.path is None
    weights = Path(window.project.weights)
    assert weights.is_absolute() and weights.exists()  # the imported weights stay reachable


def test_import_failure_is_reported(window, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    window.import_keras(broken)
    qtbot.waitUntil(lambda: window.import_process is None, timeout=240_000)
    assert shown and shown[0].startswith("broken.keras: ")
    assert "Traceback" not in shown[0]


def test_keyboard_shortcuts_reach_the_editor(window, qtbot):
    from PySide6.QtTest import QTest

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    editor = window.editor
    editor.view.setFocus()
    editor.select(["s2"])
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert "s2" not in editor.graph
    QTest.keyClick(editor.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "s2" in editor.graph
    editor.select(["c1"])
    QTest.keyClick(editor.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert "c1_1" in editor.graph


def test_sample_opens_as_an_untitled_copy(qtbot):
    from cnnstudio.gui.app import create_window

    sample = projects.sample_project_path()
    win = create_window(None)
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    assert win.project.path is None  # saving asks for a place; the bundled file stays intact
    if sample is not None:
        assert len(win.project.graph) == len(load_project(sample).graph)
        folder = win.project.dataset.get("folder")
        assert not folder or Path(folder).is_absolute()
    else:
        assert win.project.graph.names == ["input"]
    win.close()


def test_ctrl_z_undoes_a_settings_edit_and_every_view_follows(window, qtbot):
    from PySide6.QtTest import QTest

    window.show_section("Training")
    panel = window.sections["Training"]
    epochs = panel.form.fields["epochs"].editor
    epochs.setValue(7)  # the form commits through the project model: one undo step
    assert window.project.training["epochs"] == 7 and window.dirty
    window.batch.setValue(48)  # the status bar's batch box is the same setting
    assert window.project.training["batch_size"] == 48
    assert panel.form.fields["batch_size"].editor.value() == 48
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.rail.setFocus()
    QTest.keyClick(window.rail, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.training["batch_size"] == 32
    assert window.batch.value() == 32 and panel.form.fields["batch_size"].editor.value() == 32
    QTest.keyClick(window.rail, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.training["epochs"] != 7 and panel.form.fields["epochs"].editor.value() != 7
    assert not window.dirty and not window.windowTitle().startswith("LeNet •")
    window.redo()
    assert window.project.training["epochs"] == 7 and epochs is not None
    assert panel.form.fields["epochs"].editor.value() == 7
    # Graph edits share the history: a layer added after the settings edit is undone first.
    window.editor.add_layer("Dropout", "flat")
    window.undo()
    assert "dropout" not in window.project.graph and window.project.training["epochs"] == 7


def test_sections_are_built_when_first_shown(window):
    assert set(window.sections.built) == {"Architecture"}
    assert window.stack.count() == len(window.sections)
    window.rail.setCurrentRow(list(window.sections).index("Runs"))
    assert "Runs" in window.sections.built
    assert window.stack.currentWidget() is window.sections["Runs"]
    assert "Export" not in window.sections.built


def test_closing_during_training_asks_and_can_cancel_stop_or_leave_it_running(window, qtbot, tmp_path):
    import signal

    panel = window.sections["Training"]
    script = tmp_path / "slow_worker.py"
    pid_file = tmp_path / "worker.pid"
    script.write_text("import os, sys, time\n"
                      f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                      "time.sleep(120)\n")
    panel.launch([sys.executable, str(script)], None)
    qtbot.waitUntil(pid_file.exists, timeout=20_000)
    asked = []
    window.ask_training_close = lambda: asked.append(1) or "cancel"
    assert not window.close() and window.isVisible() and panel.running and asked
    window.ask_training_close = lambda: "background"
    pid = int(pid_file.read_text())
    assert window.close()
    assert not panel.running
    try:
        os.kill(pid, 0)  # the worker outlived the window
    finally:
        os.kill(pid, signal.SIGKILL)


CLOSE_DURING_SCAN = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from cnnstudio.gui import app as studio_app

studio_app._application()


def windows():
    return [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"]


def show_data():
    for window in windows():
        window.show_section("Data")  # its scan and previews start in thread workers


QTimer.singleShot(0, show_data)
QTimer.singleShot(int(sys.argv[2]), lambda: [w.close() for w in windows()])
print("rc", studio_app.run(sys.argv[1]))
"""


def test_closing_during_a_background_scan_prints_nothing_on_stderr(tmp_path):
    from tests.gui.panels.helpers import make_image_folder, make_project

    make_project(tmp_path, make_image_folder(tmp_path / "data", per_class=40))
    script = tmp_path / "close_during_scan.py"
    script.write_text(CLOSE_DURING_SCAN)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_HOME=str(tmp_path / "home"))
    for delay_ms in (10, 40, 100, 250):  # before, during and after the scan's end
        result = subprocess.run([sys.executable, str(script), str(tmp_path / "tiny.cnnproj"), str(delay_ms)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        noise = [line for line in result.stderr.splitlines() if "propagateSizeHints" not in line]
        assert result.returncode == 0 and "rc 0" in result.stdout, result.stderr
        assert noise == [], f"closing after {delay_ms} ms:\n" + "\n".join(noise)


@pytest.mark.parametrize("module", ["training_panel", "runs_panel", "export_panel"])
def test_each_panel_opens_alone_on_a_project(tmp_path, module):
    from PySide6.QtGui import QImage

    from tests.gui.panels.helpers import make_image_folder, make_project, write_run

    project = make_project(tmp_path, make_image_folder(tmp_path / "data", per_class=2))
    write_run(tmp_path / "runs" / "tiny-alone", project)
    out = tmp_path / f"{module}.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-m", f"cnnstudio.gui.panels.{module}", str(tmp_path / "tiny.cnnproj"),
                             "--screenshot", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert image.width() >= 1000 and image.height() >= 600
    bad = subprocess.run([sys.executable, "-m", f"cnnstudio.gui.panels.{module}", str(tmp_path / "nope.cnnproj"),
                          "--screenshot", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_runs_follow_the_open_project_and_a_deletion(window, tmp_path):
    from tests.gui.panels.helpers import make_image_folder, make_project, write_run

    data = make_image_folder(tmp_path / "data", per_class=2)
    first = make_project(tmp_path / "one", data)
    second = make_project(tmp_path / "two", data)
    write_run(tmp_path / "one" / "runs" / "one-a", first)
    write_run(tmp_path / "two" / "runs" / "two-a", second)
    later = write_run(tmp_path / "two" / "runs" / "two-b", second)
    os.utime(tmp_path / "two" / "runs" / "two-a" / "job.json", (time.time() - 50, time.time() - 50))
    runs, export, training = window.sections["Runs"], window.sections["Export"], window.sections["Training"]
    assert window.open_path(tmp_path / "one" / "tiny.cnnproj")
    assert [runs.table.item(r, 0).text() for r in range(runs.table.rowCount())] == ["one-a"]
    assert training.run_dir.name == "one-a" and export.run_box.count() == 1
    assert window.open_path(tmp_path / "two" / "tiny.cnnproj")  # another project: every view follows at once
    assert [runs.table.item(r, 0).text() for r in range(runs.table.rowCount())] == ["two-b", "two-a"]
    assert training.run_dir == later and export.run_box.count() == 2
    runs.confirm = lambda title, text: True
    runs.table.clearSelection()
    runs.table.selectRow(0)
    assert runs.delete_selected() == 1 and not later.exists()
    assert training.run_dir.name == "two-a" and export.run_box.count() == 1
    assert [runs.table.item(r, 0).text() for r in range(runs.table.rowCount())] == ["two-a"]


def test_a_command_that_does_not_name_its_settings_still_updates_every_view(window):
    from cnnstudio.project.commands import ProjectCommand

    class Halve(ProjectCommand):  # e.g. a plug-in's edit that only says "settings"
        label = "Halve batch"

        def do(self, project):
            project.training["batch_size"] //= 2

        def undo(self, project):
            project.training["batch_size"] *= 2

    window.show_section("Training")
    panel = window.sections["Training"]
    window.model.push(Halve())
    assert window.batch.value() == 16 and panel.form.fields["batch_size"].editor.value() == 16
    window.undo()
    assert window.batch.value() == 32 and panel.form.fields["batch_size"].editor.value() == 32
