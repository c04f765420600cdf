"""A bar across the top of the window for a problem the user must see (a project file that
could not be opened at launch): what is wrong, in the error's own words, and what to do."""

from __future__ import annotations

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

STYLE = ("QFrame#ProblemBar { background: %s; border: 1px solid %s; border-radius: 6px; margin: 6px; }"
         " QFrame#ProblemBar QLabel { color: %s; }")


class ProblemBar(QFrame):
    def __init__(self, title: str, message: str, parent=None):
        super().__init__(parent, objectName="ProblemBar")
        from cnnstudio.gui import theme

        dark = theme.colours().dark
        self.setStyleSheet(STYLE % (("#4a2623", "#a2453c", "#ffd9d4") if dark else ("#fbe3e1", "#e49a93", "#6b1d17")))
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel(f"<b>{title}</b><br>{message}")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.open_button = QPushButton("Open another project…")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.hide)
        row.addWidget(self.open_button)
        row.addWidget(self.dismiss_button)


def show_problem(window: QMainWindow, title: str, message: str) -> ProblemBar:
    """Put a ProblemBar above the window's content (not modal: the window stays usable)."""
    import html

    bar = ProblemBar(html.escape(title), html.escape(message))
    open_dialog = getattr(window, "open_dialog", None)
    if open_dialog is not None:
        bar.open_button.clicked.connect(open_dialog)
        bar.open_button.clicked.connect(bar.hide)
    else:
        bar.open_button.hide()
    content = window.takeCentralWidget()
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(bar)
    if content is not None:
        column.addWidget(content, 1)
    window.setCentralWidget(holder)
    window.problem_bar = bar
    return bar
