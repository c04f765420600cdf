"""Automatic layered layout, top to bottom, like the tutorial's architecture figures.

Sugiyama-style and linear-ish in the graph size: layers by longest path from the sources,
ordering inside a layer by a few barycentre sweeps, then x from the parents' mean with
overlaps pushed apart, so chains come out straight and branches sit side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cnnstudio.graph.model import Graph

NODE_WIDTH = 200.0
NODE_HEIGHT = 76.0
GAP_X = 40.0
GAP_Y = 44.0


def layers_by_longest_path(nodes: list[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Layer index per node: 1 + the deepest parent. Nodes on a cycle get the layer they reach."""
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in edges:
        if source in parents and target in parents and source != target:
            parents[target].append(source)
            children[source].append(target)
    indegree = {n: len(parents[n]) for n in nodes}
    ready = [n for n in nodes if indegree[n] == 0]
    layer = dict.fromkeys(nodes, 0)
    i = 0
    while i < len(ready):
        name = ready[i]
        i += 1
        for child in children[name]:
            layer[child] = max(layer[child], layer[name] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return layer


def layered_layout(
    nodes: list[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    sweeps: int = 4,
    origin: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """Top-left position per node. `sizes` gives (width, height); default NODE_WIDTH×NODE_HEIGHT."""
    edges = [(s, t) for s, t in edges if s != t]
    layer = layers_by_longest_path(nodes, edges)
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in edges:
        if source in parents and target in parents:
            parents[target].append(source)
            children[source].append(target)
    depth = max(layer.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    for name in nodes:  # insertion order is the first ordering: builders add left to right
        rows[layer[name]].append(name)

    index = {name: i for row in rows for i, name in enumerate(row)}
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        sequence = range(1, depth) if downward else range(depth - 2, -1, -1)
        for r in sequence:
            row = rows[r]
            keyed = []
            for name in row:
                neighbours = parents[name] if downward else children[name]
                if neighbours:
                    key = sum(index[n] for n in neighbours) / len(neighbours)
                else:
                    key = float(index[name])
                keyed.append((key, index[name], name))
            keyed.sort()
            rows[r] = [name for _, _, name in keyed]
            for i, name in enumerate(rows[r]):
                index[name] = i

    def size(name: str) -> tuple[float, float]:
        return sizes.get(name, (NODE_WIDTH, NODE_HEIGHT)) if sizes else (NODE_WIDTH, NODE_HEIGHT)

    centre: dict[str, float] = {}
    ox, oy = origin
    y = oy
    positions: dict[str, tuple[float, float]] = {}
    for row in rows:
        # Wanted centre: the mean of the parents' centres, else left-packed.
        wanted = []
        cursor = 0.0
        for name in row:
            width = size(name)[0]
            placed = [centre[p] for p in parents[name] if p in centre]
            want = sum(placed) / len(placed) if placed else cursor + width / 2
            wanted.append(want)
            cursor += width + GAP_X
        xs = _resolve_overlaps([size(n)[0] for n in row], wanted)
        height = max((size(n)[1] for n in row), default=NODE_HEIGHT)
        for name, x in zip(row, xs, strict=True):
            centre[name] = x
            width, _ = size(name)
            positions[name] = (ox + x - width / 2, y)
        y += height + GAP_Y
    return positions


def _resolve_overlaps(widths: list[float], wanted: list[float]) -> list[float]:
    """Centres as close as possible to `wanted`, in order, at least GAP_X apart (edge to edge)."""
    xs = list(wanted)
    for i in range(1, len(xs)):  # push right
        least = xs[i - 1] + (widths[i - 1] + widths[i]) / 2 + GAP_X
        if xs[i] < least:
            xs[i] = least
    if len(xs) > 1:
        # Shift the row back so it stays centred on what it wanted, not drifting right.
        shift = (sum(wanted) - sum(xs)) / len(xs)
        xs = [x + shift for x in xs]
    return xs


def layout_graph(graph: Graph, sizes: Mapping[str, tuple[float, float]] | None = None) -> dict[str, tuple[float, float]]:
    """Positions for every node of a graph."""
    edges = [(source, node.name) for node in graph for source in node.inputs if source in graph]
    return layered_layout(graph.names, edges, sizes)
