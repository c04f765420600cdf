"""The inspector: the selected layer's parameters as a generated form, name and trainable flag."""

from __future__ import annotations

import copy
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.graph import catalogue
from cnnstudio.graph import commands as cmd
from cnnstudio.graph.analysis import Analysis, human_bytes, human_count
from cnnstudio.graph.catalogue import format_shape
from cnnstudio.graph.model import Graph
from cnnstudio.gui.widgets.param_form import ParamForm


class Inspector(QScrollArea):
    def __init__(self, graph: Graph, push: Callable[[cmd.Command], None], parent=None):
        super().__init__(parent)
        self.graph = graph
        self.push = push
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        self.node: str | None = None
        self.block: str | None = None
        self._snapshot: tuple | None = None
        self.form: ParamForm | None = None
        self.ungroup_requested: Callable[[str], None] = lambda group: None
        self.show_nothing()

    def _page(self) -> QVBoxLayout:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        heading = QLabel("Inspector", objectName="PanelTitle")
        layout.addWidget(heading)
        self.setWidget(page)
        self.facts = None
        return layout

    def show_nothing(self, count: int = 0) -> None:
        self.node = self.block = None
        self._snapshot = None
        self.form = None
        layout = self._page()
        text = f"{count} layers selected." if count > 1 else "Select a layer to edit its parameters."
        hint = QLabel(text + "\n\nDrag layers from the palette, connect an output port (bottom) "
                      "to another layer, press F to fit the view.")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        layout.addWidget(hint)
        layout.addStretch(1)

    def show_block(self, group: str, analysis: Analysis) -> None:
        self.node, self.block = None, group
        self.form = None
        members = self.graph.members(group)
        summary = analysis.block_summary(self.graph, members)
        layout = self._page()
        title = QLabel(f"<b>{group.rsplit('/', 1)[-1]}</b>", objectName="PanelTitle")
        layout.addWidget(title)
        info = QLabel(
            f"Block <code>{group}</code><br>{len(members)} layers<br>"
            f"{', '.join(format_shape(s) for s in summary['inputs']) or '—'} → "
            f"{', '.join(format_shape(s) for s in summary['outputs']) or '—'}<br>"
            f"{human_count(summary['params'])} parameters · {human_count(summary['macs'])} MACs"
        )
        info.setWordWrap(True)
        layout.addWidget(info)
        button = QPushButton("Ungroup")
        button.setToolTip("Dissolve this block: its layers stay, the grouping goes.")
        button.clicked.connect(lambda: self.ungroup_requested(group))
        layout.addWidget(button)
        layout.addStretch(1)

    def show_node(self, name: str, analysis: Analysis) -> None:
        node = self.graph[name]
        layer = catalogue.get(node.type)
        self.node, self.block = name, None
        self._snapshot = (name, copy.deepcopy(node.params), node.trainable)
        layout = self._page()
        head = QFormLayout()
        self.name_edit = QLineEdit(name)
        self.name_edit.setToolTip("The layer's name (also its Keras layer name).")
        self.name_edit.editingFinished.connect(self._rename)
        head.addRow(QLabel("<b>Name</b>"), self.name_edit)
        type_label = QLabel(f"{layer.name} <span style='color:gray'>· {layer.category}</span>")
        head.addRow(QLabel("Type"), type_label)
        self.trainable = QCheckBox("Trainable")
        self.trainable.setChecked(node.trainable)
        self.trainable.setToolTip("Frozen layers keep their weights during training (fine-tuning).")
        self.trainable.toggled.connect(lambda v: self._run(lambda: cmd.SetTrainable([self.node], bool(v))))
        if layer.weighted:
            head.addRow(QLabel(""), self.trainable)
        layout.addLayout(head)
        about = QLabel(layer.help)
        about.setWordWrap(True)
        about.setEnabled(False)
        layout.addWidget(about)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.facts)
        if layer.params:
            title = QLabel("Parameters", objectName="PanelTitle")
            layout.addWidget(title)
            self.form = ParamForm(layer.params, node.params, node=name)
            self.form.changed.connect(self._param_changed)
            layout.addWidget(self.form)
        else:
            self.form = None
        layout.addStretch(1)
        self.update_facts(analysis)

    def update_facts(self, analysis: Analysis) -> None:
        if self.node is None or self.node not in analysis.nodes:
            return
        result = analysis.nodes[self.node]
        rf = result.receptive_field
        lines = [
            f"Output <b>{format_shape(result.output_shape)}</b>",
            f"{result.param_count:,} parameters ({result.non_trainable_params:,} frozen)",
            f"{human_count(result.macs)} MACs · {human_bytes(result.activation_bytes)} activations",
            "Receptive field " + ("whole image" if rf is None else f"{rf[0]}×{rf[1]}"),
        ]
        for diagnostic in analysis.diagnostics_for(self.node):
            colour = "#d64541" if diagnostic.severity == "error" else "#c58a00"
            lines.append(f"<span style='color:{colour}'>● {diagnostic.message}</span>")
        self.facts.setText("<br>".join(lines))

    def refresh(self, analysis: Analysis, selected: list[str]) -> None:
        """Follow the selection; rebuild the form only when the node changed underneath it."""
        if self.node is not None and self.node in self.graph and selected == [self.node]:
            node = self.graph[self.node]
            if self._snapshot != (self.node, node.params, node.trainable):
                self.show_node(self.node, analysis)
            else:
                self.update_facts(analysis)
            return
        if len(selected) == 1 and selected[0] in self.graph:
            self.show_node(selected[0], analysis)
        else:
            self.show_nothing(len(selected))

    def _run(self, make: Callable[[], cmd.Command]) -> None:
        try:
            self.push(make())
        except StudioError as exc:
            if self.facts is not None:
                self.facts.setText(f"<span style='color:#d64541'>{exc}</span>")

    def _param_changed(self, key: str, value) -> None:
        if self.node is None:
            return
        params = copy.deepcopy(self.graph[self.node].params)
        if params.get(key, catalogue.get(self.graph[self.node].type).spec(key).default) == value and key in params:
            return
        params[key] = value
        node = self.graph[self.node]
        self._snapshot = (self.node, copy.deepcopy(params), node.trainable)  # no rebuild under the cursor
        self._run(lambda: cmd.SetParams(self.node, params))

    def _rename(self) -> None:
        new = self.name_edit.text().strip()
        if self.node is None or new == self.node:
            return
        old = self.node
        self.node = new if new not in self.graph else old
        self._run(lambda: cmd.Rename(old, new))
        if old in self.graph:  # refused: put the old name back
            self.node = old
            self.name_edit.setText(old)
