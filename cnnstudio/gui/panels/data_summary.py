"""The Data panel's left column below the folder: class table, bar chart, unusable files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.panels.common import box, open_folder, style_plot
from cnnstudio.gui.panels.plots import pg

LABEL_PX = 90  # a class name on the chart is elided beyond this width (the table has it in full)


def chart_ticks(names: list[str], width: float, metrics: QFontMetrics) -> list[tuple[int, str]]:
    """Bar labels that fit `width` pixels without overlapping: long names elided, and only every
    k-th bar labelled when there are too many (the first and the last always are)."""
    if not names:
        return []
    labels = [metrics.elidedText(n, Qt.TextElideMode.ElideRight, LABEL_PX) for n in names]
    widest = max(metrics.horizontalAdvance(label) for label in labels) + 8
    slot = max(width, 1.0) / len(names)
    step = max(1, math.ceil(widest / slot))
    keep = list(range(0, len(names), step))
    if keep[-1] != len(names) - 1 and (len(names) - 1 - keep[-1]) * slot >= widest:
        keep.append(len(names) - 1)
    return [(i, labels[i]) for i in keep]


class ClassesView(QWidget):
    class_chosen = Signal(int)  # row of the class table (the thumbnails filter follows)

    def __init__(self, parent=None):
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.class_table = QTableWidget(0, 3)
        self.class_table.setHorizontalHeaderLabels(["Class", "Images", "Share"])
        self.class_table.verticalHeader().hide()
        self.class_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.class_table.itemSelectionChanged.connect(self._selected)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        table_frame, table_box = box("Classes", self.class_table)
        self.chart = pg.PlotWidget()
        self.chart.setMaximumHeight(150)
        style_plot(self.chart, "", "images", "")
        self.chart.getPlotItem().setMouseEnabled(False, False)
        self.chart.installEventFilter(self)  # the class labels are re-thinned when the width changes
        self.names: list[str] = []
        table_box.addWidget(self.chart)
        column.addWidget(table_frame, 0)
        self.unusable = QListWidget()
        self.unusable.setToolTip("Double-click to open the folder that holds the file.")
        self.unusable.itemDoubleClicked.connect(
            lambda item: open_folder(Path(item.data(Qt.ItemDataRole.UserRole)).parent))
        bad_frame, _ = box("Unusable files", self.unusable)
        column.addWidget(bad_frame, 1)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.chart and event.type() == QEvent.Type.Resize:
            self._update_ticks()
        return super().eventFilter(watched, event)

    def _update_ticks(self) -> None:
        axis = self.chart.getPlotItem().getAxis("bottom")
        width = self.chart.width() - self.chart.getPlotItem().getAxis("left").width() - 12
        axis.setTicks([chart_ticks(self.names, width, QFontMetrics(axis.style.get("tickFont") or self.font()))])

    def _selected(self) -> None:
        rows = self.class_table.selectionModel().selectedRows()
        if rows:
            self.class_chosen.emit(rows[0].row())

    def show_scan(self, scan: Any | None) -> None:
        self.class_table.setRowCount(0)
        self.unusable.clear()
        self.chart.getPlotItem().clear()
        self.names = []
        if scan is None:
            self._update_ticks()
            return
        counts = scan.counts()
        total = sum(counts.values()) or 1
        self.class_table.setRowCount(len(counts))
        for row, (name, count) in enumerate(counts.items()):
            self.class_table.setItem(row, 0, QTableWidgetItem(name))
            for col, text in ((1, str(count)), (2, f"{count / total:.1%}")):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.class_table.setItem(row, col, item)
        rows_height = sum(self.class_table.rowHeight(r) for r in range(len(counts)))
        self.class_table.setMaximumHeight(min(260, rows_height + self.class_table.horizontalHeader().height() + 6))
        self.chart.addItem(pg.BarGraphItem(x=np.arange(len(counts)), height=list(counts.values()), width=0.7,
                                           brush="#3d7eff"))
        self.names = list(counts)
        self._update_ticks()
        for path, reason in scan.unreadable:
            item = QListWidgetItem(f"{path} — {reason}")
            item.setToolTip(f"{scan.folder / path}\n{reason}\nDouble-click to open its folder.")
            item.setData(Qt.ItemDataRole.UserRole, str(scan.folder / path))
            self.unusable.addItem(item)
