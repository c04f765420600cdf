"""Recipes in the window: pick one, see what it changes, apply it as one undo step.

`RecipeRow` sits on top of the Training settings; `RecipeSuggestion` shows under a scanned
dataset when its classes are strongly imbalanced. Both open `RecipeDialog`, which lists the
settings the recipe would change (now → after) and applies them through the project
model's `apply_settings` command, so Ctrl+Z takes the whole recipe back.
Alone: `python -m cnnstudio.gui.panels.recipe_dialog [PROJECT]`.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.project import schema
from cnnstudio.project.commands import apply_settings
from cnnstudio.project.model import ProjectModel
from cnnstudio.project.recipes import RECIPES, diff, recipe_changes

#: Largest class / smallest class at which a scanned dataset suggests the imbalanced recipe.
IMBALANCE_RATIO = 4.0


def imbalance(counts: dict[str, int]) -> tuple[float, str, str] | None:
    """(largest / smallest, largest class, smallest class), or None for fewer than two classes."""
    present = {name: count for name, count in counts.items() if count > 0}
    if len(present) < 2:
        return None
    largest = max(present, key=present.__getitem__)
    smallest = min(present, key=present.__getitem__)
    return present[largest] / present[smallest], largest, smallest


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value != "" else "—"


def _title(section: str, key: str) -> str:
    spec = next((s for s in schema.SECTIONS[section] if s.name == key), None)
    return f"{section.capitalize()}: {spec.title if spec else key}"


class RecipeDialog(QDialog):
    """The changes a recipe makes to the open project, and Apply."""

    def __init__(self, model: ProjectModel, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.setWindowTitle("Apply a recipe")
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Recipe"))
        self.chooser = QComboBox()
        for recipe in RECIPES.values():
            self.chooser.addItem(recipe.name, recipe.name)
        row.addWidget(self.chooser, 1)
        layout.addLayout(row)
        self.summary = QLabel(wordWrap=True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Setting", "Now", "After"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.note = QLabel("The architecture and the data are left alone. Undo (Ctrl+Z) takes the whole "
                           "recipe back.", objectName="Muted", wordWrap=True)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.chooser.currentIndexChanged.connect(self._show)
        self.chooser.setCurrentIndex(max(0, self.chooser.findData(name)))
        self._show()
        self.resize(620, 470)

    @property
    def name(self) -> str:
        return str(self.chooser.currentData())

    def _show(self) -> None:
        project = self.model.project
        self.changes = diff(project, recipe_changes(self.name, project))
        self.summary.setText(RECIPES[self.name].summary)
        self.table.setRowCount(len(self.changes))
        for row, change in enumerate(self.changes):
            for column, text in enumerate((_title(change.section, change.key), _shown(change.old),
                                           _shown(change.new))):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.apply_button.setEnabled(bool(self.changes))
        self.apply_button.setToolTip("" if self.changes else "The project already has every setting of this recipe.")

    def apply(self) -> None:
        values: dict[str, dict[str, Any]] = {}
        for change in self.changes:
            values.setdefault(change.section, {})[change.key] = change.new
        try:
            self.model.push(apply_settings(values, f"Apply recipe {self.name}"))
        except StudioError as exc:
            self.note.setText(str(exc))
            return
        self.accept()


class RecipeRow(QWidget):
    """Top of the Training settings: the recipe last applied and a button to apply one."""

    def __init__(self, model: ProjectModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 4)
        row.addWidget(QLabel("Recipe"))
        self.chooser = QComboBox()
        self.chooser.setToolTip("Named sets of settings: pick one and review its changes before applying.")
        # The first entry says that no recipe was applied: a recipe's name here would read as
        # if the project already had its settings.
        self.chooser.addItem("none applied: choose one…", None)
        for recipe in RECIPES.values():
            self.chooser.addItem(recipe.name, recipe.name)
        current = str(model.project.training.get("recipe", "none"))
        self.chooser.setCurrentIndex(max(0, self.chooser.findData(current)) if current in RECIPES else 0)
        row.addWidget(self.chooser, 1)
        self.button = QPushButton("Review…")
        self.button.setToolTip("Show the settings the recipe changes, then apply them as one undoable step.")
        self.button.clicked.connect(self.open_dialog)
        row.addWidget(self.button)
        self.chooser.currentIndexChanged.connect(self._chosen)
        self._chosen()
        self.dialog: RecipeDialog | None = None

    def _chosen(self) -> None:
        self.button.setEnabled(self.chooser.currentData() is not None)

    def open_dialog(self) -> RecipeDialog:
        self.dialog = RecipeDialog(self.model, str(self.chooser.currentData()), self)
        self.dialog.open()
        return self.dialog


class RecipeSuggestion(QFrame):
    """A note under a scanned dataset when a recipe suits it (strong class imbalance)."""

    suggested = Signal(str)

    def __init__(self, model_source, parent: QWidget | None = None):
        super().__init__(parent, objectName="PanelBox")
        self.model_source = model_source  # () -> ProjectModel (the window's, which can be replaced)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 8, 4)
        self.text = QLabel(wordWrap=True)
        column.addWidget(self.text)
        row = QHBoxLayout()
        self.button = QPushButton("Review the imbalanced recipe…")
        self.button.clicked.connect(self.open_dialog)
        row.addWidget(self.button)
        row.addStretch(1)
        column.addLayout(row)
        self.dialog: RecipeDialog | None = None
        self.hide()

    def show_for(self, counts: dict[str, int] | None) -> None:
        found = imbalance(counts or {})
        model = self.model_source()
        if found is None or found[0] < IMBALANCE_RATIO or model is None \
                or model.project.training.get("class_weights") != "none":
            self.hide()
            return
        ratio, largest, smallest = found
        self.text.setText(f"Suggested for {ratio:.0f}:1 classes: the imbalanced recipe (loss weighted by "
                          "class, best checkpoint by macro-F1).")
        self.text.setToolTip(f"'{largest}' has {ratio:.1f}× the images of '{smallest}'.")
        self.show()
        self.suggested.emit("imbalanced")

    def open_dialog(self) -> RecipeDialog:
        self.dialog = RecipeDialog(self.model_source(), "imbalanced", self)
        self.dialog.finished.connect(lambda _result: self.show_for(None) if self._applied() else None)
        self.dialog.open()
        return self.dialog

    def _applied(self) -> bool:
        return self.model_source().project.training.get("class_weights") != "none"


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from cnnstudio.project import Project, load_project

    argv = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication([])
    if argv:
        project = load_project(argv[0])
    else:
        from cnnstudio.graph.model import Graph

        graph = Graph(name="example")
        graph.add_layer("Input", name="input", height=32, width=32, channels=3)
        project = Project(graph=graph)
    dialog = RecipeDialog(ProjectModel(project), "small-data")
    dialog.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
