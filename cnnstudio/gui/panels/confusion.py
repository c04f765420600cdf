"""Confusion-matrix heat map (counts in the cells, class names on the axes) and per-class bars."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnstudio.gui import theme


def _blend(low: QColor, high: QColor, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor(int(low.red() + (high.red() - low.red()) * t), int(low.green() + (high.green() - low.green()) * t),
                  int(low.blue() + (high.blue() - low.blue()) * t))


class ConfusionMatrix(QWidget):
    """Rows = true class, columns = predicted. Click a cell: `cell_clicked(true, predicted)`."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix: list[list[int]] = []
        self.classes: list[str] = []
        self.setMouseTracking(True)
        self.setMinimumSize(220, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Rows: true class. Columns: predicted class. Click a cell to see those validation images.")

    def set_matrix(self, matrix: list[list[int]] | None, classes: list[str]) -> None:
        self.matrix = [list(map(int, row)) for row in matrix or []]
        self.classes = list(classes)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, 300)

    def _geometry(self) -> tuple[float, float, float]:
        metrics = QFontMetrics(self.font())
        names = self.classes or [""]
        margin = min(max(max(metrics.horizontalAdvance(n) for n in names) + 14, 84), 140)
        n = max(len(self.matrix), 1)
        cell = max(4.0, min((self.width() - margin - 8) / n, (self.height() - margin - 8) / n))
        return margin, margin, cell

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        left, top, cell = self._geometry()
        n = len(self.matrix)
        row, col = int((y - top) // cell), int((x - left) // cell)
        if n and 0 <= row < n and 0 <= col < n and x >= left and y >= top:
            return row, col
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        hit = self.cell_at(event.position().x(), event.position().y())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colours = theme.colours()
        if not self.matrix:
            painter.setPen(colours.muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "The confusion matrix appears after "
                             "the first epoch\n(needs a validation split).")
            return
        left, top, cell = self._geometry()
        n = len(self.matrix)
        low = colours.card if not colours.dark else QColor("#262a31")
        high, wrong = QColor("#3d7eff"), QColor("#e0702f")
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(10.0, cell / 3.2)))
        small = QFontMetrics(font)
        for r, row in enumerate(self.matrix):
            total = sum(row) or 1
            for c, count in enumerate(row):
                rect = QRectF(left + c * cell, top + r * cell, cell - 1, cell - 1)
                share = count / total
                painter.fillRect(rect, _blend(low, high if r == c else wrong, share ** 0.6 if count else 0))
                if cell >= 16 and small.horizontalAdvance(str(count)) < cell - 2:
                    painter.setFont(font)
                    painter.setPen(QColor("#ffffff") if share > 0.45 else colours.text)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.setFont(self.font())
        painter.setPen(colours.text)
        metrics = QFontMetrics(self.font())
        for i, name in enumerate(self.classes[:n]):
            label = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(left) - 10)
            painter.drawText(QRectF(0, top + i * cell, left - 6, cell), Qt.AlignmentFlag.AlignRight |
                             Qt.AlignmentFlag.AlignVCenter, label)
            painter.save()
            painter.translate(left + i * cell + cell / 2, top - 6)
            painter.rotate(-90)
            painter.drawText(QRectF(0, -cell / 2, left - 12, cell), Qt.AlignmentFlag.AlignLeft |
                             Qt.AlignmentFlag.AlignVCenter, label)
            painter.restore()
        painter.setPen(colours.muted)
        painter.drawText(QRectF(2, 2, left - 8, top - 4), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                         "predicted →\ntrue ↓")


class ClassBars(QWidget):
    """Horizontal bars: one value in [0, 1] per class (per-class validation accuracy)."""

    def __init__(self, parent=None, probabilities: bool = False):
        super().__init__(parent)
        self.probabilities = probabilities  # one accent colour (top class darker), not good/bad colours
        self.values: list[float | None] = []
        self.classes: list[str] = []
        self.setMinimumHeight(120)

    def set_values(self, values: list[float | None] | None, classes: list[str]) -> None:
        self.values, self.classes = list(values or []), list(classes)
        self.setMinimumHeight(max(120, 22 * len(self.values) + 10))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        colours = theme.colours()
        if not self.values:
            painter.setPen(colours.muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Per-class accuracy appears after an epoch.")
            return
        metrics = QFontMetrics(self.font())
        label_width = min(max(metrics.horizontalAdvance(n) for n in self.classes) + 12, 160)
        row = min(22.0, (self.height() - 6) / len(self.values))
        bar_width = self.width() - label_width - 60
        for i, value in enumerate(self.values):
            y = 4 + i * row
            name = self.classes[i] if i < len(self.classes) else str(i)
            painter.setPen(colours.text)
            painter.drawText(QRectF(0, y, label_width - 8, row), Qt.AlignmentFlag.AlignRight |
                             Qt.AlignmentFlag.AlignVCenter, metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                                               label_width - 8))
            painter.fillRect(QRectF(label_width, y + 3, bar_width, row - 6), colours.grid)
            if value is not None:
                if self.probabilities:
                    colour = QColor("#3d7eff") if i == 0 else QColor("#9dbdff")
                else:
                    colour = (QColor("#2f9e5f") if value >= 0.8 else QColor("#c58a00") if value >= 0.5
                              else QColor("#d64541"))
                painter.fillRect(QRectF(label_width, y + 3, bar_width * value, row - 6), colour)
            painter.setPen(colours.muted)
            painter.drawText(QRectF(label_width + bar_width + 6, y, 54, row), Qt.AlignmentFlag.AlignVCenter,
                             "—" if value is None else f"{value:.0%}")
