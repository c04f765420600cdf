"""The sections of the window, in one place: name -> factory(window) -> QWidget.

The Architecture section is the editor; Data, Training, Runs and Export are the panels of
cnnstudio.gui.panels. To add one, put its factory here (or call `register`): the rail and
the --section flag follow. `placeholder` makes a stand-in page for a section not built yet.
A factory takes the window but a panel should only use `window.model` (the project model)
and `window.runs` (the run store): `_panel(..., models=True)` builds `Panel(model, runs)`.
Pages are built the first time they are shown (`Sections`), so the window opens fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

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


def _panel(module: str, name: str, models: bool = False) -> SectionFactory:
    """A panel of cnnstudio.gui.panels, imported when its section is first shown.

    `models`: the panel takes (model, runs) and may have a `message` signal for the status bar, a
    `show_section(name)` signal and a `look_inside(run_dir, image)` signal (window navigation).
    """

    def make(window: MainWindow) -> QWidget:
        import importlib

        try:
            panel = importlib.import_module(f"cnnstudio.gui.panels.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cnnstudio.gui.panels.{module}":
                raise
            title = name.removesuffix("Panel")
            return placeholder(title, f"The {title} panel is not part of this build yet.")(window)
        if not models:
            return getattr(panel, name)(window)
        page = getattr(panel, name)(window.model, window.runs)
        message = getattr(page, "message", None)
        if message is not None:
            message.connect(lambda text: window.statusBar().showMessage(text, 10_000))
        show_section = getattr(page, "show_section", None)
        if show_section is not None:
            show_section.connect(window.show_section)
        look_inside = getattr(page, "look_inside", None)  # (run_dir, image): the Inside section shows it
        if look_inside is not None:
            look_inside.connect(window.look_inside)
        return page

    return make


def _inside(window: MainWindow) -> QWidget:
    """Feature maps, saliency, embedding map, histograms; the editor's card clicks pick its layer."""
    from cnnstudio.gui.panels.inspect_panel import section

    return section(window)


class Sections(Mapping[str, QWidget]):
    """The window's pages by section name; a page is built by its factory when first asked for."""

    def __init__(self, window: MainWindow, stack: QStackedWidget):
        self.window = window
        self.stack = stack
        self.built: dict[str, QWidget] = {}
        self._slots: dict[str, QWidget] = {}
        for name in SECTIONS:
            slot = QWidget()  # stands in the stack until the page exists
            self._slots[name] = slot
            stack.addWidget(slot)

    def __getitem__(self, name: str) -> QWidget:
        if name not in SECTIONS:
            raise KeyError(name)
        page = self.built.get(name)
        if page is None:
            page = SECTIONS[name](self.window)
            self.built[name] = page
            slot = self._slots.pop(name)
            current = self.stack.currentWidget() is slot
            self.stack.insertWidget(self.stack.indexOf(slot), page)
            self.stack.removeWidget(slot)
            slot.deleteLater()
            if current:
                self.stack.setCurrentWidget(page)
        return page

    def __iter__(self) -> Iterator[str]:
        return iter(SECTIONS)

    def __len__(self) -> int:
        return len(SECTIONS)


SECTIONS: dict[str, SectionFactory] = {
    "Architecture": _architecture,
    "Data": _panel("data_panel", "DataPanel", models=True),
    "Training": _panel("training_panel", "TrainingPanel", models=True),
    "Runs": _panel("runs_panel", "RunsPanel", models=True),
    "Export": _panel("export_panel", "ExportPanel", models=True),
    "Experiments": _panel("experiments_panel", "ExperimentsPanel", models=True),
    "Inside": _inside,
}

ICONS = {"Architecture": "◇", "Data": "▦", "Training": "▶", "Runs": "≡", "Export": "⇪", "Experiments": "⁂",
         "Inside": "◉"}


def _install_field_extras() -> None:
    """The Experiments section's "vary" toggle beside each project setting of every form."""
    from cnnstudio.gui.panels.experiments_vary import install

    install()


_install_field_extras()


def register(name: str, factory: SectionFactory, icon: str = "•") -> None:
    """Add or replace a section (panels call this when they land)."""
    SECTIONS[name] = factory
    ICONS[name] = icon
