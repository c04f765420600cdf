"""The layer editor driven through its real widgets: drops, drags, forms, undo, blocks."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox, QWidget

from cnnstudio.graph import commands as cmd
from cnnstudio.graph.analysis import analyze, human_count
from cnnstudio.graph.catalogue import format_shape
from cnnstudio.graph.layout import NODE_WIDTH
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


# ---- the editor shows the structure (issue 12 §1) ---------------------------------------------
@pytest.fixture
def zoo_editor(qtbot):
    """A factory: the editor on a zoo network, at the window's usual size."""
    from cnnstudio import zoo
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.editor.editor import ArchitectureEditor

    _application()
    made = []

    def make(family: str, **knobs):
        widget = ArchitectureEditor(zoo.create(family, **knobs))
        qtbot.addWidget(widget)
        widget.resize(1400, 900)
        widget.show()
        qtbot.waitExposed(widget)
        made.append(widget)
        return widget

    yield make
    for widget in made:
        widget.detach()


def cards_crossed_by_edges(scene) -> list[tuple[tuple[str, str], str]]:
    """Each (edge, card) where the drawn edge passes through a card it does not connect."""
    from PySide6.QtGui import QPainterPathStroker

    stroker = QPainterPathStroker()
    stroker.setWidth(1.0)
    found = []
    for edge in scene.edges:
        stroke = stroker.createStroke(edge.path())  # the line itself, not the area it would close
        bounds = stroke.boundingRect()
        for key, card in scene.cards.items():
            rect = card.mapRectToScene(card.shape().boundingRect()).adjusted(2, 2, -2, -2)
            if key not in edge.pair and bounds.intersects(rect) and stroke.intersects(rect):
                found.append((edge.pair, key))
    return found


@pytest.mark.parametrize(("family", "knobs"), [("resnet", {"depth": 50}), ("densenet", {"depth": 121})])
def test_expanded_zoo_network_draws_long_edges_beside_the_cards(zoo_editor, family, knobs):
    editor = zoo_editor(family, **knobs)
    editor.expand_all()
    scene = editor.scene
    assert len(scene.cards) == len(editor.graph)
    assert cards_crossed_by_edges(scene) == []
    routed = [e for e in scene.edges if e.routed()]
    merge = "Add" if family == "resnet" else "Concatenate"
    assert routed and all(editor.graph[e.target.key].type == merge for e in routed)
    column = scene.cards["input"].x()
    for edge in routed:  # the lane runs beside the main column, its label on the lane
        assert all(abs(p.x() - (column + NODE_WIDTH / 2)) > NODE_WIDTH / 2 for p in edge.route)
        assert abs(edge.label_point().x() - edge.route[0].x()) < 1e-6
    assert len({scene.cards[n.name].x() for n in editor.graph if n.type == merge}) == 1  # straight column


def test_old_straight_edges_would_be_caught(zoo_editor):
    editor = zoo_editor("resnet", depth=50)
    editor.expand_all()
    for edge in editor.scene.edges:
        edge.route = []  # what the editor drew before: straight down through the column
        edge.update_path()
    assert cards_crossed_by_edges(editor.scene)


def test_googlenet_branches_side_by_side(zoo_editor):
    editor = zoo_editor("googlenet")
    editor.expand_all()
    cards = editor.scene.cards
    firsts = [cards[f"inception4a_{stem}"] for stem in ("1x1", "3x3_reduce", "5x5_reduce", "pool")]
    assert len({c.y() for c in firsts}) == 1
    xs = sorted(c.x() for c in firsts)
    assert all(b - a >= NODE_WIDTH for a, b in zip(xs, xs[1:], strict=False))
    assert cards_crossed_by_edges(editor.scene) == []


def test_rewiring_updates_the_layout_or_offers_to(editor, qtbot):
    messages = []
    editor.message.connect(messages.append)
    # Auto-laid-out graph: a new long link is routed beside the cards at once.
    editor.push(cmd.SetInputs("out", ["flat", "input"]))
    assert ("input", "out") in editor.scene.layout.routes
    edge = next(e for e in editor.scene.edges if e.pair == ("input", "out"))
    assert edge.routed() and cards_crossed_by_edges(editor.scene) == []
    # Hand-arranged: a moved card's edges follow it (the lanes belong to the layout) ...
    card = editor.scene.cards["out"]
    editor.push(cmd.MoveNodes({"out": (card.x() + 300, card.y())}))
    assert not editor.scene.at_layout() and not edge.routed()
    assert edge.path().pointAtPercent(1.0) == card.in_port.scenePos()
    editor.undo()
    assert editor.scene.at_layout() and edge.routed()
    editor.undo()
    assert editor.scene.at_layout()
    # ... and after a rewiring the places stay and the layout is offered.
    card = editor.scene.cards["flat"]
    editor.push(cmd.MoveNodes({"flat": (card.x() + 300, card.y())}))
    assert not editor.scene.at_layout()
    editor.push(cmd.SetInputs("out", ["flat", "c1"]))
    assert editor.scene.cards["flat"].x() == pytest.approx(editor.graph["flat"].position[0])
    assert messages and "Layout (Ctrl+L)" in messages[-1]


def test_card_titles_show_what_distinguishes_them(zoo_editor):
    editor = zoo_editor("resnet", depth=50)
    editor.expand_all()
    cards = editor.scene.cards
    card = cards["conv3_block2_2_conv"]
    assert card.text.title == "block2_2_conv"
    assert "conv3_block2_2_conv" in card.toolTip()
    stage3 = [cards[n].text.title for n in editor.graph.members("stage3")]
    assert len(set(stage3)) == len(stage3)  # unique inside the stage
    assert not any(t.startswith("conv3_") for t in stage3)
    googlenet = zoo_editor("googlenet")
    googlenet.expand_all()
    assert googlenet.scene.cards["inception4a_5x5_reduce"].text.title == "5x5_reduce"


def test_long_titles_are_elided_in_the_middle(editor):
    from PySide6.QtGui import QFontMetrics

    from cnnstudio.gui.editor.items import elide_title

    metrics = QFontMetrics(editor.font())
    name = "features_stage_three_block_twelve_pointwise_conv"
    shown = elide_title(name, metrics, 120)
    assert "…" in shown and shown.startswith("feat") and shown.endswith("conv")
    assert elide_title("c1", metrics, 120) == "c1"


def test_table_row_reveals_the_layer_inside_collapsed_blocks(zoo_editor, qtbot):
    editor = zoo_editor("resnet", depth=50)
    scene = editor.scene
    assert BLOCK_PREFIX + "stage3" in scene.cards  # opens with its stages collapsed
    table = editor.table
    row = table.model_.row_of("conv3_block2_2_conv")
    rect = table.visualRect(table.model_.index(row, 0))
    table.scrollTo(table.model_.index(row, 0))
    rect = table.visualRect(table.model_.index(row, 0))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert isinstance(scene.cards.get("conv3_block2_2_conv"), NodeItem)
    assert scene.selected_keys() == ["conv3_block2_2_conv"]
    assert editor.inspector.node == "conv3_block2_2_conv"
    # Only the blocks around it opened: its sibling blocks and the other stages stay closed.
    assert BLOCK_PREFIX + "stage3/block1" in scene.cards and BLOCK_PREFIX + "stage4" in scene.cards
    assert editor.view.mapToScene(editor.view.viewport().rect()).boundingRect().contains(
        scene.cards["conv3_block2_2_conv"].sceneBoundingRect().center())
    # The block closes on its own, then its stage from the block card.
    editor.collapse_selected()
    assert scene.selected_keys() == [BLOCK_PREFIX + "stage3/block2"]
    editor.collapse_selected()
    assert BLOCK_PREFIX + "stage3" in scene.cards and "conv3_block2_2_conv" not in scene.cards
    assert BLOCK_PREFIX + "stage2" in scene.cards


def test_diagnostic_reveals_its_layer(zoo_editor, qtbot):
    editor = zoo_editor("resnet", depth=50)
    params = dict(editor.graph["conv4_block3_2_conv"].params, kernel_size=99)
    editor.push(cmd.SetParams("conv4_block3_2_conv", params))
    assert BLOCK_PREFIX + "stage4" in editor.scene.cards
    diagnostics = editor.diagnostics
    item = next(diagnostics.item(i) for i in range(diagnostics.count())
                if diagnostics.item(i).data(Qt.ItemDataRole.UserRole) == "conv4_block3_2_conv")
    diagnostics.scrollToItem(item)
    QTest.mouseClick(diagnostics.viewport(), Qt.MouseButton.LeftButton,
                     pos=diagnostics.visualItemRect(item).center())
    assert editor.scene.selected_keys() == ["conv4_block3_2_conv"]
    assert editor.inspector.node == "conv4_block3_2_conv"


def test_context_menu_collapses_a_stage_on_its_own(zoo_editor):
    from cnnstudio.gui.editor.menus import context_menu

    editor = zoo_editor("resnet", depth=50)
    editor.expand_all()
    scene = editor.scene
    menu = context_menu(scene, scene.cards["conv3_block2_2_conv"])
    texts = [a.text() for a in menu.actions()]
    assert texts[:2] == ["Collapse 'stage3/block2'", "Collapse 'stage3'"]
    menu.actions()[1].trigger()
    assert BLOCK_PREFIX + "stage3" in scene.cards
    assert "conv2_block1_1_conv" in scene.cards and "conv4_block1_1_conv" in scene.cards  # the rest stays open
    assert cards_crossed_by_edges(scene) == []


def click_edge(editor, edge) -> None:
    editor.view.centerOn(edge.label_point())
    point = view_point(editor, edge.path().pointAtPercent(0.5))
    QTest.mouseClick(editor.view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_edge_is_selected_and_deleted_with_the_delete_key(window, qtbot):
    editor = window.editor
    edge = next(e for e in editor.scene.edges if e.pair == ("s2", "flat"))
    click_edge(editor, edge)
    assert editor.scene.selected_edges() == [edge] and not editor.scene.selected_keys()
    assert window.statusBar().currentMessage() == "Connection 's2' → 'flat' (14×14×6): Delete removes it."
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert editor.graph["flat"].inputs == []
    assert "s2" in editor.graph and ("s2", "flat") not in {e.pair for e in editor.scene.edges}
    editor.undo()
    assert editor.graph["flat"].inputs == ["s2"]


def test_edge_context_menu_deletes_the_connection(editor):
    from cnnstudio.gui.editor.menus import context_menu

    edge = next(e for e in editor.scene.edges if e.pair == ("c1", "s2"))
    menu = context_menu(editor.scene, edge)
    assert edge.isSelected()
    action = menu.actions()[0]
    assert action.text() == "Delete connection 'c1' → 's2'"
    action.trigger()
    assert editor.graph["s2"].inputs == [] and len(editor.graph) == 5
    editor.undo()
    assert editor.graph["s2"].inputs == ["c1"]


def test_replacing_a_single_input_says_so(editor, qtbot):
    messages = []
    editor.message.connect(messages.append)
    editor.view.fit()
    source = editor.scene.cards["c1"].out_port.scenePos()
    target = editor.scene.cards["flat"].sceneBoundingRect().center()
    viewport = editor.view.viewport()
    start, end = view_point(editor, source), view_point(editor, target)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert editor.graph["flat"].inputs == ["c1"]
    assert messages and "'c1' replaced 's2'" in messages[-1]


def test_fit_keeps_card_text_readable(zoo_editor):
    from cnnstudio.gui.editor.items import TEXT_LOD
    from cnnstudio.gui.editor.view import FIT_MIN_SCALE

    editor = zoo_editor("densenet", depth=121)
    editor.expand_all()
    editor.view.fit()
    scale = editor.view.transform().m11()
    assert scale >= FIT_MIN_SCALE >= TEXT_LOD
    visible = editor.view.mapToScene(editor.view.viewport().rect()).boundingRect()
    everything = editor.scene.itemsBoundingRect()
    assert visible.left() <= everything.left() and visible.right() >= everything.right()  # the width fits
    assert visible.contains(editor.scene.cards["input"].sceneBoundingRect())  # starting at the top


def test_status_totals_never_show_a_partial_sum(window, qtbot):
    editor = window.editor
    total = editor.scene.analysis.total_params
    params = dict(editor.graph["c1"].params, kernel_size=40)  # larger than the 32×32 input
    editor.push(cmd.SetParams("c1", params))
    assert not editor.scene.analysis.valid
    text = window.totals["params"].text()
    assert f"<b>{human_count(total)}</b>" in text and "last valid" in text and "color:#8a8f98" in text
    assert "error" in window.totals["problems"].text()
    editor.undo()
    assert "last valid" not in window.totals["params"].text()


def test_status_totals_unknown_when_never_valid(qtbot):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import Project

    _application()
    graph = lenet_graph()
    graph["c1"].params["kernel_size"] = 40
    win = MainWindow(Project(graph=graph, name="broken"))
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    assert "<b>?</b>" in win.totals["params"].text() and "invalid" in win.totals["params"].text()
    assert "<b>?</b>" in win.totals["training"].text()
    win.close()


def test_fit_and_zoom_visible_at_1280x720(window, qtbot):
    from PySide6.QtWidgets import QToolBar

    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280)
    bars = window.editor.findChildren(QToolBar)
    for name in ("fit", "zoom-in", "zoom-out", "layout", "delete", "collapse", "expand"):
        action = next(a for bar in bars for a in bar.actions() if a.objectName() == f"canvas-{name}")
        button = next(bar.widgetForAction(action) for bar in bars if action in bar.actions())
        assert button is not None and button.isVisible(), name
    extensions = [c for bar in bars for c in bar.findChildren(QWidget) if c.metaObject().className() == "QToolBarExtension"]
    assert not any(c.isVisible() for c in extensions)


def test_inspector_form_for_every_layer_type(qtbot):
    """Selecting a node of each catalogue type (table row) opens a form with all its parameters."""
    from cnnstudio.graph import catalogue
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.editor.editor import ArchitectureEditor
    from tests.graph.test_every_layer_type import every_type_graph

    _application()
    graph = every_type_graph()
    widget = ArchitectureEditor(graph)
    qtbot.addWidget(widget)
    widget.show()
    try:
        for node in graph:
            widget.table.selectRow(widget.table.model_.row_of(node.name))
            assert widget.inspector.node == node.name
            specs = [spec.name for spec in catalogue.get(node.type).params]
            fields = list(widget.inspector.form.fields) if widget.inspector.form is not None else []
            assert sorted(fields) == sorted(specs), node.name
    finally:
        widget.detach()


def test_layers_and_connections_delete_in_one_undo_step(editor):
    scene = editor.scene
    scene.cards["out"].setSelected(True)
    next(e for e in scene.edges if e.pair == ("c1", "s2")).setSelected(True)
    editor.delete_selected()
    assert "out" not in editor.graph and editor.graph["s2"].inputs == []
    editor.undo()
    assert "out" in editor.graph and editor.graph["s2"].inputs == ["c1"]
