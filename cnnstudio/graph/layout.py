"""Layered (Sugiyama) layout, top to bottom, like the tutorial's architecture figures.

1. Layers by longest path from the sources.
2. An edge spanning several layers gets one dummy point per layer it crosses, so it is
   routed through its own lane instead of straight through the cards in between.
3. Order inside each layer: depth-first in insertion order, then barycentre sweeps down and
   up, keeping the order with the fewest crossings.
4. x: every item is aligned with at most one neighbour above (long-edge lanes first, then
   the edges on the longest chains of real layers, median neighbours first: Brandes-Köpf
   style); the aligned chains are packed left and right and the two packings averaged. So
   the main column is one straight line, shortcuts and concatenations run beside it, and
   parallel branches sit side by side.

Pure Python on purpose (no igraph): it stays importable headless in milliseconds, and our
cards are not unit squares: lanes are narrower than cards, rows as tall as their cards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cnnstudio.graph.model import Graph

NODE_WIDTH = 200.0
NODE_HEIGHT = 76.0
GAP_X = 40.0  # between two cards of a row
GAP_Y = 44.0  # between rows: edges bend in this band only
LANE_WIDTH = 64.0  # a long edge's lane: room for its shape label
LANE_GAP = 14.0  # between a lane and its neighbour (card or lane)
SWEEPS = 8

Point = tuple[float, float]


@dataclass
class Layout:
    """Top-left position per node and the bend points of every edge that spans rows."""

    positions: dict[str, Point] = field(default_factory=dict)
    routes: dict[tuple[str, str], list[Point]] = field(default_factory=dict)
    layers: dict[str, int] = field(default_factory=dict)
    crossings: int = 0


def layers_by_longest_path(nodes: list[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Layer index per node: 1 + the deepest parent. Nodes on a cycle get the layer they reach."""
    parents, children = _adjacency(nodes, edges)
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


def _adjacency(nodes: list[str], edges: Iterable[tuple[str, str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in dict.fromkeys(edges):
        if source in parents and target in parents and source != target:
            parents[target].append(source)
            children[source].append(target)
    return parents, children


class _Items:
    """Real nodes 0..n-1 and dummy points n.., with their layer and links to the next layer."""

    def __init__(self, nodes: list[str], layer: dict[str, int]):
        self.names = list(nodes)
        self.real = len(nodes)
        self.layer = [layer[n] for n in nodes]
        self.up: list[list[int]] = [[] for _ in nodes]
        self.down: list[list[int]] = [[] for _ in nodes]

    def add_dummy(self, layer: int) -> int:
        self.layer.append(layer)
        self.up.append([])
        self.down.append([])
        return len(self.layer) - 1

    def link(self, upper: int, lower: int) -> None:
        self.down[upper].append(lower)
        self.up[lower].append(upper)

    def is_dummy(self, item: int) -> bool:
        return item >= self.real


def sugiyama(
    nodes: list[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    origin: Point = (0.0, 0.0),
) -> Layout:
    """Positions and long-edge routes; `sizes` gives (width, height), default NODE_WIDTH×NODE_HEIGHT."""
    nodes = list(dict.fromkeys(nodes))
    parents, children = _adjacency(nodes, edges)
    layer = layers_by_longest_path(nodes, [(s, t) for t in nodes for s in parents[t]])
    items = _Items(nodes, layer)
    index = {name: i for i, name in enumerate(nodes)}
    chains: dict[tuple[str, str], list[int]] = {}
    for target in nodes:
        for source in parents[target]:
            start, end = layer[source], layer[target]
            if end <= start:
                continue  # on a cycle (an invalid graph): drawn directly, not routed
            previous, chain = index[source], []
            for row in range(start + 1, end):
                dummy = items.add_dummy(row)
                items.link(previous, dummy)
                chain.append(dummy)
                previous = dummy
            items.link(previous, index[target])
            chains[(source, target)] = chain

    def size(item: int) -> tuple[float, float]:
        if items.is_dummy(item):
            return LANE_WIDTH, 0.0
        name = items.names[item]
        return sizes.get(name, (NODE_WIDTH, NODE_HEIGHT)) if sizes else (NODE_WIDTH, NODE_HEIGHT)

    rows = _first_order(items)
    rows, crossings = _minimise_crossings(items, rows)
    xs = _assign_x(items, rows, [size(i)[0] for i in range(len(items.layer))])

    layout = Layout(layers=layer, crossings=crossings)
    ox, oy = origin
    left = min((xs[i] - size(i)[0] / 2 for i in range(items.real)), default=0.0)
    shift = ox - left
    tops: list[float] = []
    bottoms: list[float] = []
    y = oy
    for row in rows:
        height = max((size(i)[1] for i in row if not items.is_dummy(i)), default=NODE_HEIGHT)
        tops.append(y)
        bottoms.append(y + height)
        y += height + GAP_Y
    for i, name in enumerate(nodes):
        width, _ = size(i)
        layout.positions[name] = (xs[i] + shift - width / 2, tops[items.layer[i]])
    for pair, chain in chains.items():
        points: list[Point] = []
        for dummy in chain:
            x = xs[dummy] + shift
            points += [(x, tops[items.layer[dummy]]), (x, bottoms[items.layer[dummy]])]
        layout.routes[pair] = points
    return layout


def _first_order(items: _Items) -> list[list[int]]:
    """Depth-first order from the sources: branches in the order the builder added them
    (Inception reads 1×1, 3×3, 5×5, pool), lanes of long edges after the cards."""
    count = len(items.layer)
    depth = max(items.layer, default=-1) + 1
    rows: list[list[int]] = [[] for _ in range(depth)]
    seen = [False] * count
    for source in range(items.real):
        if items.up[source] or seen[source]:
            continue
        stack = [source]
        while stack:
            item = stack.pop()
            if seen[item]:
                continue
            seen[item] = True
            rows[items.layer[item]].append(item)
            nexts = sorted(items.down[item], key=lambda c: (items.is_dummy(c), c))
            stack.extend(reversed(nexts))
    for item in range(count):  # anything on a cycle
        if not seen[item]:
            rows[items.layer[item]].append(item)
    return rows


def count_crossings(items_up: list[list[int]], rows: list[list[int]]) -> int:
    """Edge crossings between consecutive rows, for an order given as rows of item ids."""
    position: dict[int, int] = {}
    for row in rows:
        for i, item in enumerate(row):
            position[item] = i
    total = 0
    for row in rows[1:]:
        pairs = sorted((position[u], position[v]) for v in row for u in items_up[v])
        for i, (_, lower_i) in enumerate(pairs):
            for _, lower_j in pairs[i + 1:]:
                if lower_j < lower_i:
                    total += 1
    return total


def _minimise_crossings(items: _Items, rows: list[list[int]]) -> tuple[list[list[int]], int]:
    best = [list(r) for r in rows]
    best_count = count_crossings(items.up, best)
    position = {item: i for row in rows for i, item in enumerate(row)}
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        downward = sweep % 2 == 0
        sequence = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for r in sequence:
            keyed = []
            for item in rows[r]:
                neighbours = items.up[item] if downward else items.down[item]
                key = sum(position[n] for n in neighbours) / len(neighbours) if neighbours else position[item]
                keyed.append((key, position[item], item))
            keyed.sort()
            rows[r] = [item for _, _, item in keyed]
            for i, item in enumerate(rows[r]):
                position[item] = i
        found = count_crossings(items.up, rows)
        if found < best_count:
            best, best_count = [list(r) for r in rows], found
    return best, best_count


def _assign_x(items: _Items, rows: list[list[int]], widths: list[float]) -> list[float]:
    """Centre x per item: aligned chains are straight; left and right packings averaged."""
    count = len(items.layer)
    position = [0] * count
    for row in rows:
        for i, item in enumerate(row):
            position[item] = i
    # The longest chains of real layers through each edge decide which edges stay straight.
    depth = [0] * count
    height = [0] * count
    for row in rows:
        for item in row:
            above = max((depth[u] for u in items.up[item]), default=0)
            depth[item] = above + (0 if items.is_dummy(item) else 1)
    for row in reversed(rows):
        for item in row:
            below = max((height[c] for c in items.down[item]), default=0)
            height[item] = below + (0 if items.is_dummy(item) else 1)

    root = list(range(count))
    aligned_down = [False] * count
    for row in rows[1:]:
        candidates = []
        for lower in row:
            uppers = sorted(items.up[lower], key=position.__getitem__)
            for rank, upper in enumerate(uppers):
                siblings = sorted(items.down[upper], key=position.__getitem__)
                off_median = abs(rank - (len(uppers) - 1) / 2) + abs(siblings.index(lower) - (len(siblings) - 1) / 2)
                dummies = items.is_dummy(upper) + items.is_dummy(lower)
                kind = 0 if dummies == 2 else (1 if dummies == 0 else 2)
                if kind == 1 and root[upper] == upper and any(items.is_dummy(u) for u in uppers):
                    # A card that starts here gives way to a lane ending here: the long chain
                    # stays one straight line (DPN's dense path) instead of stepping sideways.
                    kind = 3
                candidates.append((kind, -(depth[upper] + height[lower]), off_median, position[lower], upper, lower))
        candidates.sort()
        accepted: list[tuple[int, int]] = []
        aligned_up: set[int] = set()
        for *_, upper, lower in candidates:
            if aligned_down[upper] or lower in aligned_up:
                continue
            pu, pl = position[upper], position[lower]
            if any((pu - qu) * (pl - ql) < 0 for qu, ql in accepted):
                continue  # would cross a straighter edge
            accepted.append((pu, pl))
            aligned_down[upper] = True
            aligned_up.add(lower)
            root[lower] = root[upper]

    def separation(a: int, b: int) -> float:
        gap = LANE_GAP if items.is_dummy(a) or items.is_dummy(b) else GAP_X
        return (widths[a] + widths[b]) / 2 + gap

    # Constraint graph between chains: left neighbour's chain -> right neighbour's chain.
    after: dict[int, dict[int, float]] = {}
    for row in rows:
        for a, b in zip(row, row[1:], strict=False):
            ra, rb = root[a], root[b]
            if ra == rb:
                continue
            known = after.setdefault(ra, {})
            known[rb] = max(known.get(rb, 0.0), separation(a, b))
    chains = sorted(set(root))
    incoming = dict.fromkeys(chains, 0)
    for targets in after.values():
        for rb in targets:
            incoming[rb] += 1
    order = [c for c in chains if incoming[c] == 0]
    i = 0
    while i < len(order):
        for rb in after.get(order[i], {}):
            incoming[rb] -= 1
            if incoming[rb] == 0:
                order.append(rb)
        i += 1
    if len(order) < len(chains):  # cannot happen for non-crossing alignments; pack rows instead
        return _packed_rows(rows, widths, separation)
    left = dict.fromkeys(chains, 0.0)
    for ra in order:
        for rb, gap in after.get(ra, {}).items():
            left[rb] = max(left[rb], left[ra] + gap)
    right = dict.fromkeys(chains, 0.0)
    for ra in reversed(order):
        for rb, gap in after.get(ra, {}).items():
            right[ra] = min(right[ra], right[rb] - gap)
    # Brandes-Köpf balancing: align both packings to the narrower one (the left packing by
    # its left edge, the right one by its right edge), then take the average.
    left_width = max(left.values()) - min(left.values())
    right_width = max(right.values()) - min(right.values())
    if left_width <= right_width:
        shift_left, shift_right = 0.0, max(left.values()) - max(right.values())
    else:
        shift_left, shift_right = min(right.values()) - min(left.values()), 0.0
    return [(left[root[i]] + shift_left + right[root[i]] + shift_right) / 2 for i in range(count)]


def _packed_rows(rows: list[list[int]], widths: list[float], separation) -> list[float]:
    xs = [0.0] * len(widths)
    for row in rows:
        for a, b in zip(row, row[1:], strict=False):
            xs[b] = xs[a] + separation(a, b)
    return xs


def layered_layout(
    nodes: list[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    origin: Point = (0.0, 0.0),
) -> dict[str, Point]:
    """Top-left position per node (the routes of long edges: `sugiyama`)."""
    return sugiyama(nodes, edges, sizes, origin).positions


def graph_edges(graph: Graph) -> list[tuple[str, str]]:
    return [(source, node.name) for node in graph for source in node.inputs if source in graph]


def layout_graph(graph: Graph, sizes: Mapping[str, tuple[float, float]] | None = None) -> dict[str, Point]:
    """Positions for every node of a graph."""
    return layered_layout(graph.names, graph_edges(graph), sizes)


def edge_polyline(layout: Layout, source: str, target: str,
                  sizes: Mapping[str, tuple[float, float]] | None = None) -> list[Point]:
    """The drawn edge as points: the source's bottom port, the bend points, the target's top port."""
    def port(name: str, bottom: bool) -> Point:
        x, y = layout.positions[name]
        width, height = sizes.get(name, (NODE_WIDTH, NODE_HEIGHT)) if sizes else (NODE_WIDTH, NODE_HEIGHT)
        return (x + width / 2, y + (height if bottom else 0.0))

    return [port(source, True), *layout.routes.get((source, target), []), port(target, False)]
