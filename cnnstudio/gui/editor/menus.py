"""The canvas context menu: what can be done to the card or edge under the pointer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGraphicsItem, QMenu

from cnnstudio.gui.editor import groups
from cnnstudio.gui.editor.items import CardItem, EdgeItem, Port

if TYPE_CHECKING:
    from cnnstudio.gui.editor.scene import EditorScene


def context_menu(scene: EditorScene, item: QGraphicsItem | None) -> QMenu | None:
    """The menu for `item` (selected first if it was not), or None over empty canvas."""
    from cnnstudio.gui.editor.scene import BLOCK_PREFIX

    if isinstance(item, Port):
        item = item.card
    if not isinstance(item, (CardItem, EdgeItem)):
        return None
    if not item.isSelected():
        scene.clearSelection()
        item.setSelected(True)
    menu = QMenu()
    if isinstance(item, EdgeItem):
        source, target = (key.removeprefix(BLOCK_PREFIX) for key in item.pair)
        action = menu.addAction(f"Delete connection '{source}' → '{target}'")
        action.setShortcut("Del")
        action.triggered.connect(lambda *_: scene.delete_selection())
        return menu
    key = item.key
    if key.startswith(BLOCK_PREFIX):
        group = key[len(BLOCK_PREFIX):]
        menu.addAction(f"Expand '{group}'").triggered.connect(lambda *_: scene.expand(group))
        enclosing = groups.ancestors(group)[:-1]
    else:
        enclosing = groups.ancestors(scene.graph[key].group)
    for path in reversed(enclosing):  # innermost first: a stage can be closed on its own
        menu.addAction(f"Collapse '{path}'").triggered.connect(lambda *_, p=path: scene.collapse(p))
    if not menu.isEmpty():
        menu.addSeparator()
    count = len(scene.selected_keys()) + len(scene.selected_edges())
    delete = menu.addAction("Delete" if count == 1 else f"Delete {count} selected")
    delete.setShortcut("Del")
    delete.triggered.connect(lambda *_: scene.delete_selection())
    return menu
