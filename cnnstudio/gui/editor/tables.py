"""The bottom drawer: the layer table (the tutorial's VGG table) and the diagnostics list."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableView,
)

from cnnstudio.graph.analysis import Analysis, human_bytes, human_count
from cnnstudio.graph.catalogue import format_shape
from cnnstudio.gui import theme

_ROOT = QModelIndex()
COLUMNS = ("Name", "Type", "Output shape", "Params", "MACs", "Memory")


class LayerTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, str, str, int, int | None, int | None]] = []

    def set_analysis(self, analysis: Analysis) -> None:
        self.beginResetModel()
        self.rows = []
        for name in analysis.order:
            n = analysis.nodes[name]
            self.rows.append((name, n.type, format_shape(n.output_shape), n.param_count, n.macs, n.activation_bytes))
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 3:
                return f"{row[3]:,}"
            if column == 4:
                return human_count(row[4])
            if column == 5:
                return human_bytes(row[5])
            return row[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return row[0]  # the column may elide a long name
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def row_of(self, name: str) -> int:
        for i, row in enumerate(self.rows):
            if row[0] == name:
                return i
        return -1

    def export_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "type", "output_shape", "params", "macs", "memory_bytes"])
            for name, kind, shape, params, macs, memory in self.rows:
                writer.writerow([name, kind, shape, params, "" if macs is None else macs,
                                 "" if memory is None else memory])


class LayerTable(QTableView):
    picked = Signal(list)  # node names selected by the user

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_ = LayerTableModel(self)
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The name column takes what is left, so every number column (Memory included) stays in
        # view down to a 1280-pixel-wide window; long names elide and show in full on hover.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for column, width in enumerate((100, 104, 76, 76, 84), start=1):
            self.setColumnWidth(column, width)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setShowGrid(False)
        self._syncing = False
        self.selectionModel().selectionChanged.connect(self._user_selection)

    def set_analysis(self, analysis: Analysis, selected: list[str]) -> None:
        self._syncing = True
        self.model_.set_analysis(analysis)
        self._syncing = False
        self.show_selection(selected)

    def show_selection(self, names: list[str]) -> None:
        self._syncing = True
        selection = self.selectionModel()
        selection.clearSelection()
        first = None
        for name in names:
            row = self.model_.row_of(name)
            if row >= 0:
                first = row if first is None else first
                selection.select(self.model_.index(row, 0),
                                 selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        if first is not None:
            self.scrollTo(self.model_.index(first, 0))
        self._syncing = False

    def _user_selection(self, *args) -> None:
        if self._syncing:
            return
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        self.picked.emit([self.model_.rows[r][0] for r in rows])


class DiagnosticsList(QListWidget):
    jump = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)
        self.setWordWrap(True)

    def set_analysis(self, analysis: Analysis) -> None:
        self.clear()
        for diagnostic in sorted(analysis.diagnostics, key=lambda d: d.severity != "error"):
            where = f"{diagnostic.node}: " if diagnostic.node else ""
            mark = "●"
            item = QListWidgetItem(f"{mark}  {where}{diagnostic.message}")
            item.setForeground(QColor(theme.ERROR if diagnostic.severity == "error" else theme.WARNING))
            item.setData(Qt.ItemDataRole.UserRole, diagnostic.node or "")
            item.setToolTip(diagnostic.message)
            self.addItem(item)
        if not analysis.diagnostics:
            item = QListWidgetItem("No problems: every layer has a valid shape.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.jump.emit(node)
