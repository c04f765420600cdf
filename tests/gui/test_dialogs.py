"""Zoo and block dialogs: generated knob forms, live totals, insertion."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from cnnstudio.graph.analysis import analyze
from tests.gui.conftest import lenet_graph

zoo = pytest.importorskip("cnnstudio.zoo")


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
