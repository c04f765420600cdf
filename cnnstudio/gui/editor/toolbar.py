"""The canvas toolbar: the editing actions a hand reaches for most, with their shortcuts.

Two bars side by side: the view bar (layout, fit, zoom) keeps its full width and never
hides behind the overflow chevron; the editing bar gives way first on a window narrower
than 1280 (its actions are also in the Edit and View menus and the canvas context menu;
Duplicate lives there only, Ctrl+D).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolBar, QWidget

if TYPE_CHECKING:
    from cnnstudio.gui.editor.editor import ArchitectureEditor

def _bar(entries) -> QToolBar:
    bar = QToolBar()
    bar.setMovable(False)
    for entry in entries:
        if entry is None:
            bar.addSeparator()
            continue
        name, text, slot, tip = entry
        action = bar.addAction(text)
        action.setToolTip(tip)
        action.setObjectName(f"canvas-{name}")
        action.triggered.connect(lambda *_, s=slot: s())
    return bar


def canvas_toolbar(editor: ArchitectureEditor) -> QWidget:
    editing = _bar((
        ("undo", "↶", editor.undo, "Undo the last edit (Ctrl+Z)"),
        ("redo", "↷", editor.redo, "Redo (Ctrl+Shift+Z)"),
        None,
        ("delete", "Delete", editor.delete_selected, "Delete the selected layers or connections; a chain closes over "
         "the gap (Del)"),
        None,
        ("group", "Group", lambda: editor.group_selected(), "Group the selection into a named block (Ctrl+G)"),
        ("ungroup", "Ungroup", lambda: editor.ungroup(), "Dissolve the selected block (Ctrl+Shift+G)"),
        ("collapse", "Collapse", editor.collapse_selected, "Collapse the block around the selection; on a block, its stage "
         "(Ctrl+[)"),
        ("expand", "Expand", editor.expand_selected, "Expand the selected block in place (Ctrl+] or double-click)"),
    ))
    editing.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    view = _bar((
        ("layout", "Layout", editor.auto_layout, "Lay the graph out top to bottom, long edges beside the cards (Ctrl+L)"),
        ("fit", "Fit", editor.view.fit, "Fit the graph in the view, keeping card text readable (F)"),
        ("zoom-out", "−", lambda: editor.view.zoom(0.8), "Zoom out (Ctrl+−, or the wheel)"),
        ("zoom-in", "+", lambda: editor.view.zoom(1.25), "Zoom in (Ctrl++, or the wheel)"),
    ))
    view.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    holder = QWidget()
    holder.setObjectName("canvas-toolbar")
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(editing, 1)
    layout.addWidget(view, 0)
    holder.bars = (editing, view)
    return holder
