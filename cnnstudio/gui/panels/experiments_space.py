"""The search-space editor of the Experiments section, generated from the ParamSpecs.

Every field of the project schema's training, augmentation and preprocessing sections,
every numeric or choice parameter of each layer, and the zoo knobs of a project made from
the zoo is a row with a "Vary" box; ticking it opens its values ("0, 10, 20" or
"1e-4 .. 1e-1 log"). The rows come from the same specs as the settings forms and the
inspector, so a new field appears here by itself. `space()` is the SPACE.json dict.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.errors import StudioError
from cnnstudio.experiments.space import VARIABLE_SECTIONS, SettingResolver, parse_space
from cnnstudio.experiments.space_text import rule_from_text, suggested_text
from cnnstudio.experiments.sweep_file import OBJECTIVES
from cnnstudio.graph.params import ParamSpec
from cnnstudio.gui.panels.experiments_vary import DRAFT

VARIABLE_KINDS = ("int", "float", "bool", "choice")
KEY_ROLE = Qt.ItemDataRole.UserRole


class SpaceEditor(QWidget):
    """Rows of settings with a Vary box and a values cell; `changed` after every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Setting (tick to vary)", "Values"])
        self.tree.headerItem().setToolTip(1, "Choices: 0, 10, 20   ·   a range: 1e-4 .. 1e-1 log   ·   "
                                             "whole numbers: 4 .. 16 step 4")
        self.tree.setUniformRowHeights(True)
        self.tree.itemChanged.connect(self._item_changed)
        layout.addWidget(self.tree, 1)
        self.problem = QLabel(objectName="SpaceProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d64541")
        layout.addWidget(self.problem)
        self.project: Any = None
        self.grid = False  # the grid sampler needs every range enumerable
        self._specs: dict[str, ParamSpec] = {}
        # The settings forms' "vary" toggles and these rows edit one draft (experiments_vary).
        unsubscribe = DRAFT.subscribe(self._draft_changed)
        self.destroyed.connect(lambda *_args: unsubscribe())

    def set_grid(self, grid: bool) -> None:
        self.grid = grid
        self._check()

    # ---- building -----------------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        """Rebuild the rows for `project`, keeping what was ticked where the key still exists."""
        kept = dict(DRAFT.values)
        self.project = project
        self._specs.clear()
        self.tree.blockSignals(True)
        self.tree.clear()
        from cnnstudio.project import schema

        for section in VARIABLE_SECTIONS:
            group = self._group(section.capitalize())
            group.setExpanded(section == "training")
            for spec in schema.SECTIONS[section]:
                if spec.kind in VARIABLE_KINDS and f"{section}.{spec.name}" != "training.device":
                    self._row(group, f"{section}.{spec.name}", spec, project.section(section).get(spec.name))
        resolver = SettingResolver(project)
        origin = resolver.zoo_origin()
        if origin is not None:
            from cnnstudio import zoo

            family = zoo.describe(origin.family)
            group = self._group(f"Zoo: {family.title}")
            for spec in family.knobs:
                if spec.kind in VARIABLE_KINDS:
                    self._row(group, f"zoo:{spec.name}", spec, origin.knobs.get(spec.name))
        layers = self._group("Layers")
        from cnnstudio.graph import catalogue

        for node in project.graph:
            specs = [s for s in catalogue.get(node.type).params if s.kind in VARIABLE_KINDS]
            if not specs:
                continue
            parent = QTreeWidgetItem(layers, [node.name])
            for spec in specs:
                self._row(parent, f"node:{node.name}.{spec.name}", spec, node.params.get(spec.name, spec.default))
        for key, text in kept.items():
            item = self._find(key)
            if item is not None:
                item.setCheckState(0, Qt.CheckState.Checked)
                item.setText(1, text)
                self._reveal(item)
        self.tree.blockSignals(False)
        self.tree.resizeColumnToContents(0)
        self._check()

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        return item

    def _row(self, parent: QTreeWidgetItem, key: str, spec: ParamSpec, current: Any) -> None:
        item = QTreeWidgetItem(parent, [spec.title, ""])
        item.setData(0, KEY_ROLE, key)
        item.setToolTip(0, f"{key}: {spec.help}")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(0, Qt.CheckState.Unchecked)
        item.setData(1, KEY_ROLE, suggested_text(spec, current))
        self._specs[key] = spec

    # ---- reading ------------------------------------------------------------------------
    def _items(self):
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item.data(0, KEY_ROLE):
                yield item
            stack.extend(item.child(i) for i in range(item.childCount()))

    def _find(self, key: str) -> QTreeWidgetItem | None:
        return next((item for item in self._items() if item.data(0, KEY_ROLE) == key), None)

    def _ticked(self) -> dict[str, str]:
        return {item.data(0, KEY_ROLE): item.text(1) for item in self._items()
                if item.checkState(0) == Qt.CheckState.Checked}

    def vary(self, key: str, text: str | None = None) -> None:
        """Tick `key` (with `text` as its values, else the suggestion) — the Vary box, by code."""
        item = self._find(key)
        if item is None:
            raise KeyError(key)
        item.setCheckState(0, Qt.CheckState.Checked)
        if text is not None:
            item.setText(1, text)

    def space(self) -> dict[str, Any]:
        """SPACE.json for the ticked rows; raises SpaceError naming the bad key."""
        rules = {key: rule_from_text(self._specs[key], key, text) for key, text in self._ticked().items()}
        if not rules:
            from cnnstudio.experiments.space import SpaceError

            raise SpaceError("tick Vary beside at least one setting.")
        parsed = parse_space(rules, self.project)
        if self.grid:
            parsed.grid()  # names the first range a grid cannot enumerate
        return rules

    def problem_text(self) -> str:
        return self.problem.text()

    # ---- editing ------------------------------------------------------------------------
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if not item.data(0, KEY_ROLE):
            return
        self.tree.blockSignals(True)
        if column == 0:
            if item.checkState(0) == Qt.CheckState.Checked:
                if not item.text(1):
                    item.setText(1, item.data(1, KEY_ROLE))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            else:
                item.setText(1, "")
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.tree.blockSignals(False)
        key = item.data(0, KEY_ROLE)
        if item.checkState(0) == Qt.CheckState.Checked:
            DRAFT.set(key, item.text(1))
        else:
            DRAFT.remove(key)
        self._check()
        self.changed.emit()

    def _draft_changed(self, key: str) -> None:
        """A "vary" toggle in a settings form (or another editor) changed the draft: follow it."""
        item = self._find(key)
        if item is None:
            return
        wanted = key in DRAFT.values
        checked = item.checkState(0) == Qt.CheckState.Checked
        if wanted == checked and (not wanted or item.text(1) == DRAFT.values[key]):
            return
        self.tree.blockSignals(True)
        if wanted:
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setText(1, DRAFT.values[key])
            self._reveal(item)
        else:
            item.setCheckState(0, Qt.CheckState.Unchecked)
            item.setText(1, "")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.tree.blockSignals(False)
        self._check()
        self.changed.emit()

    def _reveal(self, item: QTreeWidgetItem) -> None:
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        parent = item.parent()
        while parent is not None:
            parent.setExpanded(True)
            parent = parent.parent()

    def _check(self) -> None:
        if not self._ticked():
            self.problem.setText("")
            return
        try:
            self.space()
        except StudioError as exc:
            self.problem.setText(str(exc))
        else:
            self.problem.setText("")


class SweepOptions(QWidget):
    """Sampler, pruner, objectives and budget of a sweep (the `cnnstudio sweep` options)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 4, 0, 0)
        self.sampler_box = QComboBox()
        self.sampler_box.addItems(["grid", "random", "tpe"])
        self.pruner_box = QComboBox()
        self.pruner_box.addItems(["none", "median", "asha", "hyperband"])
        self.objective_box = QComboBox()
        self.objective_box.addItems(list(OBJECTIVES))
        self.second_box = QComboBox()
        self.second_box.addItems(["none", "macs", "params", "images_per_second"])
        self.trials_box = QSpinBox()
        self.trials_box.setRange(0, 100_000)
        self.trials_box.setSpecialValueText("all (grid)")
        self.trials_box.setValue(0)
        self.parallel_box = QSpinBox()
        self.parallel_box.setRange(0, 64)
        self.parallel_box.setSpecialValueText("auto")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(0, 100_000)
        self.epochs_box.setSpecialValueText("project's")
        for label, widget, tip in (
            ("Sampler", self.sampler_box, "grid: every combination; random; TPE learns from finished trials."),
            ("Pruner", self.pruner_box, "Stop hopeless trials early from their per-epoch validation metric."),
            ("Objective", self.objective_box, "What a trial is judged by (its best epoch)."),
            ("Second objective", self.second_box, "A cost to trade against: the sweep keeps a Pareto front."),
            ("Trials", self.trials_box, "At most this many trials (random and TPE need it)."),
            ("In parallel", self.parallel_box, "auto: one trial per GPU, else one on the CPU."),
            ("Epochs per trial", self.epochs_box, "Overrides the project's epochs for every trial."),
        ):
            widget.setToolTip(tip)
            form.addRow(label, widget)
