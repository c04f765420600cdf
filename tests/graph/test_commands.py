"""Edit commands: every command's undo restores the graph exactly, redo replays it."""

from __future__ import annotations

import pytest

from cnnstudio.errors import GraphError
from cnnstudio.graph import commands as cmd
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.blocks import build_block
from cnnstudio.graph.model import Graph, Node


def chain() -> Graph:
    g = Graph(name="lenet")
    g.add_layer("Input", name="input", height=32, width=32, channels=1)
    g.add_layer("Conv2D", ["input"], name="conv1", filters=6, kernel_size=5, group="features")
    g.add_layer("MaxPool2D", ["conv1"], name="pool1", group="features")
    g.add_layer("Flatten", ["pool1"], name="flat")
    g.add_layer("Dense", ["flat"], name="fc", units=10)
    return g


def roundtrip(graph: Graph, command: cmd.Command) -> dict:
    stack = cmd.UndoStack(graph)
    before = graph.to_dict()
    stack.push(command)
    after = graph.to_dict()
    assert after != before
    assert stack.undo()
    assert graph.to_dict() == before
    assert stack.redo()
    assert graph.to_dict() == after
    stack.undo()
    assert graph.to_dict() == before
    stack.redo()
    return after


def test_add_node_and_undo():
    g = chain()
    after = roundtrip(g, cmd.AddNode(Node("drop", "Dropout", {"rate": 0.3}, ["fc"])))
    assert after["nodes"][-1]["name"] == "drop"


def test_remove_restores_links_and_order():
    g = chain()
    after = roundtrip(g, cmd.RemoveNodes(["pool1"]))
    assert [n["name"] for n in after["nodes"]] == ["input", "conv1", "flat", "fc"]
    assert g["flat"].inputs == []


def test_remove_with_bridge_reconnects_chain():
    g = chain()
    roundtrip(g, cmd.RemoveNodes(["pool1", "conv1"], bridge=True))
    assert g["flat"].inputs == ["input"]


def test_set_params_changes_shape_and_undoes():
    g = chain()
    stack = cmd.UndoStack(g)
    stack.push(cmd.SetParams("conv1", {"filters": 16, "kernel_size": 5}))
    assert analyze(g).nodes["conv1"].output_shape == (28, 28, 16)
    stack.undo()
    assert analyze(g).nodes["conv1"].output_shape == (28, 28, 6)


def test_connect_rules():
    g = chain()
    g.add_layer("Conv2D", ["input"], name="side", filters=6, kernel_size=5)
    g.add_layer("Add", ["conv1"], name="sum")
    roundtrip(g, cmd.connect(g, "side", "sum"))
    assert g["sum"].inputs == ["conv1", "side"]
    with pytest.raises(GraphError, match="loop"):
        cmd.connect(g, "fc", "conv1")
    with pytest.raises(GraphError, match="already"):
        cmd.connect(g, "side", "sum")
    with pytest.raises(GraphError, match="no input"):
        cmd.connect(g, "conv1", "input")
    # A single-input layer swaps its source instead of collecting two.
    swap = cmd.connect(g, "side", "pool1")
    swap.do(g)
    assert g["pool1"].inputs == ["side"]
    roundtrip(g, cmd.disconnect(g, "side", "sum"))


def test_move_group_ungroup_rename_trainable():
    g = chain()
    roundtrip(g, cmd.MoveNodes({"conv1": (10.0, 20.0)}))
    roundtrip(g, cmd.group_nodes(g, ["conv1", "pool1"], "stem"))
    assert g["conv1"].group == "features/stem"
    roundtrip(g, cmd.Ungroup("features/stem"))
    assert g["conv1"].group == "features"
    roundtrip(g, cmd.Rename("conv1", "c1"))
    assert g["pool1"].inputs == ["c1"]
    roundtrip(g, cmd.SetTrainable(["fc"], False))
    assert analyze(g).nodes["fc"].trainable_params == 0
    with pytest.raises(GraphError):
        cmd.group_nodes(g, [], "x")
    with pytest.raises(GraphError):
        cmd.group_nodes(g, ["fc"], "a/b")


def test_paste_renames_and_keeps_internal_links():
    g = chain()
    clip = [g["conv1"].to_dict(), g["pool1"].to_dict()]
    after = roundtrip(g, cmd.paste(g, clip))
    names = [n["name"] for n in after["nodes"]]
    assert "conv1_1" in names and "pool1_1" in names
    assert g["pool1_1"].inputs == ["conv1_1"]
    assert g["conv1_1"].inputs == []  # outside link dropped on paste
    dup = cmd.paste(g, [g["conv1"].to_dict()], keep_external=True)
    dup.do(g)
    assert g["conv1_2"].inputs == ["input"]


def test_insert_block_takes_over_consumers():
    g = chain()
    command = cmd.insert_with(g, "Insert block", lambda s: build_block(s, "residual_basic", "pool1", filters=6),
                              after="pool1")
    roundtrip(g, command)
    out = [n for n in g.names if n.startswith("residual_basic_out")][0]
    assert g["flat"].inputs == [out]
    assert analyze(g).valid


def test_add_after_inserts_into_chain():
    g = chain()
    roundtrip(g, cmd.add_after(g, "Dropout", "flat"))
    assert g["fc"].inputs == ["dropout"]
    assert g["dropout"].inputs == ["flat"]


def test_macro_rolls_back_on_failure():
    g = chain()
    before = g.to_dict()
    bad = cmd.Macro("bad", [cmd.SetParams("conv1", {"filters": 3}), cmd.Rename("fc", "conv1")])
    with pytest.raises(GraphError):
        bad.do(g)
    assert g.to_dict() == before


def test_undo_stack_clean_state_and_labels():
    g = chain()
    stack = cmd.UndoStack(g)
    assert stack.is_clean and not stack.can_undo
    stack.push(cmd.Rename("fc", "classifier"))
    assert not stack.is_clean
    assert stack.undo_label == "Rename 'fc' to 'classifier'"
    stack.set_clean()
    stack.undo()
    assert not stack.is_clean and stack.redo_label.startswith("Rename")
    stack.redo()
    assert stack.is_clean
    stack.undo()
    stack.push(cmd.SetTrainable(["fc"], False))  # the clean state is gone with the redo branch
    stack.undo()
    assert not stack.is_clean
