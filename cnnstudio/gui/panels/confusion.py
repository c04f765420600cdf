"""Confusion-matrix heat map (counts in the cells, class names on the axes) and per-class bars."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from cnnstudio.gui import theme


def _blend(low: QColor, high: QColor, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor(int(low.red() + (high.red() - low.red()) * t), int(low.green() + (high.green() - low.green()) * t),
                  int(low.blue() + (high.blue() - low.blue()) * t))


HIGHLIGHT = QColor("#f5c400")  # an outline that reads on both the blue and the orange cells


class ConfusionMatrix(QWidget):
    """Rows = true class, columns = predicted. Click a cell: `cell_clicked(true, predicted)`.

    `highlight_cells` outlines cells chosen elsewhere (the embedding map's selection), with how
    many of each cell's images are chosen; a new matrix clears the highlight.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix: list[list[int]] = []
        self.classes: list[str] = []
        self.highlighted: dict[tuple[int, int], int | None] = {}
        self.setMouseTracking(True)
        self.setMinimumSize(220, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Rows: true class. Columns: predicted class. Click a cell to see those validation images.")

    def set_matrix(self, matrix: list[list[int]] | None, classes: list[str]) -> None:
        self.matrix = [list(map(int, row)) for row in matrix or []]
        self.classes = list(classes)
        self.highlighted = {}
        self.update()

    def highlight_cells(self, cells: Mapping[tuple[int, int], int] | Iterable[tuple[int, int]]) -> None:
        """Outline these (true, predicted) cells; a mapping also gives how many of the cell's images
        are chosen (said in the cell's tooltip). Empty: no highlight. Cells outside the matrix are ignored."""
        n = len(self.matrix)
        counts = cells if isinstance(cells, Mapping) else dict.fromkeys(cells)
        self.highlighted = {(int(r), int(c)): (None if k is None else int(k)) for (r, c), k in counts.items()
                            if 0 <= int(r) < n and 0 <= int(c) < n}
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, 300)

    def _geometry(self) -> tuple[float, float, float, float]:
        """left, top, cell width, cell height: the labels take what they need, the cells the rest
        (rectangular when the space is, so a wide, low panel is filled rather than left empty)."""
        metrics = QFontMetrics(self.font())
        names = self.classes[: len(self.matrix)] or [""]
        label = min(max(max(metrics.horizontalAdvance(n) for n in names) + 12, 28), 140)
        title = metrics.height() + 4  # "predicted class" above the columns, "true class" beside the rows
        left, top = label + title, min(label, 90.0) + title
        n = max(len(self.matrix), 1)
        cell_w = max(4.0, (self.width() - left - 4) / n)
        cell_h = max(4.0, (self.height() - top - 4) / n)
        cell_w = min(cell_w, 2.5 * cell_h)  # keep cells from turning into long strips
        return left, top, cell_w, cell_h

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        left, top, cell_w, cell_h = self._geometry()
        n = len(self.matrix)
        row, col = int((y - top) // cell_h), int((x - left) // cell_w)
        if n and 0 <= row < n and 0 <= col < n and x >= left and y >= top:
            return row, col
        return None

    def cell_text(self, row: int, col: int) -> str:
        """What the cell's tooltip says: the count and what share of the true class it is."""
        count = self.matrix[row][col]
        total = sum(self.matrix[row]) or 1
        true = self.classes[row] if row < len(self.classes) else str(row)
        predicted = self.classes[col] if col < len(self.classes) else str(col)
        verdict = "correct" if row == col else f"predicted as '{predicted}'"
        text = f"{count} validation image(s) of '{true}' {verdict} ({count / total:.0%} of '{true}')."
        if (row, col) in self.highlighted:
            chosen = self.highlighted[(row, col)]
            text += "\nHighlighted" + ("" if chosen is None else f": {chosen} of them selected") + "."
        return text + "\nClick to see them."

    def event(self, event) -> bool:  # noqa: D102
        if event.type() == QEvent.Type.ToolTip:
            hit = self.cell_at(event.pos().x(), event.pos().y())  # a QHelpEvent
            if hit is not None:
                QToolTip.showText(event.globalPos(), self.cell_text(*hit), self)
                return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        hit = self.cell_at(event.position().x(), event.position().y())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def count_font(self) -> QFont:
        """The counts' font: as large as the cells allow (up to the widget font + 1 pt)."""
        _left, _top, cell_w, cell_h = self._geometry()
        font = QFont(self.font())
        base = self.font().pointSizeF() if self.font().pointSizeF() > 0 else 9.0
        font.setPointSizeF(max(6.0, min(base + 1, cell_h / 2.2, cell_w / 2.6)))
        return font

    def counts_visible(self) -> bool:
        """Counts are drawn in the cells when the largest one fits."""
        if not self.matrix:
            return False
        _left, _top, cell_w, cell_h = self._geometry()
        metrics = QFontMetrics(self.count_font())
        widest = max(metrics.horizontalAdvance(str(v)) for row in self.matrix for v in row)
        return cell_h >= metrics.height() and widest <= cell_w - 2

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colours = theme.colours()
        if not self.matrix:
            painter.setPen(colours.muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "The confusion matrix appears after "
                             "the first epoch\n(needs a validation split).")
            return
        left, top, cell_w, cell_h = self._geometry()
        n = len(self.matrix)
        low = colours.card if not colours.dark else QColor("#262a31")
        high, wrong = QColor("#3d7eff"), QColor("#e0702f")
        font = self.count_font()
        show_counts = self.counts_visible()
        painter.setFont(font)
        for r, row in enumerate(self.matrix):
            total = sum(row) or 1
            for c, count in enumerate(row):
                rect = QRectF(left + c * cell_w, top + r * cell_h, cell_w - 1, cell_h - 1)
                share = count / total
                painter.fillRect(rect, _blend(low, high if r == c else wrong, share ** 0.6 if count else 0))
                if show_counts:
                    painter.setPen(QColor("#ffffff") if share > 0.45 else
                                   (colours.text if count else colours.muted))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        if self.highlighted:
            painter.setPen(QPen(HIGHLIGHT, max(2.0, min(cell_w, cell_h) / 12)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for r, c in self.highlighted:
                painter.drawRect(QRectF(left + c * cell_w + 1, top + r * cell_h + 1, cell_w - 3, cell_h - 3))
        painter.setFont(self.font())
        painter.setPen(colours.text)
        metrics = QFontMetrics(self.font())
        title_px = metrics.height() + 4
        for i, name in enumerate(self.classes[:n]):
            label = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(left - title_px) - 10)
            painter.drawText(QRectF(title_px, top + i * cell_h, left - title_px - 6, cell_h), Qt.AlignmentFlag.AlignRight |
                             Qt.AlignmentFlag.AlignVCenter, label)
            column = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(top - title_px) - 10)
            painter.save()
            painter.translate(left + i * cell_w + cell_w / 2, top - 6)
            painter.rotate(-90)
            painter.drawText(QRectF(0, -cell_w / 2, top - title_px - 12, cell_w), Qt.AlignmentFlag.AlignLeft |
                             Qt.AlignmentFlag.AlignVCenter, column)
            painter.restore()
        painter.setPen(colours.muted)
        title = title_px
        painter.drawText(QRectF(left, 0, n * cell_w, title), Qt.AlignmentFlag.AlignCenter, "predicted class →")
        painter.save()
        painter.translate(0, top + n * cell_h)
        painter.rotate(-90)
        painter.drawText(QRectF(0, 0, n * cell_h, title), Qt.AlignmentFlag.AlignCenter, "← true class")
        painter.restore()


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
