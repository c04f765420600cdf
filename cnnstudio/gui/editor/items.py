"""Canvas items: layer cards, collapsed-block cards, ports and shape-labelled edges.

Items only draw text prepared by the scene from the last analysis (nothing is computed in
paint), and cache their rendering, so a 700-node graph pans and zooms smoothly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from cnnstudio.gui import theme

NODE_SIZE = (200.0, 76.0)
BLOCK_SIZE = (220.0, 96.0)
PORT_RADIUS = 6.0
TEXT_LOD = 0.35  # below this scale cards draw only their frame and colour, no text
LABEL_LOD = 0.4  # below this scale edges drop their shape labels


def elide_title(title: str, metrics: QFontMetrics, width: float) -> str:
    """Elide in the middle: a long name keeps its start and its distinguishing end."""
    return metrics.elidedText(title, Qt.TextElideMode.ElideMiddle, int(width))


@dataclass
class CardText:
    """What a card shows, prepared by the scene."""

    title: str = ""
    kind: str = ""  # layer type, or "block"
    category: str = ""
    summary: str = ""
    footer: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    frozen: bool = False
    repeats: int = 0


class Port(QGraphicsItem):
    """A connection point: 'in' on the top edge, 'out' on the bottom edge."""

    def __init__(self, parent: CardItem, direction: str):
        super().__init__(parent)
        self.card = parent
        self.direction = direction
        self.setAcceptHoverEvents(True)
        self.setToolTip("Drag to another layer to connect" if direction == "out" else "Input")
        self._hover = False

    def boundingRect(self) -> QRectF:
        r = PORT_RADIUS + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme.colours()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colours.edge, 1.5))
        painter.setBrush(theme.ACCENT if self._hover else colours.card)
        r = PORT_RADIUS + (1.5 if self._hover else 0)
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()


class CardItem(QGraphicsItem):
    """Base of layer and block cards: a rounded card with ports and a badge."""

    size = NODE_SIZE

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.text = CardText()
        self.edges: list[EdgeItem] = []
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        w, h = self.size
        self.in_port = Port(self, "in")
        self.in_port.setPos(w / 2, 0)
        self.out_port = Port(self, "out")
        self.out_port.setPos(w / 2, h)
        self.setZValue(1)

    def boundingRect(self) -> QRectF:
        w, h = self.size
        return QRectF(-4, -4, w + 8, h + 8)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        w, h = self.size
        path.addRoundedRect(QRectF(0, 0, w, h), 8, 8)
        return path

    def set_text(self, text: CardText) -> None:
        if text == self.text:
            return
        self.in_port.setVisible(text.kind != "Input")  # an Input takes nothing in
        self.text = text
        tips = [f"<b>{self.key.removeprefix('block:')}</b> — {text.kind}"]
        tips += [f"<span style='color:#d64541'>● {m}</span>" for m in text.errors]
        tips += [f"<span style='color:#c58a00'>● {m}</span>" for m in text.warnings]
        self.setToolTip("<br>".join(tips))
        self.update()

    def itemChange(self, change, value):  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(2 if value else 1)
        return super().itemChange(change, value)

    # ---- drawing ----------------------------------------------------------------------
    def _card_path(self) -> QPainterPath:
        w, h = self.size
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, w, h), 8, 8)
        return path

    def _draw_frame(self, painter: QPainter, fill: QColor, border: QColor, width: float) -> None:
        painter.setPen(QPen(border, width))
        painter.setBrush(fill)
        painter.drawPath(self._card_path())

    def _draw_badge(self, painter: QPainter) -> None:
        if not self.text.errors and not self.text.warnings:
            return
        colour = theme.ERROR if self.text.errors else theme.WARNING
        w, _ = self.size
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(w - 2, 2), 9, 9)
        painter.setPen(QColor("white"))
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.drawText(QRectF(w - 11, -7, 18, 18), Qt.AlignmentFlag.AlignCenter, "!")

    def _lod(self, option: QStyleOptionGraphicsItem, painter: QPainter) -> float:
        return option.levelOfDetailFromTransform(painter.worldTransform())


class NodeItem(CardItem):
    """One layer: category strip, name, key parameters, output shape and parameter count."""

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme.colours()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        border = theme.ACCENT if selected else colours.card_border
        if self.text.errors:
            border = theme.ERROR
        self._draw_frame(painter, colours.card, border, 2.2 if selected else 1.0)
        w, h = self.size
        strip = QPainterPath()
        strip.addRoundedRect(QRectF(0, 0, 7, h), 3.5, 3.5)
        painter.fillPath(strip, theme.category_colour(self.text.category))
        if self._lod(option, painter) < TEXT_LOD:  # far away: the card and its colour are enough
            self._draw_badge(painter)
            return
        base = QFont(painter.font())
        title = QFont(base)
        title.setBold(True)
        title.setPointSizeF(9.5)
        small = QFont(base)
        small.setPointSizeF(8)
        name_rect = QRectF(16, 6, w - 24, 20)
        # The name comes first; the layer type (also in the tooltip) takes what is left, or
        # moves to the empty summary line of a merge ("block12_concat" / "Concatenate").
        painter.setFont(small)
        kind_metrics = painter.fontMetrics()
        painter.setFont(title)
        metrics = painter.fontMetrics()
        room = name_rect.width()
        title_width = metrics.horizontalAdvance(self.text.title)
        kind, summary = self.text.kind, self.text.summary
        if title_width + 8 + kind_metrics.horizontalAdvance(kind) > room:
            if not summary:
                kind, summary = "", kind
            elif room - title_width - 8 < 30:
                kind = ""
        title_room = room - (kind_metrics.horizontalAdvance(kind) + 8 if kind else 0)
        painter.setPen(colours.text)
        painter.drawText(
            QRectF(name_rect.left(), name_rect.top(), title_room, name_rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            elide_title(self.text.title, metrics, title_room),
        )
        painter.setFont(small)
        painter.setPen(colours.muted)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         kind_metrics.elidedText(kind, Qt.TextElideMode.ElideRight, int(room - title_width - 8)))
        body = QFont(base)
        body.setPointSizeF(9)
        painter.setFont(body)
        painter.setPen(colours.text)
        summary = summary or " "
        painter.drawText(
            QRectF(16, 27, w - 24, 20),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(summary, Qt.TextElideMode.ElideRight, int(w - 24)),
        )
        painter.setFont(small)
        painter.setPen(colours.muted)
        footer = self.text.footer + ("  · frozen" if self.text.frozen else "")
        painter.drawText(QRectF(16, 49, w - 24, 18), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, footer)
        self._draw_badge(painter)


class BlockItem(CardItem):
    """A collapsed group: double border, repeats, input → output shape, params and MACs."""

    size = BLOCK_SIZE

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme.colours()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        border = theme.ACCENT if selected else theme.category_colour("Block")
        if self.text.errors:
            border = theme.ERROR
        w, h = self.size
        self._draw_frame(painter, colours.block, border, 2.0 if selected else 1.3)
        inner = QPainterPath()
        inner.addRoundedRect(QRectF(4, 4, w - 8, h - 8), 5, 5)
        painter.setPen(QPen(border, 0.9))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(inner)
        if self._lod(option, painter) < TEXT_LOD:
            self._draw_badge(painter)
            return
        base = QFont(painter.font())
        title = QFont(base)
        title.setBold(True)
        title.setPointSizeF(10)
        painter.setFont(title)
        painter.setPen(colours.text)
        painter.drawText(QRectF(14, 9, w - 28, 20), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         elide_title(self.text.title, painter.fontMetrics(), w - 70))
        if self.text.repeats > 1:
            painter.setPen(theme.ACCENT)
            painter.drawText(QRectF(14, 9, w - 28, 20), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"×{self.text.repeats}")
        body = QFont(base)
        body.setPointSizeF(9)
        painter.setFont(body)
        painter.setPen(colours.text)
        painter.drawText(QRectF(14, 32, w - 28, 20), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(self.text.summary, Qt.TextElideMode.ElideRight, int(w - 28)))
        small = QFont(base)
        small.setPointSizeF(8)
        painter.setFont(small)
        painter.setPen(colours.muted)
        painter.drawText(QRectF(14, 54, w - 28, 32), Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                         self.text.footer)
        self._draw_badge(painter)


class EdgeItem(QGraphicsPathItem):
    """A link labelled with the tensor shape it carries: a gentle curve between adjacent rows,
    or, when the layout routed it, a polyline through its own lane beside the cards."""

    def __init__(self, source: CardItem, target: CardItem):
        super().__init__()
        self.source = source
        self.target = target
        self.label = ""
        self._tooltip = ""
        self._shape: QPainterPath | None = None
        self.route: list[QPointF] = []
        self._anchors: tuple[QPointF, QPointF] | None = None
        self.setZValue(0)
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        source.edges.append(self)
        target.edges.append(self)
        self._hover = False
        self.update_path()

    @property
    def pair(self) -> tuple[str, str]:
        return self.source.key, self.target.key

    def detach(self) -> None:
        for card in (self.source, self.target):
            if self in card.edges:
                card.edges.remove(self)

    def set_label(self, label: str, tooltip: str) -> None:
        if label != self.label:
            self.label = label
            self.update()
        if tooltip != self._tooltip:  # every edit relabels every edge: skip what did not change
            self._tooltip = tooltip
            self.setToolTip(tooltip)

    def set_route(self, points: list[QPointF], source_at: QPointF, target_at: QPointF) -> None:
        """Bend points from the layout, valid while both cards stay where the layout put them."""
        self.route = points
        self._anchors = (source_at, target_at)
        self.update_path()

    def routed(self) -> bool:
        if not self.route or self._anchors is None:
            return False
        source_at, target_at = self._anchors
        return (self.source.pos() - source_at).manhattanLength() < 1 and (
            self.target.pos() - target_at).manhattanLength() < 1

    def update_path(self) -> None:
        start = self.source.out_port.scenePos()
        end = self.target.in_port.scenePos()
        path = QPainterPath(start)
        if self.routed():
            # Bends happen only in the band between rows: an S-curve out to the lane, straight
            # down the lane, an S-curve back in.
            points = [start, *self.route, end]
            for a, b in zip(points, points[1:], strict=False):
                if abs(a.x() - b.x()) < 0.5:
                    path.lineTo(b)
                else:
                    middle = (a.y() + b.y()) / 2
                    path.cubicTo(QPointF(a.x(), middle), QPointF(b.x(), middle), b)
        else:
            bend = max(30.0, abs(end.y() - start.y()) * 0.45)
            path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
        self.prepareGeometryChange()
        self._shape = None
        self.setPath(path)

    def label_point(self) -> QPointF:
        """Where the shape label sits: on the edge's own lane when routed, else its middle."""
        if self.routed():
            middle = (len(self.route) // 2 - 1) // 2  # the middle lane point: (top, bottom) per row
            top, bottom = self.route[2 * middle], self.route[2 * middle + 1]
            return QPointF(top.x(), (top.y() + bottom.y()) / 2)
        # Edges fanning into one port (a merge) or out of one are furthest apart near their
        # other end: the label goes there, so neighbouring labels do not pile up.
        fan_in = sum(1 for e in self.target.edges if e.target is self.target) > 1
        fan_out = sum(1 for e in self.source.edges if e.source is self.source) > 1
        return self.path().pointAtPercent(0.5 + 0.22 * (fan_out - fan_in))

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-60, -10, 60, 10)

    def shape(self) -> QPainterPath:
        if self._shape is None:  # hit-testing asks often; the stroke changes only with the path
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme.colours()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        colour = theme.ACCENT if self._hover or selected else colours.edge
        painter.setPen(QPen(colour, 2.6 if selected else (2.0 if self._hover else 1.4)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        end = self.path().currentPosition()  # the target port: cheaper than walking the path
        arrow = QPainterPath(end)
        arrow.lineTo(end + QPointF(-4.5, -8))
        arrow.lineTo(end + QPointF(4.5, -8))
        arrow.closeSubpath()
        painter.fillPath(arrow, QBrush(colour))
        if self.label and option.levelOfDetailFromTransform(painter.worldTransform()) > LABEL_LOD:
            mid = self.label_point()
            font = QFont(painter.font())
            font.setPointSizeF(7.5)
            painter.setFont(font)
            width = painter.fontMetrics().horizontalAdvance(self.label) + 10
            rect = QRectF(mid.x() - width / 2, mid.y() - 8, width, 16)
            painter.setPen(QPen(colour, 1.0) if selected else Qt.PenStyle.NoPen)
            painter.setBrush(colours.canvas)
            painter.drawRoundedRect(rect, 7, 7)
            painter.setPen(colours.muted)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()
