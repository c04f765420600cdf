"""The validation images of one confusion-matrix cell, most confident first; exclude or relabel.

Curation changes only the project (Project.exclusions / Project.relabels): the files on
disk are never touched. Retrain to see the effect. "Look inside" (button, a tile's context
menu or a double-click) asks for one image to be opened in the Inside section with the run
as source: `look_inside(run_dir, image)`, which the panel passes on to the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
)

from cnnstudio.gui.panels.common import muted
from cnnstudio.gui.panels.thumbs import ThumbnailLoader
from cnnstudio.project.commands import Composite, SetField
from cnnstudio.project.model import ProjectModel


def cell_entries(predictions: dict[str, Any] | None, true: int, predicted: int) -> list[dict[str, Any]]:
    """Rows of val_predictions.json in the cell, sorted by confidence (highest first)."""
    rows = [r for r in (predictions or {}).get("predictions", [])
            if r.get("label") == true and r.get("predicted") == predicted]
    return sorted(rows, key=lambda r: -float(r.get("confidence", 0.0)))


def relative_to_dataset(project: Any, path: str) -> str | None:
    folder = project.dataset_folder()
    if folder is None:
        return None
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except ValueError:
        return None


LOOK_TIP = ("Open the selected image in the Inside section: this run's feature maps and saliency for it, "
            "at its last checkpoint (also: double-click a tile, or its context menu).")


class CellDialog(QDialog):
    look_inside = Signal(str, str)  # run directory, image path

    def __init__(self, model: ProjectModel, classes: list[str], entries: list[dict[str, Any]],
                 true: int, predicted: int, parent=None, run_dir: str | Path | None = None):
        super().__init__(parent)
        self.model, self.classes = model, classes
        self.run_dir = None if run_dir is None else str(run_dir)
        self.project = model.project
        name = lambda i: classes[i] if i < len(classes) else str(i)  # noqa: E731
        self.setWindowTitle(f"True {name(true)} → predicted {name(predicted)}")
        self.resize(760, 520)
        layout = QVBoxLayout(self)
        verdict = "correct" if true == predicted else "mistakes"
        layout.addWidget(QLabel(f"<b>{len(entries)}</b> validation image(s), {verdict}, most confident first."))
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(96, 96))
        self.list.setGridSize(QSize(124, 146))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setWordWrap(True)
        self.list.setSpacing(4)
        blank = QPixmap(96, 96)
        blank.fill(QColor(0, 0, 0, 0))  # full-size placeholder until the thumbnail arrives
        self.thumbs = ThumbnailLoader(96, self)
        self.thumbs.loaded.connect(self._loaded)
        self.items: dict[str, QListWidgetItem] = {}
        for entry in entries:
            item = QListWidgetItem(QIcon(blank), f"{entry.get('confidence', 0):.0%}\n{Path(entry['path']).name}")
            item.setSizeHint(QSize(120, 140))
            item.setData(Qt.ItemDataRole.UserRole, entry["path"])
            item.setToolTip(f"{entry['path']}\nconfidence {entry.get('confidence', 0):.3f}")
            self.list.addItem(item)
            self.items[entry["path"]] = item
        self.thumbs.request([e["path"] for e in reversed(entries)])
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._tile_menu)
        self.list.itemDoubleClicked.connect(self._look_inside_item)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.look_button = QPushButton("Look inside")
        self.look_button.clicked.connect(self.look_inside_selected)
        self.look_button.setVisible(self.run_dir is not None)
        row.addWidget(self.look_button)
        row.addSpacing(12)
        self.exclude_button = QPushButton("Exclude from project")
        self.exclude_button.setToolTip("Leave the selected files out of training (the files stay on disk).")
        self.exclude_button.clicked.connect(self.exclude_selected)
        self.relabel_box = QComboBox()
        self.relabel_box.addItems(classes)
        self.relabel_box.setCurrentIndex(min(predicted, len(classes) - 1))
        self.relabel_button = QPushButton("Relabel as")
        self.relabel_button.setToolTip("Give the selected files this class in the project (disk untouched).")
        self.relabel_button.clicked.connect(lambda: self.relabel_selected(self.relabel_box.currentText()))
        row.addWidget(self.exclude_button)
        row.addSpacing(12)
        row.addWidget(self.relabel_button)
        row.addWidget(self.relabel_box)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = muted("Changes apply to the project; start a new run to retrain with them.")
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._selection_changed()

    def _loaded(self, batch) -> None:
        for path, pixmap in batch:
            item = self.items.get(path)
            if item is not None and not pixmap.isNull():
                item.setIcon(QIcon(pixmap))

    def selected_paths(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def _selection_changed(self) -> None:
        one = len(self.list.selectedItems()) == 1
        self.look_button.setEnabled(one and self.run_dir is not None)
        self.look_button.setToolTip(LOOK_TIP if one else "Select one image to open it in the Inside section.")

    def look_inside_selected(self) -> bool:
        paths = self.selected_paths()
        return len(paths) == 1 and self._look_inside(paths[0])

    def _look_inside_item(self, item: QListWidgetItem) -> None:
        self._look_inside(item.data(Qt.ItemDataRole.UserRole))

    def _look_inside(self, path: str) -> bool:
        """Hand the image over (the dialog closes: the Inside section takes its place)."""
        if self.run_dir is None:
            return False
        self.look_inside.emit(self.run_dir, path)
        self.accept()
        return True

    def tile_menu(self, item: QListWidgetItem) -> QMenu:
        """The context menu of one tile: look inside it, exclude it, relabel it."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        path = item.data(Qt.ItemDataRole.UserRole)
        look = menu.addAction("Look inside", lambda: self._look_inside(path))
        look.setEnabled(self.run_dir is not None)
        menu.addSeparator()
        menu.addAction("Exclude from project", self.exclude_selected)
        menu.addAction(f"Relabel as '{self.relabel_box.currentText()}'",
                       lambda: self.relabel_selected(self.relabel_box.currentText()))
        return menu

    def _tile_menu(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        if not item.isSelected():  # the menu acts on the tile under the pointer
            self.list.setCurrentItem(item)
        self.tile_menu(item).popup(self.list.viewport().mapToGlobal(position))

    def exclude_selected(self) -> int:
        exclusions, relabels = list(self.project.exclusions), dict(self.project.relabels)
        done = 0
        for path in self.selected_paths():
            rel = relative_to_dataset(self.project, path)
            if rel is not None and rel not in exclusions:
                exclusions.append(rel)
                relabels.pop(rel, None)
                self.items[path].setText(f"excluded\n{Path(path).name}")
                done += 1
        self._changed(f"{done} file(s) excluded from the project.", done, exclusions, relabels,
                      f"Exclude {done} file(s)")
        return done

    def relabel_selected(self, class_name: str) -> int:
        exclusions, relabels = list(self.project.exclusions), dict(self.project.relabels)
        done = 0
        for path in self.selected_paths():
            rel = relative_to_dataset(self.project, path)
            if rel is not None:
                relabels[rel] = class_name
                if rel in exclusions:
                    exclusions.remove(rel)
                self.items[path].setText(f"→ {class_name}\n{Path(path).name}")
                done += 1
        self._changed(f"{done} file(s) relabelled as '{class_name}' in the project.", done, exclusions, relabels,
                      f"Relabel {done} file(s) as '{class_name}'")
        return done

    def _changed(self, message: str, done: int, exclusions: list[str], relabels: dict[str, str], label: str) -> None:
        """One undoable step on the project model (Ctrl+Z in the window brings the files back)."""
        self.status.setText(message + (" Start a new run to retrain." if done else ""))
        if done:
            self.model.push(Composite(label, [SetField("exclusions", exclusions), SetField("relabels", relabels)]))

    def done(self, result: int) -> None:
        self.thumbs.shutdown()
        super().done(result)
