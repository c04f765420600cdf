"""Bars across the top of the window, not modal: a problem the user must see (a project file
that could not be opened at launch) or a notice saying what to do next (the first launch)."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

STYLE = ("QFrame#%s { background: %s; border: 1px solid %s; border-radius: 6px; margin: 6px; }"
         " QFrame#%s QLabel { color: %s; }")
COLOURS = {  # kind -> (light: background, border, text), (dark: ...)
    "problem": (("#fbe3e1", "#e49a93", "#6b1d17"), ("#4a2623", "#a2453c", "#ffd9d4")),
    "notice": (("#e3edff", "#9db8ec", "#1d3566"), ("#1f2c45", "#3f5f9a", "#d6e3ff")),
}


class MessageBar(QFrame):
    def __init__(self, title: str, message: str, kind: str = "problem", parent=None):
        super().__init__(parent, objectName="ProblemBar" if kind == "problem" else "NoticeBar")
        from cnnstudio.gui import theme

        background, border, text = COLOURS[kind][1 if theme.colours().dark else 0]
        name = self.objectName()
        self.setStyleSheet(STYLE % (name, background, border, name, text))
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel(f"<b>{html.escape(title)}</b><br>{html.escape(message)}")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.hide)
        row.addWidget(self.action_button)
        row.addWidget(self.dismiss_button)

    def set_action(self, text: str, action: Callable[[], object] | None) -> None:
        """One button that does the obvious next thing (and closes the bar)."""
        if action is None:
            return
        self.action_button.setText(text)
        self.action_button.clicked.connect(lambda: action())
        self.action_button.clicked.connect(self.hide)
        self.action_button.show()


def _place(window: QMainWindow, bar: MessageBar) -> MessageBar:
    """Above the window's content: its central widget moves into a column under the bar."""
    content = window.takeCentralWidget()
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(bar)
    if content is not None:
        column.addWidget(content, 1)
    window.setCentralWidget(holder)
    return bar


def show_problem(window: QMainWindow, title: str, message: str) -> MessageBar:
    bar = MessageBar(title, message, "problem")
    bar.open_button = bar.action_button
    bar.set_action("Open another project…", getattr(window, "open_dialog", None))
    window.problem_bar = bar
    return _place(window, bar)


def show_notice(window: QMainWindow, title: str, message: str, action_text: str = "",
                action: Callable[[], object] | None = None) -> MessageBar:
    bar = MessageBar(title, message, "notice")
    bar.set_action(action_text, action)
    window.notice_bar = bar
    return _place(window, bar)


ProblemBar = MessageBar  # the name tests and callers used first
