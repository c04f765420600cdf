"""Automatic layered layout: rows, long-edge lanes, crossings, the straight main column."""

from __future__ import annotations

import pytest

from cnnstudio import zoo
from cnnstudio.graph.layout import (
    GAP_X,
    NODE_HEIGHT,
    NODE_WIDTH,
    Layout,
    edge_polyline,
    graph_edges,
    layered_layout,
    layers_by_longest_path,
    layout_graph,
    sugiyama,
)
from cnnstudio.graph.model import Graph


def card_rect(layout: Layout, name: str) -> tuple[float, float, float, float]:
    x, y = layout.positions[name]
    return x, y, x + NODE_WIDTH, y + NODE_HEIGHT


def segment_hits(a, b, rect, margin: float = 1.0) -> bool:
    """The segment's bounding box overlaps the card (curves drawn between the points stay in it)."""
    left, top, right, bottom = rect
    return (min(a[0], b[0]) < right - margin and max(a[0], b[0]) > left + margin
            and min(a[1], b[1]) < bottom - margin and max(a[1], b[1]) > top + margin)


def cards_crossed(layout: Layout, edges: list[tuple[str, str]]) -> list[tuple[tuple[str, str], str]]:
    rects = {name: card_rect(layout, name) for name in layout.positions}
    found = []
    for source, target in edges:
        points = edge_polyline(layout, source, target)
        for a, b in zip(points, points[1:], strict=False):
            found += [((source, target), name) for name, rect in rects.items()
                      if name not in (source, target) and segment_hits(a, b, rect)]
    return found


def residual_chain() -> Graph:
    g = Graph()
    g.add_layer("Input", name="x", height=8, width=8, channels=4)
    prev = "x"
    for i in range(3):
        prev = g.add_layer("Conv2D", [prev], name=f"c{i}", filters=4, padding="same")
    g.add_layer("Add", ["x", prev], name="add")
    g.add_layer("Activation", ["add"], name="out")
    return g


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


def test_long_edge_gets_a_lane_beside_the_main_column():
    g = residual_chain()
    layout = sugiyama(g.names, graph_edges(g))
    main = {layout.positions[n][0] for n in ("x", "c0", "c1", "c2", "add", "out")}
    assert len(main) == 1  # the main column is one straight line
    route = layout.routes[("x", "add")]
    assert len(route) == 2 * 3  # a dummy point (top and bottom of the row) per row crossed
    left = main.pop()
    assert all(p[0] >= left + NODE_WIDTH or p[0] <= left for p in route)  # beside the cards, not through
    assert len({p[0] for p in route}) == 1  # the lane is straight
    assert layout.routes[("c0", "c1")] == []
    assert cards_crossed(layout, graph_edges(g)) == []


def test_crossing_check_catches_an_edge_drawn_through_the_column():
    g = residual_chain()
    layout = sugiyama(g.names, graph_edges(g))
    layout.routes.pop(("x", "add"))  # the old drawing: straight down through the cards
    crossed = {name for _, name in cards_crossed(layout, graph_edges(g))}
    assert crossed == {"c0", "c1", "c2"}


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
    # Source and merge stay in one straight column through a middle branch.
    assert pos["x"][0] == pos["cat"][0] and pos["cat"][0] in row[1:3]


def test_barycentre_untangles_crossings():
    # Two parallel chains whose second layer is listed in the crossing order.
    nodes = ["a", "b", "b2", "a2"]
    edges = [("a", "a2"), ("b", "b2")]
    layout = sugiyama(nodes, edges)
    pos = layout.positions
    assert (pos["a"][0] < pos["b"][0]) == (pos["a2"][0] < pos["b2"][0])
    assert layout.crossings == 0


def test_crossings_are_counted():
    # K(2,2) between two rows cannot be drawn without one crossing.
    layout = sugiyama(["a", "b", "c", "d"], [("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")])
    assert layout.crossings == 1


@pytest.mark.parametrize(("family", "knobs", "most_crossings"), [
    ("resnet", {"depth": 50}, 0),
    ("densenet", {"depth": 121}, 0),
    ("googlenet", {}, 0),
])
def test_zoo_networks_route_every_edge_around_cards(family, knobs, most_crossings):
    g = zoo.create(family, **knobs)
    edges = graph_edges(g)
    layout = sugiyama(g.names, edges)
    assert cards_crossed(layout, edges) == []
    assert layout.crossings <= most_crossings
    long_edges = [e for e in edges if layout.layers[e[1]] - layout.layers[e[0]] > 1]
    assert long_edges and all(layout.routes[e] for e in long_edges)
    # The merges (Add / Concatenate) all sit in the one main column with the input.
    merges = {layout.positions[n.name][0] for n in g if n.type in ("Add", "Concatenate")} - set()
    if family != "googlenet":
        assert merges == {layout.positions["input"][0]}


def test_shortcuts_and_concatenations_run_beside_the_main_column():
    for family, knobs, merge in (("resnet", {"depth": 50}, "Add"), ("densenet", {"depth": 121}, "Concatenate")):
        g = zoo.create(family, **knobs)
        layout = sugiyama(g.names, graph_edges(g))
        column = layout.positions["input"][0]
        beside = 0
        for node in g:
            if node.type != merge:
                continue
            for source in node.inputs:
                for x, _ in layout.routes.get((source, node.name), []):
                    assert x > column + NODE_WIDTH or x < column
                    beside += 1
        assert beside > 0


def test_inception_branches_sit_side_by_side():
    g = zoo.create("googlenet")
    layout = sugiyama(g.names, graph_edges(g))
    for block in ("inception3a", "inception4c", "inception5b"):
        firsts = [f"{block}_{stem}" for stem in ("1x1", "3x3_reduce", "5x5_reduce", "pool")]
        assert len({layout.positions[n][1] for n in firsts}) == 1
        xs = sorted(layout.positions[n][0] for n in firsts)
        assert all(b - a >= NODE_WIDTH + GAP_X - 1e-6 for a, b in zip(xs, xs[1:], strict=False))
        concat = layout.positions[f"{block}_output"][0]
        assert xs[0] < concat < xs[-1]  # the merge under the middle of its branches


def test_sizes_and_origin_are_respected():
    layout = sugiyama(["a", "b"], [("a", "b")], sizes={"a": (300.0, 120.0), "b": (100.0, 50.0)}, origin=(10, 20))
    (ax, ay), (bx, by) = layout.positions["a"], layout.positions["b"]
    assert (ax, ay) == (10, 20)
    assert by >= ay + 120 and abs((ax + 150) - (bx + 50)) < 1e-6  # centred in one column


def test_cycles_and_unknown_nodes_do_not_break_it():
    layout = sugiyama(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b"), ("a", "ghost")])
    assert set(layout.positions) == {"a", "b", "c"}


def test_large_graph_is_laid_out_completely():
    g = Graph()
    prev = g.add_layer("Input", name="x")
    for i in range(800):
        y = g.add_layer("Conv2D", [prev], name=f"c{i}")
        prev = g.add_layer("Concatenate", [prev, y], name=f"k{i}")
    layout = sugiyama(g.names, graph_edges(g))
    assert len(layout.positions) == len(g)
    assert layout.crossings == 0
    assert len({layout.positions[f"k{i}"][0] for i in range(800)}) == 1
    assert layered_layout(g.names, graph_edges(g)) == layout.positions


def test_every_zoo_family_draws_no_edge_through_a_card():
    for family in zoo.names():
        g = zoo.create(family)
        edges = graph_edges(g)
        layout = sugiyama(g.names, edges)
        assert cards_crossed(layout, edges) == [], family
        # DPN's projection blocks cross once each (its dense path must change sides); none else.
        assert layout.crossings <= (4 if family == "dpn" else 0), family
        xs = [x for x, _ in layout.positions.values()]
        assert max(xs) - min(xs) <= 4 * (NODE_WIDTH + GAP_X), family  # no chain drifts sideways


def test_random_graphs_never_overlap_cards_or_route_through_them():
    import random

    for seed in range(120):
        rng = random.Random(seed)
        count = rng.randint(2, 40)
        nodes = [f"n{i}" for i in range(count)]
        edges = [(nodes[a], nodes[b]) for b in range(1, count)
                 for a in rng.sample(range(b), min(b, rng.choice([0, 1, 1, 2, 3])))]
        layout = sugiyama(nodes, edges)
        assert set(layout.positions) == set(nodes)
        rows: dict[float, list[float]] = {}
        for x, y in layout.positions.values():
            rows.setdefault(y, []).append(x)
        for xs in rows.values():
            xs.sort()
            assert all(b - a >= NODE_WIDTH + GAP_X - 1e-6 for a, b in zip(xs, xs[1:], strict=False)), seed
        assert cards_crossed(layout, edges) == [], seed
