"""Undoable edits of a Project: settings, curation fields, graph edits, and several as one step.

These run on the project's one undo stack (cnnstudio.project.model.ProjectModel). Graph
commands (cnnstudio.graph.commands) join it wrapped in `GraphEdit`; `Composite` applies a
mix of both as one undo step (a recipe setting several fields, or a layer plus a setting).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from cnnstudio.errors import ProjectFileError
from cnnstudio.graph.commands import Command as GraphCommand
from cnnstudio.project import schema
from cnnstudio.project.file import Project

# Project fields outside the settings sections that the user edits (data curation, notes).
FIELDS = ("name", "exclusions", "relabels", "split", "notes", "weights")
_MISSING = object()


class ProjectCommand:
    """One undoable edit of a Project. `scope` says what changed: "graph", "settings" or "fields"."""

    label = "Edit"
    scope = "settings"

    def do(self, project: Project) -> None:
        raise NotImplementedError

    def undo(self, project: Project) -> None:
        raise NotImplementedError

    def changes(self) -> list[tuple[str, str]]:
        """(section, key) pairs this command touches, for observers ("graph", "" for graph edits)."""
        return []


class GraphEdit(ProjectCommand):
    """A graph command on the project's graph."""

    scope = "graph"

    def __init__(self, command: GraphCommand):
        self.command = command
        self.label = command.label

    def do(self, project: Project) -> None:
        self.command.do(project.graph)

    def undo(self, project: Project) -> None:
        self.command.undo(project.graph)

    def changes(self) -> list[tuple[str, str]]:
        return [("graph", "")]


class SetSetting(ProjectCommand):
    """Set `section.key` (training.batch_size, augmentation.flip, ...); consecutive edits of one
    key merge into one undo step (a spin box's clicks, a slider's drag)."""

    def __init__(self, section: str, key: str, value: Any, label: str = ""):
        """The value is checked against the schema first: a bad one raises a StudioError naming the field."""
        if section not in schema.SECTIONS:
            raise ProjectFileError(f"Unknown settings section {section!r}: choose one of {', '.join(schema.SECTIONS)}.")
        specs = {spec.name: spec for spec in schema.SECTIONS[section]}
        if key not in specs:
            raise ProjectFileError(f"'{section}' has no setting {key!r}; known settings: {', '.join(specs)}.")
        self.section, self.key = section, key
        self.value = copy.deepcopy(specs[key].check(value, section))
        self._old: Any = _MISSING
        self.label = label or f"Set {specs[key].title.lower()}"

    def do(self, project: Project) -> None:
        settings = project.section(self.section)
        self._old = copy.deepcopy(settings.get(self.key, _MISSING))
        settings[self.key] = copy.deepcopy(self.value)

    def undo(self, project: Project) -> None:
        settings = project.section(self.section)
        if self._old is _MISSING:
            settings.pop(self.key, None)
        else:
            settings[self.key] = copy.deepcopy(self._old)

    def merge(self, other: Any) -> bool:
        if not isinstance(other, SetSetting) or (other.section, other.key) != (self.section, self.key):
            return False
        self.value = copy.deepcopy(other.value)  # `other` already ran; undo restores our old value
        return True

    def changes(self) -> list[tuple[str, str]]:
        return [(self.section, self.key)]


class SetField(ProjectCommand):
    """Replace one project field outside the settings sections (exclusions, relabels, split, notes...)."""

    scope = "fields"

    def __init__(self, name: str, value: Any, label: str = ""):
        if name not in FIELDS:
            raise ProjectFileError(f"Unknown project field {name!r}: choose one of {', '.join(FIELDS)}.")
        self.name = name
        self.value = copy.deepcopy(value)
        self._old: Any = None
        self.label = label or f"Change {name}"

    def do(self, project: Project) -> None:
        self._old = copy.deepcopy(getattr(project, self.name))
        setattr(project, self.name, copy.deepcopy(self.value))

    def undo(self, project: Project) -> None:
        setattr(project, self.name, copy.deepcopy(self._old))

    def changes(self) -> list[tuple[str, str]]:
        return [("fields", self.name)]


def as_project_command(command: ProjectCommand | GraphCommand) -> ProjectCommand:
    return command if isinstance(command, ProjectCommand) else GraphEdit(command)


class Composite(ProjectCommand):
    """Several commands (project or graph) as one undo step; a failing part undoes the parts before it."""

    def __init__(self, label: str, commands: Iterable[ProjectCommand | GraphCommand]):
        self.label = label
        self.commands = [as_project_command(c) for c in commands]
        scopes = {c.scope for c in self.commands}
        self.scope = scopes.pop() if len(scopes) == 1 else "mixed"

    def do(self, project: Project) -> None:
        done: list[ProjectCommand] = []
        try:
            for command in self.commands:
                command.do(project)
                done.append(command)
        except Exception:
            for command in reversed(done):
                command.undo(project)
            raise

    def undo(self, project: Project) -> None:
        for command in reversed(self.commands):
            command.undo(project)

    def changes(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for command in self.commands:
            out += [c for c in command.changes() if c not in out]
        return out


def apply_settings(values: dict[str, dict[str, Any]], label: str = "Apply settings") -> Composite:
    """{section: {key: value}} as one undoable step (what a recipe applies)."""
    return Composite(label, [SetSetting(section, key, value)
                             for section, items in values.items() for key, value in items.items()])
