"""Automatic layered layout."""

from __future__ import annotations

import time

from cnnstudio.graph.layout import (
    GAP_X,
    NODE_WIDTH,
    layered_layout,
    layers_by_longest_path,
    layout_graph,
)
from cnnstudio.graph.model import Graph


def test_layers_follow_longest_path():
    edges = [("a", "b"), ("b", "c"), ("a", "c")]
    assert layers_by_longest_path(["a", "b", "c"], edges) == {"a": 0, "b": 1, "c": 2}


def test_chain_is_straight_and_top_to_bottom():
    g = Graph()
    g.add_layer("Input", name="x")
    prev = "x"
    for i in range(5):
        prev = g.add_layer("Conv2D", [prev], name=f"c{i}")
    pos = layout_graph(g)
    xs = {p[0] for p in pos.values()}
    ys = [pos[n][1] for n in g.names]
    assert len(xs) == 1
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_branches_side_by_side_without_overlap():
    g = Graph()
    g.add_layer("Input", name="x")
    for b in range(4):
        g.add_layer("Conv2D", ["x"], name=f"b{b}")
    g.add_layer("Concatenate", [f"b{b}" for b in range(4)], name="cat")
    pos = layout_graph(g)
    row = sorted(pos[f"b{b}"][0] for b in range(4))
    assert all(row[i + 1] - row[i] >= NODE_WIDTH + GAP_X - 1e-6 for i in range(3))
    assert len({pos[f"b{b}"][1] for b in range(4)}) == 1
    # The merge sits under the middle of its inputs.
    assert abs(pos["cat"][0] - sum(row) / 4) < 1e-6


def test_barycentre_untangles_crossings():
    # Two parallel chains whose second layer is listed in the crossing order.
    nodes = ["a", "b", "b2", "a2"]
    edges = [("a", "a2"), ("b", "b2")]
    pos = layered_layout(nodes, edges)
    assert (pos["a"][0] < pos["b"][0]) == (pos["a2"][0] < pos["b2"][0])


def test_large_graph_is_fast():
    g = Graph()
    prev = g.add_layer("Input", name="x")
    for i in range(800):
        y = g.add_layer("Conv2D", [prev], name=f"c{i}")
        prev = g.add_layer("Concatenate", [prev, y], name=f"k{i}")
    start = time.perf_counter()
    pos = layout_graph(g)
    assert len(pos) == len(g)
    assert time.perf_counter() - start < 1.0
