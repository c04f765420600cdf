"""The Architecture section: palette | canvas | inspector, with the table/diagnostics drawer.

Every edit is a command from cnnstudio.graph.commands pushed on the project model's one undo
stack (cnnstudio.project.model), which also holds the settings edits: undo lives in the core.
"""

from __future__ import annotations

import json
import time

from PySide6.QtCore import QMimeData, QPointF, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.graph import commands as cmd
from cnnstudio.graph.analysis import Analysis
from cnnstudio.graph.blocks import BLOCKS, build_block
from cnnstudio.graph.model import Graph
from cnnstudio.gui.editor.inspector import Inspector
from cnnstudio.gui.editor.palette import Palette
from cnnstudio.gui.editor.scene import BLOCK_PREFIX, EditorScene
from cnnstudio.gui.editor.tables import DiagnosticsList, LayerTable
from cnnstudio.gui.editor.toolbar import canvas_toolbar
from cnnstudio.gui.editor.view import EditorView
from cnnstudio.gui.widgets.param_form import ParamForm, refusal
from cnnstudio.project.file import Project
from cnnstudio.project.model import ProjectModel

NODES_MIME = "application/x-cnnstudio-nodes"


class BlockDialog(QDialog):
    """The arguments of a block before it is inserted."""

    def __init__(self, block: str, parent=None):
        super().__init__(parent)
        kind = BLOCKS[block]
        self.setWindowTitle(f"Insert {kind.label}")
        self.setMinimumWidth(380)
        self.values = kind.defaults()
        layout = QVBoxLayout(self)
        about = QLabel(kind.help)
        about.setWordWrap(True)
        layout.addWidget(about)
        self.name = QLineEdit(block)
        self.name.setToolTip("The block's name: its layers are grouped under it.")
        layout.addWidget(QLabel("Block name"))
        layout.addWidget(self.name)
        self.form = ParamForm(kind.params, self.values, where=kind.label)
        self.form.changed.connect(lambda key, value: self.values.__setitem__(key, value))
        layout.addWidget(self.form)
        self.refused = QLabel(objectName="FieldError", wordWrap=True)  # why OK did nothing
        self.refused.hide()
        layout.addWidget(self.refused)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.buttons = buttons

    def accept(self) -> None:
        """Insert only the values shown: a field in red refuses, naming it."""
        refused = refusal(self, "Insert")
        if refused:
            self.refused.setText(refused)
            self.refused.show()
            self.adjustSize()  # room for the message without squeezing the fields
            return
        super().accept()


class ArchitectureEditor(QWidget):
    analysed = Signal(object)  # Analysis after each edit
    message = Signal(str)  # short status messages
    dirty_changed = Signal(bool)

    def __init__(self, graph: Graph, parent=None, model: ProjectModel | None = None):
        super().__init__(parent)
        self.graph = graph
        # The window passes its project model (one history for graph and settings edits);
        # alone, the editor keeps a model of its own around the graph.
        self.model = model if model is not None else ProjectModel(Project(graph=graph, name=graph.name))
        self._was_dirty = self.model.dirty
        self._unsubscribe = self.model.subscribe(self._model_changed)
        self.scene = EditorScene(graph, self.push, self)
        self.view = EditorView(self.scene)
        self.palette = Palette()
        self.inspector = Inspector(graph, self.push)
        self.inspector.ungroup_requested = self.ungroup
        self.table = LayerTable()
        self.diagnostics = DiagnosticsList()
        self.drawer = QTabWidget()
        self.drawer.setDocumentMode(True)
        self.drawer.addTab(self.table, "Layers")
        self.drawer.addTab(self.diagnostics, "Diagnostics")

        canvas = QWidget()
        canvas_layout = QVBoxLayout(canvas)
        canvas_layout.setContentsMargins(0, 0, 0, 0)
        canvas_layout.setSpacing(0)
        canvas_layout.addWidget(canvas_toolbar(self))
        canvas_layout.addWidget(self.view)
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(canvas)
        centre.addWidget(self.drawer)
        centre.setStretchFactor(0, 4)
        centre.setStretchFactor(1, 1)
        centre.setSizes([680, 170])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.palette)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.inspector)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([210, 860, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.scene.analysed.connect(self._analysed)
        self.scene.problem.connect(self.message)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.table.picked.connect(self.reveal)
        self.diagnostics.jump.connect(self.jump_to)
        self.palette.activated.connect(self._palette_activated)
        self.view.dropped.connect(self._dropped)
        self._clipboard: list[dict] = []
        self.last_refresh_s = 0.0
        self._initial_view()

    def _initial_view(self) -> None:
        # The scene opened a big graph with its stages collapsed (scene.opening_collapse).
        self._analysed(self.scene.analysis)

    def _model_changed(self, change) -> None:
        if change.kind == "graph" and change.undo:
            self.scene.flush()
        if self.model.dirty != self._was_dirty:
            self._was_dirty = self.model.dirty
            self.dirty_changed.emit(self._was_dirty)

    # ---- commands ---------------------------------------------------------------------------
    def push(self, command: cmd.Command) -> None:
        """Run a core command and record it; StudioError propagates before anything is recorded."""
        start = time.perf_counter()
        self.model.push(command)
        self.scene.flush()
        self.last_refresh_s = time.perf_counter() - start

    def run(self, make) -> bool:
        try:
            self.push(make())
        except StudioError as exc:
            self.message.emit(str(exc))
            return False
        return True

    def undo(self) -> None:
        self.model.undo()  # graph or settings: the project has one history

    def redo(self) -> None:
        self.model.redo()

    # ---- selection --------------------------------------------------------------------------
    def selected(self) -> list[str]:
        return self.scene.selected_names()

    def select(self, names: list[str]) -> None:
        self.scene.select(names)
        self._selection_changed()

    def jump_to(self, name: str) -> None:
        self.reveal([name])

    def reveal(self, names: list[str]) -> None:
        """Show these layers themselves (opening the blocks around them), select and inspect them."""
        names = [n for n in names if n in self.graph]
        if not names:
            return
        self.scene.reveal(names)
        self._selection_changed()
        self.view.centerOn(self.scene.cards[self.scene.representative(names[0])])

    def _selection_changed(self) -> None:
        keys = self.scene.selected_keys()
        if len(keys) == 1 and keys[0].startswith(BLOCK_PREFIX):
            self.inspector.show_block(keys[0][len(BLOCK_PREFIX):], self.scene.analysis)
        else:
            self.inspector.refresh(self.scene.analysis, keys)
        self.table.show_selection(self.selected())

    def _analysed(self, analysis: Analysis) -> None:
        self.table.set_analysis(analysis, self.selected())
        self.diagnostics.set_analysis(analysis)
        errors = len(analysis.errors)
        self.drawer.setTabText(1, f"Diagnostics ({len(analysis.diagnostics)})" if analysis.diagnostics
                               else "Diagnostics")
        self.drawer.tabBar().setTabTextColor(1, Qt.GlobalColor.red if errors else self.palette.palette().text().color())
        keys = self.scene.selected_keys()
        if len(keys) == 1 and keys[0].startswith(BLOCK_PREFIX):
            self.inspector.show_block(keys[0][len(BLOCK_PREFIX):], analysis)
        else:
            self.inspector.refresh(analysis, keys)
        self.analysed.emit(analysis)

    # ---- palette ------------------------------------------------------------------------------
    def _anchor(self) -> str | None:
        """Where an appended layer goes: after the selection, else after the last output."""
        selected = self.selected()
        if selected:
            return selected[-1]
        outputs = self.graph.outputs
        return outputs[-1] if outputs else (self.graph.names[-1] if len(self.graph) else None)

    def add_layer(self, type_name: str, after: str | None = None, position: QPointF | None = None) -> str | None:
        point = (round(position.x(), 1), round(position.y(), 1)) if position is not None else None
        before = set(self.graph.names)
        if not self.run(lambda: cmd.add_after(self.graph, type_name, after, point)):
            return None
        added = [n for n in self.graph.names if n not in before]
        if added:
            self.select(added)
        return added[0] if added else None

    def insert_block(self, block: str, after: str | None = None, values: dict | None = None,
                     group: str | None = None) -> str | None:
        after = after if after is not None else self._anchor()
        if after is None:
            self.message.emit("Add an Input layer first: a block goes after a layer.")
            return None
        before = set(self.graph.names)
        label = f"Insert {BLOCKS[block].label}"
        if not self.run(lambda: cmd.insert_with(self.graph, label,
                                                lambda g: build_block(g, block, after, group, **(values or {})),
                                                after=after)):
            return None
        added = [n for n in self.graph.names if n not in before]
        self.scene.auto_layout(record=False)
        self.select(added)
        return added[-1] if added else None

    def _palette_activated(self, kind: str, name: str) -> None:
        if kind == "layer":
            self.add_layer(name, self._anchor())
        else:
            self.ask_block(name, self._anchor())

    def ask_block(self, block: str, after: str | None) -> None:
        dialog = BlockDialog(block, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.insert_block(block, after, dialog.values, dialog.name.text().strip() or None)

    def _dropped(self, kind: str, name: str, point: QPointF, onto: str) -> None:
        after = onto if onto and not onto.startswith(BLOCK_PREFIX) else None
        if kind == "layer":
            self.add_layer(name, after, None if after else point)
        else:
            self.ask_block(name, after or self._anchor())

    # ---- editing actions ------------------------------------------------------------------------
    def delete_selected(self) -> None:
        self.scene.delete_selection()  # layers and edges, one undo step

    def copy_selected(self) -> None:
        names = self.selected()
        if not names:
            return
        self._clipboard = [self.graph[n].to_dict() for n in names]
        mime = QMimeData()
        mime.setData(NODES_MIME, json.dumps(self._clipboard).encode())
        mime.setText(json.dumps(self._clipboard, indent=1))
        QGuiApplication.clipboard().setMimeData(mime)

    def cut_selected(self) -> None:
        self.copy_selected()
        names = self.selected()
        if names:
            self.run(lambda: cmd.RemoveNodes(names, bridge=True))

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        nodes = self._clipboard
        if mime is not None and mime.hasFormat(NODES_MIME):
            try:
                nodes = json.loads(bytes(mime.data(NODES_MIME).data()).decode())
            except (ValueError, UnicodeDecodeError):
                pass
        self._paste_nodes(nodes, keep_external=False, label="Paste")

    def duplicate(self) -> None:
        names = self.selected()
        self._paste_nodes([self.graph[n].to_dict() for n in names], keep_external=True, label="Duplicate")

    def _paste_nodes(self, nodes: list[dict], keep_external: bool, label: str) -> None:
        if not nodes:
            return
        before = set(self.graph.names)
        if self.run(lambda: cmd.paste(self.graph, nodes, offset=(40.0, 40.0), keep_external=keep_external,
                                      label=label)):
            self.select([n for n in self.graph.names if n not in before])

    def group_selected(self, title: str | None = None) -> None:
        names = self.selected()
        if not names:
            self.message.emit("Select the layers to group first.")
            return
        if title is None:
            title, ok = QInputDialog.getText(self, "Group into a block", "Block name:", text="block")
            if not ok:
                return
        self.run(lambda: cmd.group_nodes(self.graph, names, title))

    def ungroup(self, group: str | None = None) -> None:
        if group is None:
            keys = self.scene.selected_keys()
            blocks = [k[len(BLOCK_PREFIX):] for k in keys if k.startswith(BLOCK_PREFIX)]
            groups = {self.graph[k].group for k in keys if not k.startswith(BLOCK_PREFIX) and self.graph[k].group}
            group = blocks[0] if blocks else (sorted(groups, key=len)[-1] if groups else None)
        if not group:
            self.message.emit("Select a block (or a layer inside one) to ungroup.")
            return
        self.scene.collapsed.discard(group)
        self.run(lambda: cmd.Ungroup(group))

    def collapse_selected(self) -> None:
        if self.scene.collapse_around(self.scene.selected_keys()) is None:
            self.message.emit("Select a layer inside a block (or a block inside a stage) to collapse it.")

    def expand_selected(self) -> None:
        keys = [k[len(BLOCK_PREFIX):] for k in self.scene.selected_keys() if k.startswith(BLOCK_PREFIX)]
        for group in keys:
            self.scene.expand(group)

    def expand_all(self) -> None:
        self.scene.set_collapsed(set())

    def collapse_all(self) -> None:
        self.scene.collapse_level(1)

    def set_trainable_selected(self, trainable: bool) -> None:
        names = self.selected()
        if names:
            self.run(lambda: cmd.SetTrainable(names, trainable))

    def auto_layout(self) -> None:
        self.scene.auto_layout(record=True)
        self.view.fit()

    def export_table(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export layer table", "layers.csv", "CSV (*.csv)")
            if not path:
                return
        self.table.model_.export_csv(path)
        self.message.emit(f"Layer table saved to {path}")

    def detach(self) -> None:
        self._unsubscribe()
        self.scene.detach()
