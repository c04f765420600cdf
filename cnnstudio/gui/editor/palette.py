"""The palette: every catalogue layer type by category, and the insertable blocks; searchable."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from cnnstudio.graph import catalogue
from cnnstudio.graph.blocks import BLOCKS
from cnnstudio.gui import theme

LAYER_MIME = "application/x-cnnstudio-layer"
BLOCK_MIME = "application/x-cnnstudio-block"
KIND_ROLE = Qt.ItemDataRole.UserRole
NAME_ROLE = Qt.ItemDataRole.UserRole + 1


def swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(1, 1, 10, 10, 3, 3)
    painter.end()
    return QIcon(pixmap)


class PaletteTree(QTreeWidget):
    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        for item in items:
            kind, name = item.data(0, KIND_ROLE), item.data(0, NAME_ROLE)
            if kind == "layer":
                mime.setData(LAYER_MIME, name.encode())
            elif kind == "block":
                mime.setData(BLOCK_MIME, name.encode())
        return mime

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_MIME, BLOCK_MIME]


class Palette(QWidget):
    activated = Signal(str, str)  # kind ("layer"/"block"), name

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        self.search = QLineEdit(placeholderText="Search layers and blocks…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.tree = PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.SingleSelection)
        self.tree.setIndentation(12)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        for category, types in catalogue.by_category().items():
            if not types:
                continue
            head = QTreeWidgetItem([category])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            self.tree.addTopLevelItem(head)
            for layer in types:
                item = QTreeWidgetItem([layer.label or layer.name])
                item.setData(0, KIND_ROLE, "layer")
                item.setData(0, NAME_ROLE, layer.name)
                item.setToolTip(0, f"<b>{layer.name}</b><br>{layer.help}")
                item.setIcon(0, swatch(theme.category_colour(category)))
                head.addChild(item)
        head = QTreeWidgetItem(["Blocks"])
        head.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = head.font(0)
        font.setBold(True)
        head.setFont(0, font)
        self.tree.addTopLevelItem(head)
        for block in BLOCKS.values():
            item = QTreeWidgetItem([block.label])
            item.setData(0, KIND_ROLE, "block")
            item.setData(0, NAME_ROLE, block.name)
            item.setToolTip(0, f"<b>{block.label}</b><br>{block.help}")
            item.setIcon(0, swatch(theme.category_colour("Block")))
            head.addChild(item)
        self.tree.expandAll()

    def item_for(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            for j in range(head.childCount()):
                if head.child(j).data(0, NAME_ROLE) == name:
                    return head.child(j)
        return None

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            shown = 0
            for j in range(head.childCount()):
                child = head.child(j)
                haystack = f"{child.text(0)} {child.data(0, NAME_ROLE)} {head.text(0)} {child.toolTip(0)}".lower()
                hide = not all(w in haystack for w in words)
                child.setHidden(hide)
                shown += not hide
            head.setHidden(shown == 0)

    def _double_clicked(self, item: QTreeWidgetItem) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.activated.emit(kind, item.data(0, NAME_ROLE))
