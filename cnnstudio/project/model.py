"""The open project as an observable model: one undo stack for graph and settings edits.

Panels and the editor take a ProjectModel (not the window): they edit through `push` or
`set_setting` and subscribe to `Change`s. Plain Python callbacks, no Qt, so it is tested
headless and any front end can observe it.

    model = ProjectModel(project)
    unsubscribe = model.subscribe(lambda change: ...)
    model.set_setting("training", "batch_size", 64)      # one undo step, listeners told
    model.push(graph_commands.Rename("fc", "head"))      # graph edits join the same stack
    model.undo(); model.redo()
    model.open(other_project)                            # Change("project"): rebuild views
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnstudio.graph.commands import Command as GraphCommand
from cnnstudio.graph.undo import UndoStack
from cnnstudio.project.commands import ProjectCommand, SetField, SetSetting, as_project_command
from cnnstudio.project.file import Project, save_project


@dataclass(frozen=True)
class Change:
    """What changed. kind: "project" (another project opened: rebuild everything), "graph",
    "settings" (section/key say which), "fields" (key names the project field), "saved" (written
    to model.path; key holds the path it had before, "" if untitled), "state" (dirty flag,
    undo/redo availability or the file path changed; nothing in the content)."""

    kind: str
    section: str = ""
    key: str = ""
    undo: bool = False  # caused by undo/redo (views may want to reveal the edit)


class ProjectModel:
    def __init__(self, project: Project | None = None):
        from cnnstudio.graph.model import Graph, Node

        self.project: Project = project or Project(
            graph=Graph([Node("input", "Input", {"height": 32, "width": 32, "channels": 3})], name="model"))
        self.stack = UndoStack(self.project)
        self._listeners: list[Callable[[Change], None]] = []
        self._modified = False  # changed outside the history (a project made from the zoo, a recovery)

    # ---- observing ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call `callback(change)` after every change; returns a function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _tell(self, change: Change) -> None:
        for callback in list(self._listeners):
            callback(change)

    def _tell_command(self, command: ProjectCommand, undo: bool) -> None:
        changes = command.changes()
        if not changes:  # a command that does not say: tell its scope, every key of it
            changes = [(command.scope, "")] if command.scope in ("graph", "fields") else [("", "")]
        for section, key in changes:
            if section == "graph":
                self._tell(Change("graph", undo=undo))
            elif section == "fields":
                self._tell(Change("fields", key=key, undo=undo))
            else:
                self._tell(Change("settings", section, key, undo=undo))
        self._tell(Change("state"))

    # ---- reading -------------------------------------------------------------------------------
    @property
    def graph(self):
        return self.project.graph

    @property
    def path(self) -> Path | None:
        return self.project.path

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        return self.project.section(section).get(key, default)

    @property
    def dirty(self) -> bool:
        return self._modified or not self.stack.is_clean

    # ---- editing -------------------------------------------------------------------------------
    def push(self, command: ProjectCommand | GraphCommand) -> None:
        """Run a command and record it; a StudioError it raises propagates with nothing recorded."""
        command = as_project_command(command)
        self.stack.push(command)
        self._tell_command(command, undo=False)

    def set_setting(self, section: str, key: str, value: Any, label: str = "") -> bool:
        """Set one setting as an undo step (checked against the schema); False when unchanged."""
        command = SetSetting(section, key, value, label)
        if self.project.section(section).get(key) == command.value:
            return False
        self.push(command)
        return True

    def set_field(self, name: str, value: Any, label: str = "") -> bool:
        """Replace a curation field (exclusions, relabels, split, notes...) as an undo step."""
        if getattr(self.project, name, None) == value:
            return False
        self.push(SetField(name, value, label))
        return True

    def undo(self) -> bool:
        command = self.stack.undo_command
        if command is None or not self.stack.undo():
            return False
        self._tell_command(command, undo=True)
        return True

    def redo(self) -> bool:
        command = self.stack.redo_command
        if command is None or not self.stack.redo():
            return False
        self._tell_command(command, undo=True)
        return True

    @property
    def can_undo(self) -> bool:
        return self.stack.can_undo

    @property
    def can_redo(self) -> bool:
        return self.stack.can_redo

    @property
    def undo_label(self) -> str:
        return self.stack.undo_label

    @property
    def redo_label(self) -> str:
        return self.stack.redo_label

    # ---- life cycle ------------------------------------------------------------------------------
    def open(self, project: Project, dirty: bool = False) -> None:
        """Another project (opened, new, imported, recovered): a fresh history; `dirty` when unsaved."""
        self.project = project
        self.stack = UndoStack(project)
        self._modified = dirty
        self._tell(Change("project"))
        self._tell(Change("state"))

    def mark_modified(self) -> None:
        """The project changed outside the history (rare: prefer a command)."""
        if not self._modified:
            self._modified = True
            self._tell(Change("state"))

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project atomically (to `path`, else where it came from) and mark it clean."""
        old = self.project.path
        target = save_project(self.project, path)
        self._modified = False
        self.stack.set_clean()
        self._tell(Change("saved", key=str(old) if old is not None else ""))
        self._tell(Change("state"))
        return target
