"""The Data panel's left column below the folder: class table, bar chart, unusable files.

All three are views over a prepared FolderSummary (cnnstudio.data.summary): the table and the
unusable list are item models over its arrays and lists (no item object per class or file), so
ImageNet's 1,000 classes or thousands of unusable files cost nothing to show.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QListView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.data.summary import FolderSummary
from cnnstudio.gui.panels.common import box, open_folder, style_plot
from cnnstudio.gui.panels.plots import pg

LABEL_PX = 90  # a class name on the chart is elided beyond this width (the table has it in full)
TABLE_ROWS = 12  # rows the class table shows before it scrolls (the sample's 10 classes fit)


def chart_ticks(names: list[str], width: float, metrics: QFontMetrics) -> list[tuple[int, str]]:
    """Bar labels that fit `width` pixels without overlapping: long names elided, and only every
    k-th bar labelled when there are too many (the first and the last always are)."""
    if not names:
        return []
    slot = max(width, 1.0) / len(names)
    # An elided label is at most LABEL_PX wide: only the labels drawn are elided (1,000 classes).
    widest = min(max(metrics.horizontalAdvance(n) for n in names), LABEL_PX) + 8
    step = max(1, math.ceil(widest / slot))
    keep = list(range(0, len(names), step))
    if keep[-1] != len(names) - 1 and (len(names) - 1 - keep[-1]) * slot >= widest:
        keep.append(len(names) - 1)
    return [(i, metrics.elidedText(names[i], Qt.TextElideMode.ElideRight, LABEL_PX)) for i in keep]


class ClassTableModel(QAbstractTableModel):
    """Class, files, share: one row per class, read from the summary's counts array."""

    HEADERS = ("Class", "Images", "Share")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.names: list[str] = []
        self.counts = np.zeros(0, np.int64)
        self.total = 1

    def set_counts(self, names: list[str], counts: np.ndarray) -> None:
        self.beginResetModel()
        self.names, self.counts = names, counts
        self.total = int(counts.sum()) or 1
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.names)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else 3

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        count = int(self.counts[row])
        if role == Qt.ItemDataRole.DisplayRole:
            return (self.names[row], f"{count:,}", f"{count / self.total:.1%}")[column]
        if role == Qt.ItemDataRole.UserRole:  # what sorting compares
            return (self.names[row].lower(), count, count)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.names[row]
        return None


class UnusableModel(QAbstractListModel):
    """Unusable files with their reasons (relative paths from the summary)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.root = Path()
        self.files: list[tuple[str, str]] = []

    def set_files(self, root: Path, files: list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self.root, self.files = root, files
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.files)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        path, reason = self.files[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:  # two lines, each elided to the width (uniform item sizes)
            return f"{path}\n{reason}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.root / path}\n{reason}\nDouble-click to open its folder."
        if role == Qt.ItemDataRole.UserRole:
            return str(self.root / path)
        return None


class ClassesView(QWidget):
    class_chosen = Signal(int)  # class number (position in the summary's class_names); the thumbnails follow

    def __init__(self, parent=None):
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.classes = ClassTableModel(self)
        self.sorted_classes = QSortFilterProxyModel(self)
        self.sorted_classes.setSourceModel(self.classes)
        self.sorted_classes.setSortRole(Qt.ItemDataRole.UserRole)
        self.sorted_classes.setFilterKeyColumn(0)
        self.sorted_classes.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.class_search = QLineEdit(placeholderText="Find a class", clearButtonEnabled=True)
        self.class_search.setToolTip("Show only the classes whose name contains this text.")
        self.class_search.textChanged.connect(self.sorted_classes.setFilterFixedString)
        self.class_search.hide()  # shown when there are classes enough to search
        self.class_table = QTableView()
        self.class_table.setModel(self.sorted_classes)
        self.class_table.setSortingEnabled(True)
        self.class_table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # folder order until a header is clicked
        self.class_table.verticalHeader().hide()
        self.class_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.class_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.class_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.setToolTip("Click a class to show its thumbnails; click a header to sort.")
        self.class_table.selectionModel().selectionChanged.connect(self._selected)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        table_frame, table_box = box("Classes")
        table_box.addWidget(self.class_search)
        table_box.addWidget(self.class_table)
        self.chart = pg.PlotWidget()
        self.chart.setMaximumHeight(150)
        style_plot(self.chart, "", "images", "")
        self.chart.getPlotItem().setMouseEnabled(False, False)
        self.chart.installEventFilter(self)  # the class labels are re-thinned when the width changes
        self.names: list[str] = []
        table_box.addWidget(self.chart)
        column.addWidget(table_frame, 0)
        self.unusable_files = UnusableModel(self)
        self.unusable = QListView()
        self.unusable.setModel(self.unusable_files)
        self.unusable.setUniformItemSizes(True)
        self.unusable.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.unusable.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.unusable.setAlternatingRowColors(True)
        self.unusable.setToolTip("Double-click to open the folder that holds the file.")
        self.unusable.doubleClicked.connect(
            lambda index: open_folder(Path(index.data(Qt.ItemDataRole.UserRole)).parent))
        self.unusable_frame, _ = box("Unusable files", self.unusable)
        column.addWidget(self.unusable_frame, 1)

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
            self.class_chosen.emit(self.sorted_classes.mapToSource(rows[0]).row())

    def select_class(self, label: int | None) -> None:
        """Select class `label` in the table (None: no selection), without emitting class_chosen."""
        selection = self.class_table.selectionModel()
        selection.blockSignals(True)
        selection.clearSelection()
        if label is not None and label < self.classes.rowCount():
            row = self.sorted_classes.mapFromSource(self.classes.index(label, 0))
            if row.isValid():
                selection.select(row, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
                self.class_table.scrollTo(row)
        selection.blockSignals(False)
        self.class_table.viewport().update()

    def show_summary(self, summary: FolderSummary | None) -> None:
        """Counts from the summary (the index's while header checks run; the usable files' after)."""
        plot = self.chart.getPlotItem()
        plot.clear()
        if summary is None:
            self.names = []
            self.classes.set_counts([], np.zeros(0, np.int64))
            self.unusable_files.set_files(Path(), [])
            self.class_search.hide()
            self._update_ticks()
            self._fit_table(0)
            return
        self.classes.set_counts(summary.class_names, summary.counts)
        self.class_search.setVisible(len(summary.class_names) > 2 * TABLE_ROWS)
        self._fit_table(len(summary.class_names))
        if len(summary.counts):
            plot.addItem(pg.BarGraphItem(x=np.arange(len(summary.counts)), height=summary.counts, width=0.7,
                                         brush="#3d7eff", pen=None if len(summary.counts) > 50 else "#2a5ec4"))
        plot.setXRange(-0.5, max(len(summary.counts), 1) - 0.5, padding=0.02)
        self.names = summary.class_names
        self._update_ticks()
        self.unusable_files.set_files(summary.root, summary.unusable)
        self.unusable_frame.setToolTip(f"{len(summary.unusable):,} file(s)")

    def _fit_table(self, rows: int) -> None:
        """As tall as its rows up to TABLE_ROWS (then it scrolls): no empty space under a few classes."""
        shown = min(max(rows, 1), TABLE_ROWS)
        height = shown * self.class_table.verticalHeader().defaultSectionSize()
        self.class_table.setFixedHeight(height + self.class_table.horizontalHeader().sizeHint().height() + 6)
