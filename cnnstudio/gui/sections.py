"""The sections of the window, in one place: name -> factory(window) -> QWidget.

The Architecture section is the editor; the other panels arrive with the panels issue. To
add one, put its factory here (or call `register`): the rail and the --section flag follow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from cnnstudio.gui.main_window import MainWindow

SectionFactory = Callable[["MainWindow"], QWidget]


def placeholder(title: str, text: str) -> SectionFactory:
    def make(window: MainWindow) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head = QLabel(f"<h2>{title}</h2>")
        head.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QLabel(text)
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.setWordWrap(True)
        body.setEnabled(False)
        body.setMaximumWidth(520)
        layout.addWidget(head)
        layout.addWidget(body, alignment=Qt.AlignmentFlag.AlignCenter)
        return page

    return make


def _architecture(window: MainWindow) -> QWidget:
    return window.architecture_host


SECTIONS: dict[str, SectionFactory] = {
    "Architecture": _architecture,
    "Data": placeholder("Data", "Point the project at an image folder: class table, thumbnails, split, "
                        "preprocessing and augmentation preview will live here."),
    "Training": placeholder("Training", "Training settings, live loss/accuracy curves with progress and "
                            "Start / Stop / Resume will live here."),
    "Runs": placeholder("Runs", "Past runs, their curves side by side and their checkpoints will live here."),
    "Export": placeholder("Export", "Export to SavedModel, .keras, TFLite, ONNX or Python source, and try "
                          "the model on your own images here."),
}

ICONS = {"Architecture": "◇", "Data": "▦", "Training": "▶", "Runs": "≡", "Export": "⇪"}


def register(name: str, factory: SectionFactory, icon: str = "•") -> None:
    """Add or replace a section (panels call this when they land)."""
    SECTIONS[name] = factory
    ICONS[name] = icon
