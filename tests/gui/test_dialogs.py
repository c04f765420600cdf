"""Zoo and block dialogs: generated knob forms, live totals, insertion."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from cnnstudio import zoo
from cnnstudio.graph.analysis import analyze
from tests.gui.conftest import lenet_graph


@pytest.fixture
def app():
    from cnnstudio.gui.app import _application

    return _application()


def test_zoo_dialog_live_totals(app, qtbot):
    from cnnstudio.gui.zoo_dialog import ZooDialog

    dialog = ZooDialog()
    qtbot.addWidget(dialog)
    names = [dialog.list.item(i).data(256) for i in range(dialog.list.count())]
    assert "resnet" in names and "densenet" in names
    dialog.list.setCurrentRow(names.index("resnet"))
    assert dialog.graph is not None
    depth = dialog.form.fields["depth"]
    depth_editor = depth.editor
    first = dialog.totals.text()
    expected = analyze(dialog.graph).total_params
    # Change the depth through the generated form, as a user would.
    if hasattr(depth_editor, "setCurrentIndex"):
        depth_editor.setCurrentIndex(depth_editor.findData(18))
    else:
        depth_editor.setValue(18)
    qtbot.waitUntil(lambda: dialog.totals.text() != first, timeout=3000)
    assert dialog.graph.name and analyze(dialog.graph).total_params != expected
    params = analyze(zoo.create("resnet", depth=18)).total_params
    assert f"{params / 1e6:.1f}M" in dialog.totals.text()
    dialog.classes_box.setValue(10)
    qtbot.waitUntil(lambda: dialog.graph is not None and dialog.graph[dialog.graph.outputs[0]].params.get("units") == 10,
                    timeout=3000)
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_zoo_dialog_reports_bad_input_size(app, qtbot):
    from cnnstudio.gui.zoo_dialog import ZooDialog

    dialog = ZooDialog()
    qtbot.addWidget(dialog)
    names = [dialog.list.item(i).data(256) for i in range(dialog.list.count())]
    dialog.list.setCurrentRow(names.index("alexnet"))
    dialog.height_box.setValue(32)
    qtbot.waitUntil(lambda: "at least" in dialog.totals.text(), timeout=3000)
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_big_zoo_graph_opens_collapsed_and_expands(app, qtbot):
    from cnnstudio.gui.editor.editor import ArchitectureEditor
    from cnnstudio.gui.editor.scene import BLOCK_PREFIX

    graph = zoo.create("resnet", depth=152)
    editor = ArchitectureEditor(graph)
    qtbot.addWidget(editor)
    blocks = [k for k in editor.scene.cards if k.startswith(BLOCK_PREFIX)]
    assert 4 <= len(editor.scene.cards) <= 12 and blocks  # one screen
    stage = next(k for k in blocks if editor.scene.cards[k].text.repeats == 36)
    editor.scene.expand(stage[len(BLOCK_PREFIX):])
    inner = [k for k in editor.scene.cards if k.startswith(stage + "/")]
    assert len(inner) == 36  # its blocks, still collapsed
    editor.expand_all()
    assert len(editor.scene.cards) == len(graph)
    editor.detach()


def test_block_dialog_form_drives_insertion(app, qtbot):
    from cnnstudio.gui.editor.editor import ArchitectureEditor, BlockDialog

    editor = ArchitectureEditor(lenet_graph())
    qtbot.addWidget(editor)
    dialog = BlockDialog("dense_block")
    qtbot.addWidget(dialog)
    layers = next(f for f in dialog.findChildren(object) if getattr(f, "spec", None) is not None
                  and f.spec.name == "layers")
    layers.editor.setValue(2)
    assert dialog.values["layers"] == 2
    editor.select(["c1"])
    out = editor.insert_block("dense_block", None, dialog.values, "dense1")
    assert out in editor.graph and editor.graph["s2"].inputs == [out]
    assert editor.scene.analysis.nodes[out].output_shape == (14, 14, (6 + 2 * 32) // 2)
    editor.detach()


def test_confusion_matrix_fills_its_space_with_counts(app, qtbot):
    from cnnstudio.gui.panels.confusion import ConfusionMatrix

    matrix = ConfusionMatrix()
    qtbot.addWidget(matrix)
    classes = [str(i) for i in range(10)]
    counts = [[40 if r == c else (r + c) % 3 for c in range(10)] for r in range(10)]
    matrix.set_matrix(counts, classes)
    matrix.resize(720, 300)  # a wide, low tab: the cells widen instead of leaving it empty
    matrix.show()
    qtbot.waitExposed(matrix)
    left, top, cell_w, cell_h = matrix._geometry()
    assert left + 10 * cell_w >= 0.9 * matrix.width() and top + 10 * cell_h >= 0.9 * matrix.height()
    assert matrix.counts_visible()
    assert matrix.cell_at(left + 2.5 * cell_w, top + 2.5 * cell_h) == (2, 2)
    assert matrix.cell_text(3, 5) == ("2 validation image(s) of '3' predicted as '5' (4% of '3').\n"
                                      "Click to see them.")
    many = [str(i) for i in range(30)]
    matrix.set_matrix([[120 if r == c else 1 for c in range(30)] for r in range(30)], many)
    matrix.resize(220, 180)  # 30 classes in a small box: no room for numbers, the tooltip says them
    assert not matrix.counts_visible()
    assert matrix.cell_text(0, 0).startswith("120 validation image(s) of '0' correct")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_disabled_controls_look_disabled(app, qtbot, monkeypatch, scheme):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

    from cnnstudio.gui import theme

    monkeypatch.setenv("CNNSTUDIO_THEME", scheme)
    theme.apply(app)
    try:
        palette = app.palette()
        for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
            active = palette.color(QPalette.ColorGroup.Active, role)
            disabled = palette.color(QPalette.ColorGroup.Disabled, role)
            assert abs(active.lightness() - disabled.lightness()) > 40, role
        holder = QWidget()
        row = QHBoxLayout(holder)
        enabled, off = QPushButton("Stop"), QPushButton("Stop")
        off.setEnabled(False)
        row.addWidget(enabled)
        row.addWidget(off)
        qtbot.addWidget(holder)
        holder.show()
        qtbot.waitExposed(holder)

        def text_lightness(button) -> float:
            image = button.grab().toImage()
            values = [image.pixelColor(x, y).lightness() for x in range(image.width())
                      for y in range(image.height())]
            return min(values) if scheme == "light" else max(values)  # the glyphs' extreme

        # The disabled button's text is much closer to its background than the enabled one's.
        assert abs(text_lightness(enabled) - text_lightness(off)) > 40
    finally:
        monkeypatch.delenv("CNNSTUDIO_THEME")
        theme.apply(app)


def test_corrupt_project_at_launch_opens_the_window_with_the_error(app, qtbot, tmp_path, capsys):
    from cnnstudio.gui.app import create_window

    bad = tmp_path / "bad.cnnproj"
    bad.write_text('{"format_version": 2, "name": "x", "architecture": ')
    window = create_window(str(bad))
    qtbot.addWidget(window)
    window.ask_save = lambda: "discard"
    window.show()
    qtbot.waitExposed(window)
    bar = window.problem_bar
    assert bar.isVisible() and "Could not open bad.cnnproj" in bar.label.text()
    assert "invalid JSON" in bar.label.text() and window.launch_error
    assert "error: " in capsys.readouterr().err
    bar.dismiss_button.click()
    assert not bar.isVisible()
    window.close()


def test_corrupt_project_screenshot_renders_the_error_and_exits_2(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    bad = tmp_path / "bad.cnnproj"
    bad.write_text("not json")
    out = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "gui", str(bad), "--screenshot", str(out)],
                            cwd=repo, env={**os.environ, "PYTHONPATH": str(repo), "QT_QPA_PLATFORM": "offscreen",
                                           "CNNSTUDIO_CACHE_DIR": str(tmp_path / "cache")},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "bad.cnnproj" in result.stderr and "Traceback" not in result.stderr
    assert out.exists() and out.stat().st_size > 10_000


def test_layer_table_keeps_the_memory_column_in_view(app, qtbot):
    """The drawer's table is about 590 px wide in a 1280×720 window: every column stays visible."""
    from cnnstudio.gui.editor.tables import COLUMNS, LayerTable

    table = LayerTable()
    qtbot.addWidget(table)
    graph = lenet_graph()
    table.set_analysis(analyze(graph), [])
    table.resize(590, 200)
    table.show()
    qtbot.waitExposed(table)
    memory = COLUMNS.index("Memory")
    right = table.columnViewportPosition(memory) + table.columnWidth(memory)
    assert table.columnViewportPosition(memory) >= 0 and right <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    assert table.model().data(table.model().index(0, 0), 3) == table.model().rows[0][0]  # tooltip: full name


def test_first_launch_says_what_to_do_next(app, qtbot):
    from cnnstudio.gui.app import create_window

    window = create_window(None)  # no project given: the bundled sample, unsaved
    qtbot.addWidget(window)
    window.ask_save = lambda: "discard"
    window.show()
    qtbot.waitExposed(window)
    bar = window.notice_bar
    text = bar.label.text()
    assert bar.isVisible() and window.project.path is None
    assert "500 handwritten digits" in text and "open Training and press ▶ Start" in text
    bar.action_button.click()
    assert window.sections.get("Training") is not None and window.rail.currentItem().text().endswith("Training")
    assert not bar.isVisible()
    window.close()


def _retype(qtbot, line, text: str) -> None:
    from PySide6.QtCore import Qt

    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_zoo_dialog_refuses_create_while_a_knob_is_invalid(app, qtbot):
    from PySide6.QtCore import Qt

    from cnnstudio.gui.zoo_dialog import ZooDialog

    dialog = ZooDialog()
    qtbot.addWidget(dialog)
    accepted = []
    dialog.accepted.connect(lambda: accepted.append(True))
    names = [dialog.list.item(i).data(256) for i in range(dialog.list.count())]
    dialog.list.setCurrentRow(names.index("alexnet"))
    dialog.show()
    qtbot.waitExposed(dialog)
    create = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    _retype(qtbot, dialog.form.fields["dropout"].editor, "0.5x")  # red; the totals keep the last good value
    assert dialog.form.invalid_fields()
    qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    assert not accepted and dialog.isVisible()
    assert dialog.refused.isVisibleTo(dialog)
    assert "Create refused" in dialog.refused.text() and "Dropout" in dialog.refused.text()
    assert "0.5x" in dialog.refused.text()
    _retype(qtbot, dialog.form.fields["dropout"].editor, "0.3")
    qtbot.waitUntil(lambda: dialog.graph is not None and create.isEnabled(), timeout=3000)
    qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    assert accepted and not dialog.isVisible() and dialog.graph is not None


def test_block_dialog_refuses_ok_while_a_field_is_invalid(app, qtbot):
    from PySide6.QtCore import Qt

    from cnnstudio.gui.editor.editor import BlockDialog

    dialog = BlockDialog("dense_block")
    qtbot.addWidget(dialog)
    accepted = []
    dialog.accepted.connect(lambda: accepted.append(True))
    dialog.show()
    qtbot.waitExposed(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    _retype(qtbot, dialog.form.fields["compression"].editor, "2")  # above its range of 0.05–1
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not accepted and dialog.isVisible()
    assert "Insert refused" in dialog.refused.text() and "Compression" in dialog.refused.text()
    assert dialog.values["compression"] != 2
    _retype(qtbot, dialog.form.fields["compression"].editor, "0.4")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert accepted and dialog.values["compression"] == 0.4
