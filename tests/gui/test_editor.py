"""The layer editor driven through its real widgets: drops, drags, forms, undo, blocks."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox

from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.catalogue import format_shape
from cnnstudio.gui.editor.items import BlockItem, NodeItem
from cnnstudio.gui.editor.scene import BLOCK_PREFIX
from tests.gui.conftest import lenet_graph


@pytest.fixture
def editor(qtbot):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.editor.editor import ArchitectureEditor

    _application()
    widget = ArchitectureEditor(lenet_graph())
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitExposed(widget)
    widget.view.resetTransform()
    yield widget
    widget.detach()


def view_point(editor, scene_point: QPointF) -> QPoint:
    return editor.view.mapFromScene(scene_point)


def drop(editor, mime, scene_point: QPointF) -> None:
    viewport = editor.view.viewport()
    pos = view_point(editor, scene_point)
    actions = Qt.DropAction.CopyAction
    for event in (
        QDragEnterEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDragMoveEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDropEvent(QPointF(pos), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
    ):
        QApplication.sendEvent(viewport, event)


def test_drag_palette_item_onto_empty_canvas(editor):
    item = editor.palette.item_for("Dropout")
    mime = editor.palette.tree.mimeData([item])
    target = editor.scene.cards["out"].scenePos() + QPointF(400, 0)
    editor.view.centerOn(target)
    drop(editor, mime, target)
    added = [n for n in editor.graph if n.type == "Dropout"]
    assert len(added) == 1
    x, y = added[0].position
    assert abs(x - target.x()) < 2 and abs(y - target.y()) < 2
    assert isinstance(editor.scene.cards[added[0].name], NodeItem)
    assert editor.selected() == [added[0].name]


def test_drop_on_a_layer_appends_after_it(editor):
    mime = editor.palette.tree.mimeData([editor.palette.item_for("BatchNorm")])
    card = editor.scene.cards["c1"]
    editor.view.centerOn(card)
    drop(editor, mime, card.sceneBoundingRect().center())
    assert editor.graph["batchnorm"].inputs == ["c1"]
    assert editor.graph["s2"].inputs == ["batchnorm"]
    assert analyze(editor.graph).valid


def test_palette_search_and_double_click(editor, qtbot):
    editor.palette.search.setText("dropout")
    visible = [editor.palette.item_for(n) for n in ("Dropout", "Conv2D")]
    assert not visible[0].isHidden() and visible[1].isHidden()
    editor.select(["flat"])
    rect = editor.palette.tree.visualItemRect(visible[0])
    QTest.mouseClick(editor.palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.mouseDClick(editor.palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert editor.graph["out"].inputs == ["dropout"]


def test_connect_two_nodes_by_dragging_ports(editor, qtbot):
    g = editor.graph
    g.add_layer("Conv2D", ["input"], name="side", filters=6, kernel_size=5, activation="tanh")
    g.add_layer("Add", ["c1"], name="sum")
    editor.scene.flush()
    editor.scene.auto_layout(record=False)
    editor.view.fit()
    assert any(d.node == "sum" for d in analyze(g).errors)  # one input only: invalid
    source = editor.scene.cards["side"].out_port.scenePos()
    target = editor.scene.cards["sum"].sceneBoundingRect().center()
    viewport = editor.view.viewport()
    start, end = view_point(editor, source), view_point(editor, target)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert g["sum"].inputs == ["c1", "side"]
    assert not any(d.node == "sum" for d in editor.scene.analysis.errors)
    assert len([e for e in editor.scene.edges if e.target.key == "sum"]) == 2
    editor.undo()
    assert g["sum"].inputs == ["c1"]


def test_refused_link_explains_itself(editor, qtbot):
    messages = []
    editor.message.connect(messages.append)
    editor.view.fit()
    source = editor.scene.cards["out"].out_port.scenePos()
    target = editor.scene.cards["c1"].sceneBoundingRect().center()
    viewport = editor.view.viewport()
    start, end = view_point(editor, source), view_point(editor, target)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert editor.graph["c1"].inputs == ["input"]
    assert messages and "loop" in messages[-1]


def test_inspector_change_updates_shape_then_undo_redo(editor, qtbot):
    editor.select(["c1"])
    spin = editor.inspector.form.fields["filters"].editor
    assert isinstance(spin, QSpinBox)
    spin.setValue(16)
    card = editor.scene.cards["c1"]
    assert "28×28×16" in card.text.footer
    assert "16" in card.text.summary
    row = editor.table.model_.row_of("s2")
    assert editor.table.model_.rows[row][2] == "14×14×16"
    edge = next(e for e in editor.scene.edges if e.source.key == "c1")
    assert edge.label == "28×28×16"
    editor.undo()
    assert "28×28×6" in editor.scene.cards["c1"].text.footer
    assert editor.inspector.form.fields["filters"].editor.value() == 6  # form follows undo
    editor.redo()
    assert editor.graph["c1"].params["filters"] == 16


def test_text_field_validates_as_you_type(editor, qtbot):
    editor.select(["c1"])
    field = editor.inspector.form.fields["kernel_size"]
    line = field.editor
    assert isinstance(line, QLineEdit)
    line.selectAll()
    QTest.keyClicks(line, "0")
    assert (not field.error.isHidden()) and "between" in field.error.text()
    QTest.keyClick(line, Qt.Key.Key_Return)
    assert editor.graph["c1"].params["kernel_size"] == 5  # nothing committed
    line.selectAll()
    QTest.keyClicks(line, "3x5")
    assert not (not field.error.isHidden())
    QTest.keyClick(line, Qt.Key.Key_Return)
    assert editor.graph["c1"].params["kernel_size"] == [3, 5]
    assert editor.scene.analysis.nodes["c1"].output_shape == (30, 28, 6)


def test_bad_shape_shows_error_badge_and_diagnostic(editor, qtbot):
    editor.select(["c1"])
    spin = editor.inspector.form.fields["filters"].editor
    line = editor.inspector.form.fields["kernel_size"].editor
    line.selectAll()
    QTest.keyClicks(line, "40")
    QTest.keyClick(line, Qt.Key.Key_Return)
    card = editor.scene.cards["c1"]
    assert card.text.errors and "reduce the stride" in card.text.errors[0]
    assert "reduce the stride" in card.toolTip()
    diagnostics = editor.diagnostics
    assert any("c1" in diagnostics.item(i).text() for i in range(diagnostics.count()))
    editor.select(["out"])
    item = next(diagnostics.item(i) for i in range(diagnostics.count()) if "c1:" in diagnostics.item(i).text())
    diagnostics.itemClicked.emit(item)
    assert editor.selected() == ["c1"]
    assert spin is not None


def test_delete_cut_paste_duplicate(editor, qtbot):
    g = editor.graph
    editor.select(["s2"])
    editor.delete_selected()
    assert "s2" not in g and g["flat"].inputs == ["c1"]
    editor.undo()
    assert g["flat"].inputs == ["s2"]
    editor.select(["c1", "s2"])
    editor.copy_selected()
    editor.paste()
    assert "c1_1" in g and g["s2_1"].inputs == ["c1_1"]
    assert sorted(editor.selected()) == ["c1_1", "s2_1"]
    editor.select(["c1"])
    editor.duplicate()
    assert g["c1_2"].inputs == ["input"]
    editor.select(["c1_2"])
    editor.cut_selected()
    assert "c1_2" not in g
    editor.paste()
    assert "c1_2" in g


def test_move_is_undoable(editor, qtbot):
    card = editor.scene.cards["flat"]
    before = editor.graph["flat"].position
    editor.view.centerOn(card)
    start = view_point(editor, card.sceneBoundingRect().center() + QPointF(0, -20))
    viewport = editor.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, start + QPoint(30, 10))
    QTest.mouseMove(viewport, start + QPoint(80, 20))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(80, 20))
    after = editor.graph["flat"].position
    assert after != before and abs(after[0] - before[0] - 80) < 2
    editor.undo()
    assert editor.graph["flat"].position == before
    assert card.pos() == QPointF(*before)


def test_group_collapse_expand_ungroup(editor, qtbot):
    g = editor.graph
    editor.select(["flat", "out"])
    editor.group_selected("classifier")
    assert g["flat"].group == "classifier" and g["out"].group == "classifier"
    editor.select(["c1"])
    editor.collapse_selected()
    key = BLOCK_PREFIX + "features"
    block = editor.scene.cards[key]
    assert isinstance(block, BlockItem)
    assert "c1" not in editor.scene.cards and "s2" not in editor.scene.cards
    assert block.text.summary == "32×32×1  →  14×14×6"
    assert "156 params" in block.text.footer
    # Edges now run to and from the block, labelled with the shapes crossing it.
    assert {(e.source.key, e.target.key) for e in editor.scene.edges} >= {("input", key), (key, "flat")}
    assert next(e for e in editor.scene.edges if e.source.key == key).label == format_shape((14, 14, 6))
    editor.view.fit()
    QTest.mouseDClick(editor.view.viewport(), Qt.MouseButton.LeftButton,
                      pos=view_point(editor, block.sceneBoundingRect().center()))
    assert key not in editor.scene.cards and "c1" in editor.scene.cards
    editor.select(["out"])
    editor.ungroup()
    assert g["out"].group == ""
    editor.undo()
    assert g["out"].group == "classifier"


def test_table_selection_syncs_and_exports_csv(editor, qtbot, tmp_path):
    editor.select(["s2"])
    rows = editor.table.selectionModel().selectedRows()
    assert [editor.table.model_.rows[r.row()][0] for r in rows] == ["s2"]
    editor.table.selectRow(editor.table.model_.row_of("c1"))
    assert editor.selected() == ["c1"]
    assert editor.inspector.node == "c1"
    path = tmp_path / "layers.csv"
    editor.export_table(str(path))
    with open(path, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["name"] for r in table] == ["input", "c1", "s2", "flat", "out"]
    assert table[1]["output_shape"] == "28×28×6" and table[1]["params"] == "156"


def test_insert_block_after_selection(editor, qtbot):
    editor.select(["c1"])
    out = editor.insert_block("residual_basic", values={"filters": 6})
    g = editor.graph
    assert g["s2"].inputs == [out]
    assert editor.scene.analysis.valid
    members = g.members("residual_basic")
    assert len(members) >= 7
    editor.undo()
    assert g["s2"].inputs == ["c1"] and not g.members("residual_basic")


def test_trainable_toggle_freezes(editor, qtbot):
    editor.select(["out"])
    editor.inspector.trainable.setChecked(False)
    assert editor.scene.analysis.nodes["out"].trainable_params == 0
    assert editor.scene.cards["out"].text.frozen


def test_view_zoom_and_fit(editor, qtbot):
    editor.view.fit()
    fitted = editor.view.transform().m11()
    editor.view.zoom(0.5)
    assert abs(editor.view.transform().m11() - fitted * 0.5) < 1e-6
    QTest.keyClick(editor.view, Qt.Key.Key_F)
    assert abs(editor.view.transform().m11() - fitted) < 1e-6
