"""One small class per mouse gesture, so the scene's mouse handlers stay thin.

A gesture turns what the hand did into a command from cnnstudio.graph.commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from cnnstudio.graph import commands as cmd
from cnnstudio.gui import theme

if TYPE_CHECKING:
    from cnnstudio.gui.editor.items import CardItem
    from cnnstudio.gui.editor.scene import EditorScene


class Gesture:
    def __init__(self, scene: EditorScene):
        self.scene = scene

    def finish(self, point: QPointF) -> None:
        """Called on mouse release."""


class MoveGesture(Gesture):
    """Dragging cards: one MoveNodes command when the mouse is released."""

    def __init__(self, scene: EditorScene):
        super().__init__(scene)
        self.start = {key: card.pos() for key, card in scene.cards.items()}

    def finish(self, point: QPointF) -> None:
        from cnnstudio.gui.editor.scene import BLOCK_PREFIX

        moves: dict[str, tuple[float, float] | None] = {}
        for key, card in self.scene.cards.items():
            before = self.start.get(key)
            if before is None or (card.pos() - before).manhattanLength() < 0.5:
                continue
            point_xy = (round(card.pos().x(), 1), round(card.pos().y(), 1))
            if key.startswith(BLOCK_PREFIX):
                for name in self.scene.graph.members(key[len(BLOCK_PREFIX):]):
                    moves[name] = point_xy
            else:
                moves[key] = point_xy
        if moves:
            self.scene.push(cmd.MoveNodes(moves, label=f"Move {len(moves)} node{'s' if len(moves) > 1 else ''}"))


class NewLinkGesture(Gesture):
    """Drag from an output port to another card: connect the two layers."""

    def __init__(self, scene: EditorScene, source: CardItem, point: QPointF):
        super().__init__(scene)
        self.source = source
        self.origin = source.out_port.scenePos()
        self.line = QGraphicsPathItem()
        pen = QPen(theme.ACCENT, 1.6)
        pen.setDashPattern([4, 3])
        self.line.setPen(pen)
        self.line.setZValue(5)
        scene.addItem(self.line)
        self.move(point)

    def move(self, point: QPointF) -> None:
        path = QPainterPath(self.origin)
        bend = max(30.0, abs(point.y() - self.origin.y()) * 0.45)
        path.cubicTo(QPointF(self.origin.x(), self.origin.y() + bend), QPointF(point.x(), point.y() - bend), point)
        self.line.setPath(path)

    def finish(self, point: QPointF) -> None:
        from cnnstudio.gui.editor.scene import BLOCK_PREFIX

        self.scene.removeItem(self.line)
        target = self.scene.card_at(point)
        if target is None or target is self.source:
            return
        if BLOCK_PREFIX in (self.source.key[: len(BLOCK_PREFIX)], target.key[: len(BLOCK_PREFIX)]):
            self.scene.problem.emit("Expand the block first to connect a layer inside it.")
            return
        graph = self.scene.graph
        source = self.source.key
        before = list(graph[target.key].inputs)
        if self.scene.run(lambda: cmd.connect(graph, source, target.key)):
            replaced = [name for name in before if name not in graph[target.key].inputs]
            if replaced:  # a single-input layer swaps its source: say so, it is easy to miss
                kind = graph[target.key].type
                self.scene.problem.emit(f"{kind} '{target.key}' takes one input: '{source}' replaced "
                                        f"'{replaced[0]}' (Ctrl+Z brings it back).")
