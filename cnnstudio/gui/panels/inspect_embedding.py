"""The embedding map: a scatter of a run's images by penultimate features, linked to a confusion matrix.

One colour per true class, mistakes drawn as crosses. Hover a point: its thumbnail and
classes. Click a point: `point_chosen(path)` (the panel shows it, its top-5 and saliency).
Linked both ways with the confusion matrix beside it: a clicked cell highlights its points;
lassoed points (Shift+drag) and a clicked point outline their cells in the matrix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import Qt, Signal  # noqa: E402
from PySide6.QtGui import QColor, QPixmap  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.panels.common import muted, style_plot  # noqa: E402
from cnnstudio.gui.panels.confusion import HIGHLIGHT, ConfusionMatrix  # noqa: E402
from cnnstudio.inspect.render import PALETTE  # noqa: E402
from cnnstudio.inspect.results import Embedding  # noqa: E402


class LassoViewBox(pg.ViewBox):
    """Shift+drag draws a lasso; the polygon (data coordinates) goes to `on_lasso` when released."""

    def __init__(self, on_lasso: Callable[[np.ndarray], None]):
        super().__init__()
        self.on_lasso = on_lasso
        self.path: list[tuple[float, float]] = []
        self.trace = pg.PlotCurveItem(pen=pg.mkPen("w", width=1, style=Qt.PenStyle.DashLine))
        self.addItem(self.trace, ignoreBounds=True)

    def mouseDragEvent(self, event, axis=None) -> None:  # noqa: N802
        if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().mouseDragEvent(event, axis)
            return
        event.accept()
        point = self.mapSceneToView(event.scenePos())
        if event.isStart():
            self.path = []
        self.path.append((point.x(), point.y()))
        closed = np.array(self.path + self.path[:1])
        self.trace.setData(closed[:, 0], closed[:, 1])
        if event.isFinish():
            polygon = np.array(self.path)
            self.path = []
            self.trace.setData([], [])
            self.on_lasso(polygon)


def inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule: which of `points` [N,2] lie inside `polygon` [M,2]."""
    inside = np.zeros(len(points), dtype=bool)
    if len(polygon) < 3:
        return inside
    x, y = points[:, 0], points[:, 1]
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < at)
    return inside


def available_methods() -> list[str]:
    from cnnstudio.inspect.projection import available_methods as methods

    return methods()


class EmbeddingView(QWidget):
    point_chosen = Signal(str)

    def __init__(self, request: Callable[..., bool], parent: QWidget | None = None):
        super().__init__(parent)
        self.request = request
        self.embedding: Embedding | None = None
        self.highlighted = np.zeros(0, dtype=bool)
        self.method = QComboBox()
        for method in available_methods():
            self.method.addItem({"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[method], method)
        self.method.setToolTip("PCA is instant; t-SNE takes seconds and separates clusters better; UMAP "
                               "appears when the umap-learn package is installed")
        self.split = QComboBox()
        self.split.addItem("validation", "val")
        self.split.addItem("test", "test")
        self.compute = QPushButton("Compute map")
        self.compute.clicked.connect(self.refresh)
        self.status = muted("Pick a trained run, then compute its map.")
        self.plot = pg.PlotWidget(viewBox=LassoViewBox(self.select_in_polygon))
        self.plot.setToolTip("Shift+drag to lasso points; click a point to explain its image")
        style_plot(self.plot, "", "", "")
        self.scatter = pg.ScatterPlotItem(size=9, hoverable=True, tip=None)
        self.scatter.sigClicked.connect(self._clicked)
        self.scatter.sigHovered.connect(self._hovered)
        # Highlighted points get a ring in the colour that outlines their cells in the matrix, drawn
        # under the points so a point keeps its class colour and its mark (circle or cross).
        self.halo = pg.ScatterPlotItem(size=19, pen=pg.mkPen(HIGHLIGHT, width=2.5), brush=None)
        self.halo.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.plot.addItem(self.halo)
        self.plot.addItem(self.scatter)
        self.matrix = ConfusionMatrix()
        self.matrix.cell_clicked.connect(self.highlight_cell)
        self.hover = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.hover.setFixedSize(120, 120)
        self.hover_text = muted("")
        self.hover_text.setMinimumHeight(2 * self.hover_text.fontMetrics().lineSpacing() + 6)  # name + classes
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.matrix, 1)
        side_layout.addWidget(self.hover, alignment=Qt.AlignmentFlag.AlignHCenter)
        side_layout.addWidget(self.hover_text)
        split = QSplitter()
        split.addWidget(self.plot)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        row = QHBoxLayout()
        row.addWidget(QLabel("Method"))
        row.addWidget(self.method)
        row.addWidget(QLabel("Images"))
        row.addWidget(self.split)
        row.addWidget(self.compute)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    def clear(self, text: str) -> None:
        self.embedding = None
        self.scatter.clear()
        self.halo.clear()
        self.matrix.set_matrix(None, [])
        self.status.setText(text)
        self.compute.setEnabled(False)

    def enable(self) -> None:
        self.compute.setEnabled(True)
        self.status.setText("Compute the map of this run (features are cached in the run folder).")

    def refresh(self) -> None:
        self.compute.setEnabled(False)
        self.status.setText(f"Computing the {self.method.currentText()} map…")
        sent = self.request("embed", {"method": self.method.currentData(), "split": self.split.currentData()},
                            self._arrived, key="embed", run=True)
        if not sent:
            self.clear("The embedding map needs a trained run: pick one above.")

    def _arrived(self, answer: dict[str, Any], out: str) -> None:
        self.compute.setEnabled(True)
        if not answer.get("ok"):
            self.status.setText(answer.get("error", "failed"))
            return
        self.set_embedding(Embedding.load(out))

    def set_embedding(self, embedding: Embedding) -> None:
        self.embedding = embedding
        self.highlighted = np.zeros(len(embedding.images), dtype=bool)
        classes = len(embedding.class_names)
        matrix = np.zeros((classes, classes), dtype=int)
        np.add.at(matrix, (embedding.true, embedding.predicted), 1)
        self.matrix.set_matrix(matrix.tolist(), embedding.class_names)
        self._draw()
        self.plot.getPlotItem().enableAutoRange()
        self.status.setText(f"{len(embedding.images)} {embedding.split} images, {int(embedding.mistakes.sum())} "
                            "mistakes (crosses). Click a confusion cell to highlight its points; lasso points "
                            "(Shift+drag) or click one to outline their cells.")

    def _draw(self) -> None:
        """One setData with arrays (brushes and pens shared per class): cheap at thousands of points."""
        embedding = self.embedding
        if embedding is None:
            return
        colours = [QColor(*PALETTE[i % len(PALETTE)]) for i in range(max(len(embedding.class_names), 1))]
        brushes = [pg.mkBrush(colour) for colour in colours]
        pens = [pg.mkPen(colour) for colour in colours]
        true = embedding.true.astype(int)
        self.scatter.setData(
            x=embedding.points[:, 0].astype(float), y=embedding.points[:, 1].astype(float),
            data=np.arange(len(true)), symbol=np.where(embedding.mistakes, "x", "o").tolist(),
            size=np.where(self.highlighted, 12, 9), brush=[brushes[t] for t in true], pen=[pens[t] for t in true])
        lit = embedding.points[self.highlighted].astype(float)
        self.halo.setData(x=lit[:, 0], y=lit[:, 1])

    # ---- linking ---------------------------------------------------------------------------
    def highlight_cell(self, true: int, predicted: int) -> None:
        """Highlight the points of one confusion-matrix cell (row: true, column: predicted)."""
        if self.embedding is None:
            return
        self.highlighted = np.zeros(len(self.embedding.images), dtype=bool)
        self.highlighted[self.embedding.in_cell(true, predicted)] = True
        self._draw()
        self.matrix.highlight_cells({(true, predicted): int(self.highlighted.sum())})
        names = self.embedding.class_names
        self.status.setText(f"{int(self.highlighted.sum())} images of class {names[true]} predicted as "
                            f"{names[predicted]} highlighted.")

    def select_in_polygon(self, polygon: np.ndarray) -> np.ndarray:
        """Highlight the points inside a lasso; the status says which confusion cells they fall in."""
        if self.embedding is None:
            return np.zeros(0, dtype=int)
        embedding = self.embedding
        self.highlighted = inside_polygon(np.asarray(embedding.points, dtype=np.float64), np.asarray(polygon))
        self._draw()
        chosen = np.flatnonzero(self.highlighted)
        cells: dict[tuple[int, int], int] = {}
        for i in chosen:
            key = (int(embedding.true[i]), int(embedding.predicted[i]))
            cells[key] = cells.get(key, 0) + 1
        self.matrix.highlight_cells(cells)
        names = embedding.class_names
        parts = [f"{count} {names[t]}→{names[p]}" for (t, p), count in sorted(cells.items(), key=lambda c: -c[1])]
        self.status.setText(f"{len(chosen)} images selected: {', '.join(parts) or 'none'} (true→predicted).")
        return chosen

    def _clicked(self, _item, points, *_: Any) -> None:
        if self.embedding is None or not len(points):
            return
        index = int(points[0].data())
        self.choose_point(index)

    def choose_point(self, index: int) -> None:
        """One point chosen: it and its confusion cell are highlighted, and `point_chosen` names its image."""
        embedding = self.embedding
        if embedding is None or not 0 <= index < len(embedding.images):
            return
        self.highlighted = np.zeros(len(embedding.images), dtype=bool)
        self.highlighted[index] = True
        self._draw()
        true, predicted = int(embedding.true[index]), int(embedding.predicted[index])
        self.matrix.highlight_cells({(true, predicted): 1})
        names = embedding.class_names
        self.status.setText(f"{Path(embedding.images[index]).name}: true {names[true]}, predicted "
                            f"{names[predicted]} (its cell is outlined in the matrix).")
        self.point_chosen.emit(embedding.images[index])

    def _hovered(self, _item, points, *_: Any) -> None:
        if self.embedding is None or not len(points):
            return
        index = int(points[0].data())
        embedding = self.embedding
        path = embedding.images[index]
        pixmap = QPixmap(path)
        if not pixmap.isNull():
            self.hover.setPixmap(pixmap.scaled(120, 120, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation))
        self.hover_text.setText(f"{Path(path).name}\ntrue {embedding.class_names[int(embedding.true[index])]}, "
                                f"predicted {embedding.class_names[int(embedding.predicted[index])]}")
