"""The editor scene: mirrors a Graph (via its change events) and its latest Analysis.

The scene never edits the graph by itself; gestures build commands from
cnnstudio.graph.commands and hand them to `push` (the editor's undo stack). Collapsed
groups are view state: their members are hidden behind one BlockItem.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
)

from cnnstudio.errors import StudioError
from cnnstudio.graph import commands as cmd
from cnnstudio.graph.analysis import Analysis, analyze
from cnnstudio.graph.layout import Layout, sugiyama
from cnnstudio.graph.model import Graph, GraphChange
from cnnstudio.gui import theme
from cnnstudio.gui.editor import deletion, groups
from cnnstudio.gui.editor.card_text import block_text, edge_label, node_text
from cnnstudio.gui.editor.gestures import Gesture, MoveGesture, NewLinkGesture
from cnnstudio.gui.editor.items import (
    BLOCK_SIZE,
    NODE_SIZE,
    BlockItem,
    CardItem,
    EdgeItem,
    NodeItem,
    Port,
)
from cnnstudio.gui.editor.menus import context_menu

BLOCK_PREFIX = "block:"
BIG_GRAPH = 80  # above this many layers a fresh graph opens with its stages collapsed
STRUCTURAL = {"add", "remove", "inputs", "group", "rename", "reset", "outputs"}


def opening_collapse(graph: Graph) -> set[str]:
    """What a graph opens collapsed: a big one shows its stages (or its blocks, when it has
    only a few stages), so the first view is built from a dozen cards, not hundreds."""
    all_groups = graph.groups()
    if len(graph) <= BIG_GRAPH or not all_groups:
        return set()
    depth = 2 if len([g for g in all_groups if "/" not in g]) < 4 else 1
    return {g for g in all_groups if g.count("/") == depth - 1}


class EditorScene(QGraphicsScene):
    analysed = Signal(object)  # Analysis, after every refresh
    problem = Signal(str)  # for the status line: a refused gesture, a replaced input, a hint

    def __init__(self, graph: Graph, push: Callable[[cmd.Command], None], parent=None):
        super().__init__(parent)
        self.graph = graph
        self.push = push
        self.analysis: Analysis = analyze(graph)
        self.last_valid: Analysis | None = self.analysis if self.analysis.valid else None
        self.layout: Layout | None = None  # the last automatic layout of the visible cards
        self.collapsed: set[str] = opening_collapse(graph)
        self.cards: dict[str, CardItem] = {}
        self.edges: list[EdgeItem] = []
        self._title_prefixes: dict[str, str] = {}
        self.gesture: Gesture | None = None
        self._structure_dirty = True
        self._analysis_dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        graph.subscribe(self._on_change)
        self.selectionChanged.connect(self._edge_hint)
        self.rebuild()

    # ---- graph events -----------------------------------------------------------------
    def detach(self) -> None:
        self.graph.unsubscribe(self._on_change)
        self._timer.stop()

    def _on_change(self, change: GraphChange) -> None:
        if change.kind == "position":
            for name in change.names:
                card = self.cards.get(name)
                position = self.graph[name].position if name in self.graph else None
                if card is not None and position is not None:
                    card.setPos(QPointF(*position))
            return
        if change.kind in STRUCTURAL:
            self._structure_dirty = True
        self._analysis_dirty = True
        self._timer.start()

    def flush(self) -> None:
        """Apply pending changes now: structure, then analysis and card texts."""
        self._timer.stop()
        if self._structure_dirty:
            self.rebuild()
        elif self._analysis_dirty:
            self.refresh_analysis()

    # ---- visibility ---------------------------------------------------------------------
    def representative(self, name: str) -> str:
        """The card showing node `name`: itself, or its outermost collapsed group."""
        group = self.graph[name].group
        if group and self.collapsed:
            parts = group.split("/")
            for i in range(1, len(parts) + 1):
                path = "/".join(parts[:i])
                if path in self.collapsed:
                    return BLOCK_PREFIX + path
        return name

    def visible_edges(self) -> list[tuple[str, str]]:
        pairs: dict[tuple[str, str], None] = {}
        for node in self.graph:
            target = self.representative(node.name)
            for source in node.inputs:
                if source in self.graph:
                    start = self.representative(source)
                    if start != target:
                        pairs[(start, target)] = None
        return list(pairs)

    def visible_keys(self) -> list[str]:
        return list(dict.fromkeys(self.representative(n) for n in self.graph.names))

    # ---- building -----------------------------------------------------------------------
    def rebuild(self, relayout: bool | None = None, analyse: bool = True) -> None:
        """Re-create cards and edges to match the graph (structure changed).

        A graph still showing its automatic layout is laid out again (new rows, routes of
        long edges); a hand-arranged one keeps its places and is offered a new layout.
        `relayout` True/False forces the choice; `analyse` False reuses the last analysis
        (collapsing is a view change).
        """
        self._structure_dirty = False
        self.collapsed = {g for g in self.collapsed if self.graph.members(g)}
        keys = self.visible_keys()
        wanted = set(keys)
        was_automatic = self.at_layout()
        old_pairs = {edge.pair for edge in self.edges}
        selected = {k for k, c in self.cards.items() if c.isSelected()}
        selected_edges = {edge.pair for edge in self.edges if edge.isSelected()}
        for edge in self.edges:
            edge.detach()
            self.removeItem(edge)
        self.edges = []
        for key in list(self.cards):
            if key not in wanted:
                self.removeItem(self.cards.pop(key))
        unplaced = []
        new_placed: list[str] = []
        for key in keys:
            card = self.cards.get(key)
            if card is None:
                card = BlockItem(key) if key.startswith(BLOCK_PREFIX) else NodeItem(key)
                self.cards[key] = card
                self.addItem(card)
                position = self._stored_position(key)
                if position is None:
                    unplaced.append(key)
                else:
                    card.setPos(QPointF(*position))
                    new_placed.append(key)
            card.setSelected(key in selected)
        for source, target in self.visible_edges():
            edge = EdgeItem(self.cards[source], self.cards[target])
            self.addItem(edge)
            self.edges.append(edge)
            edge.setSelected(edge.pair in selected_edges)
        self._title_prefixes = self._group_prefixes()
        placed = len(self.cards) - len(unplaced)
        if relayout is None:
            # A free layer dropped at a point stays there; anything else follows the layout.
            linked = {key for edge in self.edges for key in edge.pair}
            dropped = bool(old_pairs) and any(key not in linked for key in new_placed)
            relayout = bool(unplaced and (placed == 0 or len(unplaced) > 3)) or (was_automatic and not dropped)
        if relayout:
            self.auto_layout(record=False)
        else:
            if unplaced:
                self._place(unplaced)
            self.layout = self.compute_layout()
            self._apply_routes()
            if old_pairs and set(old_pairs) != {edge.pair for edge in self.edges} and not self.at_layout():
                self.problem.emit("The connections changed. Layout (Ctrl+L) arranges the graph again and "
                                  "routes long edges beside the cards.")
        self.fit_scene_rect()
        if analyse:
            self.refresh_analysis()
        else:
            self._show_analysis()

    def at_layout(self) -> bool:
        """True when every card sits where the last automatic layout put it."""
        if self.layout is None or not self.cards:
            return False
        positions = self.layout.positions
        for key, card in self.cards.items():
            point = positions.get(key)
            if point is not None and abs(card.x() - point[0]) + abs(card.y() - point[1]) > 1:
                return False
        return True

    def fit_scene_rect(self) -> None:
        """Keep the scrollable area around the cards (the default only ever grows)."""
        rect = self.itemsBoundingRect()
        self.setSceneRect(rect.adjusted(-400, -300, 400, 300))

    def _stored_position(self, key: str) -> tuple[float, float] | None:
        if key.startswith(BLOCK_PREFIX):
            members = [self.graph[m].position for m in self.graph.members(key[len(BLOCK_PREFIX):])]
            known = [p for p in members if p is not None]
            if not known:
                return None
            return min(p[0] for p in known), min(p[1] for p in known)
        return self.graph[key].position

    def _place(self, keys: list[str]) -> None:
        """Put new cards under their first placed parent, or lay everything out."""
        placed = len(self.cards) - len(keys)
        if placed == 0 or len(keys) > 3:
            self.auto_layout(record=False)
            return
        parents = {t: s for s, t in reversed(self.visible_edges())}
        for key in keys:
            parent = self.cards.get(parents.get(key, ""))
            if parent is not None and parent.key not in keys:
                pos = parent.pos() + QPointF(0, NODE_SIZE[1] + 44)
            else:
                rect = self.itemsBoundingRect()
                pos = QPointF(rect.left(), rect.bottom() + 40)
            self.cards[key].setPos(pos)
            self._store(key, pos)

    def _store(self, key: str, pos: QPointF) -> None:
        """Record a card position in the graph without an undo step (placement, not an edit)."""
        point = (round(pos.x(), 1), round(pos.y(), 1))
        names = self.graph.members(key[len(BLOCK_PREFIX):]) if key.startswith(BLOCK_PREFIX) else [key]
        for name in names:
            self.graph[name].position = point  # silent: the card is already there

    def compute_layout(self) -> Layout:
        keys = self.visible_keys()
        sizes = {k: BLOCK_SIZE if k.startswith(BLOCK_PREFIX) else NODE_SIZE for k in keys}
        return sugiyama(keys, self.visible_edges(), sizes)

    def layout_positions(self) -> dict[str, tuple[float, float]]:
        return self.compute_layout().positions

    def _apply_routes(self) -> None:
        """Give each edge its lane from the layout (used while its cards stay in place)."""
        if self.layout is None:
            return
        positions, routes = self.layout.positions, self.layout.routes
        for edge in self.edges:
            source, target = edge.pair
            if source in positions and target in positions:
                edge.set_route([QPointF(*p) for p in routes.get(edge.pair, [])],
                               QPointF(*positions[source]), QPointF(*positions[target]))

    def auto_layout(self, record: bool = True) -> None:
        """Lay the visible cards out top to bottom; `record` makes it one undo step."""
        self.layout = self.compute_layout()
        positions = self.layout.positions
        if record:
            moves: dict[str, tuple[float, float] | None] = {}
            for key, point in positions.items():
                names = self.graph.members(key[len(BLOCK_PREFIX):]) if key.startswith(BLOCK_PREFIX) else [key]
                for name in names:
                    moves[name] = point
            self.push(cmd.MoveNodes(moves, label="Auto layout"))
        for key, point in positions.items():
            card = self.cards[key]
            edges, card.edges = card.edges, []  # each edge is redrawn once, by _apply_routes
            card.setPos(QPointF(*point))
            card.edges = edges
            self._store(key, QPointF(*point))
        self._apply_routes()
        self.fit_scene_rect()

    # ---- analysis -----------------------------------------------------------------------
    def refresh_analysis(self) -> None:
        self._analysis_dirty = False
        self.analysis = analyze(self.graph)
        if self.analysis.valid:
            self.last_valid = self.analysis  # totals stay truthful while the graph is broken
        self._show_analysis()
        self.analysed.emit(self.analysis)

    def _show_analysis(self) -> None:
        """Card texts and edge labels from the current analysis."""
        diagnostics: dict[str | None, list] = {}
        for diagnostic in self.analysis.diagnostics:
            diagnostics.setdefault(diagnostic.node, []).append(diagnostic)
        for key, card in self.cards.items():
            if key.startswith(BLOCK_PREFIX):
                card.set_text(block_text(self.graph, self.analysis, key[len(BLOCK_PREFIX):], diagnostics))
            else:
                card.set_text(node_text(self.graph, self.analysis, key, diagnostics.get(key, []),
                                        self.card_title(key)))
        for edge in self.edges:
            source = edge.source.key
            group = source[len(BLOCK_PREFIX):] if source.startswith(BLOCK_PREFIX) else None
            edge.set_label(*edge_label(self.graph, self.analysis, source, group))

    # ---- titles -----------------------------------------------------------------------------
    def _group_prefixes(self) -> dict[str, str]:
        return groups.title_prefixes(self.graph)

    def card_title(self, name: str) -> str:
        """A layer card's title: its name without its block's shared prefix (full name in the tooltip)."""
        return groups.short_title(name, self.graph[name].group, self._title_prefixes)

    # ---- collapse / expand ----------------------------------------------------------------
    def set_collapsed(self, collapsed: set[str], relayout: bool = True) -> None:
        self.collapsed = {g for g in collapsed if self.graph.members(g)}
        for key in list(self.cards):  # cards change kind, re-create them all
            self.removeItem(self.cards.pop(key))
        self.rebuild(relayout=True if relayout else None, analyse=False)

    def collapse(self, group: str) -> None:
        self.set_collapsed(self.collapsed | {group})

    def expand(self, group: str) -> None:
        # Expanding a stage shows its blocks collapsed, so a big network opens level by level.
        self.set_collapsed(groups.expanded(self.collapsed, group, self.graph.groups()))

    def collapse_level(self, depth: int) -> None:
        """Collapse every group at path depth `depth` (1 = stages) — the zoo/import default."""
        self.set_collapsed({g for g in self.graph.groups() if g.count("/") == depth - 1})

    def collapse_around(self, keys: list[str]) -> str | None:
        """Close the block around a selection: a layer's own block, or a block's parent (a stage)."""
        group = groups.enclosing_to_collapse(self.graph, keys, BLOCK_PREFIX)
        if group is not None:
            self.set_collapsed(self.collapsed | {group})
            self.cards[BLOCK_PREFIX + group].setSelected(True)
        return group

    def reveal(self, names: list[str]) -> None:
        """Show these layers as their own cards (opening only the blocks around them) and select them."""
        names = [n for n in names if n in self.graph]
        wanted = groups.revealing(self.collapsed, {self.graph[n].group for n in names}, self.graph.groups())
        if wanted != self.collapsed:
            self.set_collapsed(wanted)
        self.select(names)

    # ---- selection ------------------------------------------------------------------------
    def selected_keys(self) -> list[str]:
        return [k for k, c in self.cards.items() if c.isSelected()]

    def selected_names(self) -> list[str]:
        """Selected node names, with collapsed blocks expanded to their members."""
        names: list[str] = []
        for key in self.selected_keys():
            if key.startswith(BLOCK_PREFIX):
                names += self.graph.members(key[len(BLOCK_PREFIX):])
            else:
                names.append(key)
        return names

    def select(self, names: list[str]) -> None:
        keys = {self.representative(n) for n in names if n in self.graph}
        self.blockSignals(True)
        self.clearSelection()
        self.blockSignals(False)
        for key in keys:
            self.cards[key].setSelected(True)

    # ---- edges -----------------------------------------------------------------------------
    def selected_edges(self) -> list[EdgeItem]:
        return [edge for edge in self.edges if edge.isSelected()]

    def links_behind(self, pair: tuple[str, str]) -> list[tuple[str, str]]:
        """The graph's (source, target) links an edge stands for (several when it joins blocks)."""
        return deletion.links_behind(self.graph, self.representative, pair)

    def _edge_hint(self) -> None:
        """A selected connection says what it is and how to remove it (status line)."""
        edges = self.selected_edges()
        if len(edges) == 1 and not self.selected_keys():
            source, target = (key.removeprefix(BLOCK_PREFIX) for key in edges[0].pair)
            shape = f" ({edges[0].label})" if edges[0].label else ""
            self.problem.emit(f"Connection '{source}' → '{target}'{shape}: Delete removes it.")

    def delete_selection(self) -> bool:
        """Delete the selected cards and edges; False when nothing was selected."""
        links = [link for edge in self.selected_edges() for link in self.links_behind(edge.pair)]
        command = deletion.delete_command(self.graph, self.selected_names(), links)
        return command is not None and self.run(lambda: command)

    # ---- gestures -------------------------------------------------------------------------
    def card_at(self, point: QPointF) -> CardItem | None:
        for item in self.items(point):
            if isinstance(item, CardItem):
                return item
            if isinstance(item, Port):
                return item.card
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.itemAt(event.scenePos(), self.views()[0].transform()) if self.views() else None
            if isinstance(item, Port) and item.direction == "out":
                self.gesture = NewLinkGesture(self, item.card, event.scenePos())
                event.accept()
                return
            if isinstance(item, (CardItem, Port)):  # a press on an input port drags its card
                self.gesture = MoveGesture(self)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if isinstance(self.gesture, NewLinkGesture):
            self.gesture.move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        gesture, self.gesture = self.gesture, None
        if isinstance(gesture, NewLinkGesture):
            gesture.finish(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if gesture is not None:
            gesture.finish(event.scenePos())

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:  # noqa: N802
        view = self.views()[0] if self.views() else None
        item = self.itemAt(event.scenePos(), view.transform()) if view is not None else None
        menu = context_menu(self, item)
        if menu is None:
            super().contextMenuEvent(event)
            return
        menu.exec(event.screenPos())
        event.accept()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        card = self.card_at(event.scenePos())
        if card is not None and card.key.startswith(BLOCK_PREFIX):
            self.expand(card.key[len(BLOCK_PREFIX):])
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def run(self, make: Callable[[], cmd.Command]) -> bool:
        """Build and push a command; a refused edit becomes a status message, not a traceback."""
        try:
            self.push(make())
        except StudioError as exc:
            self.problem.emit(str(exc))
            return False
        return True

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        colours = theme.colours()
        painter.fillRect(rect, colours.canvas)
        scale = painter.worldTransform().m11()
        if scale < 0.45:
            return  # a dense grid at low zoom is noise and costs paint time
        step = 24
        painter.setPen(QPen(colours.grid, 1.0))
        left = int(rect.left()) - int(rect.left()) % step
        top = int(rect.top()) - int(rect.top()) % step
        lines = []
        from PySide6.QtCore import QLineF

        x = left
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)
