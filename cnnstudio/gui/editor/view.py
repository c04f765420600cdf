"""The canvas view: wheel zoom, middle-button or space+drag pan, F to fit, drops from the palette."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from cnnstudio.gui.editor.palette import BLOCK_MIME, LAYER_MIME

MIN_SCALE, MAX_SCALE = 0.05, 3.0
FIT_MIN_SCALE = 0.5  # Fit stops here: card text (drawn from items.TEXT_LOD) stays readable


class EditorView(QGraphicsView):
    dropped = Signal(str, str, QPointF, str)  # kind ("layer"/"block"), name, scene point, card under it

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._space = False
        self._pan_from: QPointF | None = None

    # ---- zoom -----------------------------------------------------------------------------
    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if MIN_SCALE <= scale <= MAX_SCALE:
            self.scale(factor, factor)
            self.resetCachedContent()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        self.zoom(1.0015 ** event.angleDelta().y())

    def fit(self) -> None:
        """Everything in view, but never so small that cards lose their text: a tall graph
        fits its width (at least FIT_MIN_SCALE) and shows its top, the rest a scroll away."""
        rect = self.scene().itemsBoundingRect().adjusted(-40, -40, 40, 40)
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.transform().m11()
        if scale > 1.0:  # a small graph is shown at 100 %, not blown up
            self.resetTransform()
            self.centerOn(rect.center())
        elif scale < FIT_MIN_SCALE:
            width_scale = min(1.0, max(FIT_MIN_SCALE, self.viewport().width() / rect.width()))
            self.resetTransform()
            self.scale(width_scale, width_scale)
            visible = self.mapToScene(self.viewport().rect()).boundingRect()
            self.centerOn(rect.center().x(), rect.top() + visible.height() / 2)
        self.resetCachedContent()

    def show_start(self, readable: float = 0.8) -> None:
        """Opening view: everything if it stays readable, else the top of the graph at `readable`."""
        self.fit()
        if self.transform().m11() >= readable:
            return
        rect = self.scene().itemsBoundingRect()
        self.resetTransform()
        self.scale(readable, readable)
        visible_height = self.viewport().height() / readable
        self.centerOn(rect.center().x(), rect.top() - 30 + visible_height / 2)
        self.resetCachedContent()

    # ---- pan ------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            return
        if event.key() == Qt.Key.Key_F and not event.modifiers():
            self.fit()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ---- drops from the palette -------------------------------------------------------------
    def _accepts(self, event) -> bool:
        mime = event.mimeData()
        return mime.hasFormat(LAYER_MIME) or mime.hasFormat(BLOCK_MIME)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        point = self.mapToScene(event.position().toPoint())
        card = self.scene().card_at(point)
        key = card.key if card is not None else ""
        if mime.hasFormat(LAYER_MIME):
            name = bytes(mime.data(LAYER_MIME).data()).decode()
            self.dropped.emit("layer", name, point, key)
        elif mime.hasFormat(BLOCK_MIME):
            name = bytes(mime.data(BLOCK_MIME).data()).decode()
            self.dropped.emit("block", name, point, key)
        else:
            event.ignore()
            return
        event.acceptProposedAction()
