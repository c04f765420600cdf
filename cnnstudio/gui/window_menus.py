"""The main window's menus (File, Edit, View) and its recovery bar; they call the window's actions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QPushButton

from cnnstudio.gui import projects

if TYPE_CHECKING:
    from cnnstudio.gui.main_window import MainWindow


class RecoveryBar(QFrame):
    """Offers the recovery copy a crash left behind (not modal: the window stays usable)."""

    restore = Signal()
    discard = Signal()

    def __init__(self, parent=None):
        super().__init__(parent, objectName="RecoveryBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        self.label = QLabel()
        self.restore_button = QPushButton("Restore")
        self.discard_button = QPushButton("Discard")
        self.restore_button.clicked.connect(self.restore)
        self.discard_button.clicked.connect(self.discard)
        row.addWidget(self.label, 1)
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        self.hide()


def _action(window: MainWindow, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setStatusTip(tip)
    action.setToolTip(tip or text)
    action.triggered.connect(lambda *_: slot())
    menu.addAction(action)
    window.addAction(action)
    return action


def _on_editor(window: MainWindow, method: str, *args):
    return lambda: getattr(window.editor, method)(*args) if window.editor is not None else None


def build_menus(window: MainWindow) -> tuple[QAction, QAction, QMenu]:
    """File, Edit and View menus; returns (undo, redo, the recent-files menu)."""
    menu = window.menuBar().addMenu("&File")
    _action(
        window,
        menu,
        "&New",
        window.new_project,
        QKeySequence.StandardKey.New,
        "Start an empty project.",
    )
    _action(
        window,
        menu,
        "New from &zoo…",
        window.new_from_zoo,
        "Ctrl+Shift+N",
        "Start from a classic architecture.",
    )
    _action(window, menu, "&Open…", window.open_dialog, QKeySequence.StandardKey.Open)
    recent = menu.addMenu("Open &recent")
    recent.aboutToShow.connect(lambda: _fill_recent(window, recent))
    _action(
        window,
        menu,
        "&Import .keras model…",
        window.import_dialog,
        "Ctrl+I",
        "Turn a Keras model into an editable architecture.",
    )
    menu.addSeparator()
    _action(window, menu, "&Save", window.save, QKeySequence.StandardKey.Save)
    _action(window, menu, "Save &as…", window.save_as, QKeySequence.StandardKey.SaveAs)
    _action(window, menu, "Export layer &table (CSV)…", _on_editor(window, "export_table"))
    menu.addSeparator()
    _action(window, menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    menu = window.menuBar().addMenu("&Edit")
    undo = _action(window, menu, "&Undo", window.undo, QKeySequence.StandardKey.Undo)
    redo = _action(window, menu, "&Redo", window.redo, QKeySequence.StandardKey.Redo)
    menu.addSeparator()
    _action(window, menu, "Cu&t", _on_editor(window, "cut_selected"), QKeySequence.StandardKey.Cut)
    _action(
        window, menu, "&Copy", _on_editor(window, "copy_selected"), QKeySequence.StandardKey.Copy
    )
    _action(window, menu, "&Paste", _on_editor(window, "paste"), QKeySequence.StandardKey.Paste)
    _action(window, menu, "D&uplicate", _on_editor(window, "duplicate"), "Ctrl+D")
    _action(
        window,
        menu,
        "&Delete",
        _on_editor(window, "delete_selected"),
        QKeySequence.StandardKey.Delete,
    )
    _action(
        window,
        menu,
        "Select &all",
        lambda: [c.setSelected(True) for c in window.editor.scene.cards.values()],
        QKeySequence.StandardKey.SelectAll,
    )
    menu.addSeparator()
    _action(window, menu, "&Group into block…", _on_editor(window, "group_selected"), "Ctrl+G")
    _action(window, menu, "U&ngroup", _on_editor(window, "ungroup"), "Ctrl+Shift+G")
    _action(
        window,
        menu,
        "Freeze",
        _on_editor(window, "set_trainable_selected", False),
        tip="Keep the selected layers' weights fixed during training.",
    )
    _action(window, menu, "Unfreeze", _on_editor(window, "set_trainable_selected", True))

    menu = window.menuBar().addMenu("&View")
    _action(
        window,
        menu,
        "Zoom &in",
        lambda: window.editor.view.zoom(1.25),
        QKeySequence.StandardKey.ZoomIn,
    )
    _action(
        window,
        menu,
        "Zoom &out",
        lambda: window.editor.view.zoom(0.8),
        QKeySequence.StandardKey.ZoomOut,
    )
    _action(
        window, menu, "&Fit to view", lambda: window.editor.view.fit(), tip="Also: F on the canvas."
    )
    _action(window, menu, "Auto &layout", _on_editor(window, "auto_layout"), "Ctrl+L")
    menu.addSeparator()
    _action(window, menu, "&Collapse block", _on_editor(window, "collapse_selected"), "Ctrl+[")
    _action(window, menu, "&Expand block", _on_editor(window, "expand_selected"), "Ctrl+]")
    _action(window, menu, "Collapse all stages", _on_editor(window, "collapse_all"))
    _action(window, menu, "Expand everything", _on_editor(window, "expand_all"))
    return undo, redo, recent


def _fill_recent(window: MainWindow, recent: QMenu) -> None:
    recent.clear()
    for path in projects.recent_files():
        action = recent.addAction(path)
        action.triggered.connect(lambda *_, p=path: window.open_path(Path(p)))
    if not recent.actions():
        recent.addAction("No recent projects").setEnabled(False)
