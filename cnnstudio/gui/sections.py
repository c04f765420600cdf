"""The sections of the window, in one place: name -> factory(window) -> QWidget.

The Architecture section is the editor; Data, Training, Runs and Export are the panels of
cnnstudio.gui.panels. To add one, put its factory here (or call `register`): the rail and
the --section flag follow. `placeholder` makes a stand-in page for a section not built yet.
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


def _panel(module: str, name: str) -> SectionFactory:
    """A panel of cnnstudio.gui.panels, imported when the window is built."""

    def make(window: MainWindow) -> QWidget:
        import importlib

        try:
            panel = importlib.import_module(f"cnnstudio.gui.panels.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cnnstudio.gui.panels.{module}":
                raise
            title = name.removesuffix("Panel")
            return placeholder(title, f"The {title} panel is not part of this build yet.")(window)
        return getattr(panel, name)(window)

    return make


SECTIONS: dict[str, SectionFactory] = {
    "Architecture": _architecture,
    "Data": _panel("data_panel", "DataPanel"),
    "Training": _panel("training_panel", "TrainingPanel"),
    "Runs": _panel("runs_panel", "RunsPanel"),
    "Export": _panel("export_panel", "ExportPanel"),
}

ICONS = {"Architecture": "◇", "Data": "▦", "Training": "▶", "Runs": "≡", "Export": "⇪"}


def register(name: str, factory: SectionFactory, icon: str = "•") -> None:
    """Add or replace a section (panels call this when they land)."""
    SECTIONS[name] = factory
    ICONS[name] = icon
