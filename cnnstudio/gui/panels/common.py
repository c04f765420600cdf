"""Small pieces the panels share: titled boxes, images to pixmaps, plot styling, child commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui import theme
from cnnstudio.gui.child_process import child_environment, cli_command, python_command  # noqa: F401


def box(title: str, widget: QWidget | None = None, tip: str = "") -> tuple[QFrame, QVBoxLayout]:
    """A titled panel area (title in the theme's PanelTitle style)."""
    frame = QFrame(objectName="PanelBox")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(8, 4, 8, 8)
    layout.setSpacing(4)
    label = QLabel(title, objectName="PanelTitle")
    label.setToolTip(tip)
    layout.addWidget(label)
    if widget is not None:
        layout.addWidget(widget)
    return frame, layout


class ColumnScroll(QScrollArea):
    """A column that scrolls up and down only: at least as wide as its content's minimum plus
    the vertical scroll bar, whether that bar shows or not, so a long form (an opened "More")
    never brings a horizontal bar nor clips a field. The width follows the content when it
    changes (a form rebuilt for another project, a field's error line, a wider label)."""

    def __init__(self, widget: QWidget):
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(widget)
        widget.installEventFilter(self)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().eventFilter(watched, event)

    def _fit(self) -> None:
        content = self.widget()
        if content is None:
            return
        bar = self.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(content.minimumSizeHint().width() + bar + 2 * self.frameWidth())


def scrolled(widget: QWidget) -> QScrollArea:
    return ColumnScroll(widget)


def row_table(columns: list[str] | tuple[str, ...]) -> QTableWidget:
    """A read-only table of whole-row selections (runs, trials): columns fit their contents,
    the last one stretches."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def muted(text: str = "") -> QLabel:
    label = QLabel(text, objectName="Muted")
    label.setWordWrap(True)
    return label


def array_to_image(array: np.ndarray) -> QImage:
    """uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) -> a QImage owning its pixels."""
    array = np.ascontiguousarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = np.ascontiguousarray(array[..., 0])
    height, width = array.shape[:2]
    if array.ndim == 2:
        image = QImage(array.data, width, height, width, QImage.Format.Format_Grayscale8)
    elif array.shape[2] == 4:
        image = QImage(array.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
    else:
        image = QImage(array.data, width, height, width * 3, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def array_to_pixmap(array: np.ndarray, size: int | None = None) -> QPixmap:
    pixmap = QPixmap.fromImage(array_to_image(array))
    if size:
        # Small images are enlarged without smoothing so the pixels stay visible.
        mode = (Qt.TransformationMode.FastTransformation if max(array.shape[:2]) < size
                else Qt.TransformationMode.SmoothTransformation)
        pixmap = pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)
    return pixmap


def style_plot(plot: Any, title: str, left: str, bottom: str) -> None:
    """pyqtgraph plot in the window's palette, labelled axes with units."""
    colours = theme.colours()
    plot.setBackground(colours.card if not colours.dark else colours.canvas)
    item = plot.getPlotItem()
    item.setTitle(title, color=colours.text.name(), size="10pt")
    for axis in ("left", "bottom"):
        ax = item.getAxis(axis)
        ax.setPen(colours.muted)
        ax.setTextPen(colours.muted)
    item.setLabel("left", left, color=colours.muted.name())
    item.setLabel("bottom", bottom, color=colours.muted.name())
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    from PySide6.QtWidgets import QGraphicsItem

    for name in ("left", "bottom", "top", "right"):
        # Axis text is costly to draw: keep each axis as a pixmap until its ticks change.
        item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    item.titleLabel.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


SERIES_COLOURS = ["#3d7eff", "#e0702f", "#2f9e5f", "#c2439a", "#8a6bd3", "#c58a00", "#2f9e8f", "#d64541"]


def open_folder(path: Path) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
