"""The canvas toolbar: the editing actions a hand reaches for most, with their shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QToolBar

if TYPE_CHECKING:
    from cnnstudio.gui.editor.editor import ArchitectureEditor


def canvas_toolbar(editor: ArchitectureEditor) -> QToolBar:
    bar = QToolBar()
    bar.setMovable(False)
    entries = (
        ("Undo", editor.undo, "Undo the last edit (Ctrl+Z)"),
        ("Redo", editor.redo, "Redo (Ctrl+Shift+Z)"),
        None,
        ("Duplicate", editor.duplicate, "Duplicate the selection (Ctrl+D)"),
        ("Delete", editor.delete_selected, "Delete the selection; a chain closes over the gap (Del)"),
        None,
        ("Group", lambda: editor.group_selected(), "Group the selection into a named block (Ctrl+G)"),
        ("Ungroup", lambda: editor.ungroup(), "Dissolve the selected block (Ctrl+Shift+G)"),
        ("Collapse", editor.collapse_selected, "Collapse the block around the selection (Ctrl+[)"),
        ("Expand", editor.expand_selected, "Expand the selected block in place (Ctrl+] or double-click)"),
        None,
        ("Layout", editor.auto_layout, "Lay the graph out top to bottom (Ctrl+L)"),
        ("Fit", editor.view.fit, "Fit the graph in the view (F)"),
        ("−", lambda: editor.view.zoom(0.8), "Zoom out (Ctrl+−, or the wheel)"),
        ("+", lambda: editor.view.zoom(1.25), "Zoom in (Ctrl++, or the wheel)"),
    )
    for entry in entries:
        if entry is None:
            bar.addSeparator()
            continue
        text, slot, tip = entry
        action = bar.addAction(text)
        action.setToolTip(tip)
        action.triggered.connect(lambda *_, s=slot: s())
    return bar
