"""The project file: one versioned JSON document (architecture + data + settings).

Loading never raises anything but ProjectFileError/GraphError (both StudioError) for a bad
file, whatever its content; saving is atomic. Older format versions are migrated on load.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.errors import GraphError, ProjectFileError
from cnnstudio.fileio import write_json_atomic
from cnnstudio.graph.model import Graph
from cnnstudio.project import schema

FORMAT_VERSION = 2
SUFFIX = ".cnnproj"


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept the graph under "graph" and had no data-curation fields."""
    out = dict(data)
    if "graph" in out and "architecture" not in out:
        out["architecture"] = out.pop("graph")
    out.setdefault("exclusions", [])
    out.setdefault("relabels", {})
    return out


# MIGRATIONS[v] turns a version-v document into version v+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}


@dataclass
class Project:
    graph: Graph
    name: str = "Untitled"
    dataset: dict[str, Any] = field(default_factory=lambda: schema.defaults("dataset"))
    preprocessing: dict[str, Any] = field(default_factory=lambda: schema.defaults("preprocessing"))
    augmentation: dict[str, Any] = field(default_factory=lambda: schema.defaults("augmentation"))
    training: dict[str, Any] = field(default_factory=lambda: schema.defaults("training"))
    # Data curation, kept in the project so the folder on disk is never modified.
    exclusions: list[str] = field(default_factory=list)  # paths relative to the dataset folder
    relabels: dict[str, str] = field(default_factory=dict)  # relative path -> class name
    split: dict[str, Any] | None = None  # the stored split (see cnnstudio.data.split)
    notes: str = ""
    weights: str = ""  # initial weights (.weights.npz from import-keras), relative to the project file
    path: Path | None = None  # where it was loaded from / saved to (not stored)

    def section(self, name: str) -> dict[str, Any]:
        return getattr(self, name)

    def resolve(self, value: str) -> Path | None:
        """A path stored in the project, made absolute against the project file's folder."""
        if not value:
            return None
        candidate = Path(value).expanduser()
        if not candidate.is_absolute() and self.path is not None:
            candidate = self.path.parent / candidate
        return candidate

    def dataset_folder(self) -> Path | None:
        return self.resolve(self.dataset.get("folder") or "")

    def weights_file(self) -> Path | None:
        return self.resolve(self.weights)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "architecture": self.graph.to_dict(),
            "dataset": copy.deepcopy(self.dataset),
            "preprocessing": copy.deepcopy(self.preprocessing),
            "augmentation": copy.deepcopy(self.augmentation),
            "training": copy.deepcopy(self.training),
            "exclusions": list(self.exclusions),
            "relabels": dict(self.relabels),
        }
        if self.split is not None:
            out["split"] = copy.deepcopy(self.split)
        if self.notes:
            out["notes"] = self.notes
        if self.weights:
            out["weights"] = self.weights
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "project") -> Project:
        if not isinstance(data, dict):
            raise ProjectFileError(f"{where}: a project file holds one JSON object; this one holds {type(data).__name__}.")
        version = data.get("format_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ProjectFileError(f"{where}: 'format_version' must be a whole number >= 1. Received: {version!r}")
        if version > FORMAT_VERSION:
            raise ProjectFileError(
                f"{where}: this project was saved by a newer CNN Studio (format {version}; this one reads up "
                f"to {FORMAT_VERSION}). Update CNN Studio to open it."
            )
        while version < FORMAT_VERSION:
            data = MIGRATIONS[version](data)
            version += 1
        known = {"format_version", "name", "architecture", "dataset", "preprocessing", "augmentation",
                 "training", "exclusions", "relabels", "split", "notes", "weights"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProjectFileError(f"{where}: unknown field {unknown[0]!r}. Remove it or check the spelling.")
        if "architecture" not in data:
            raise ProjectFileError(f"{where}: the 'architecture' section is missing.")
        try:
            graph = Graph.from_dict(data["architecture"], where=f"{where}: architecture")
        except GraphError as exc:
            message = str(exc)
            if not message.startswith(where):
                message = f"{where}: architecture: {message}"
            raise ProjectFileError(message) from None
        name = data.get("name", "Untitled")
        if not isinstance(name, str):
            raise ProjectFileError(f"{where}: 'name' must be text.")
        exclusions = data.get("exclusions", [])
        if not isinstance(exclusions, list) or not all(isinstance(p, str) for p in exclusions):
            raise ProjectFileError(f"{where}: 'exclusions' must be a list of file paths.")
        relabels = data.get("relabels", {})
        if not isinstance(relabels, dict) or not all(isinstance(v, str) for v in relabels.values()):
            raise ProjectFileError(f"{where}: 'relabels' must map file paths to class names.")
        split = data.get("split")
        if split is not None and not isinstance(split, dict):
            raise ProjectFileError(f"{where}: 'split' must be an object.")
        notes = data.get("notes", "")
        if not isinstance(notes, str):
            raise ProjectFileError(f"{where}: 'notes' must be text.")
        weights = data.get("weights", "")
        if not isinstance(weights, str):
            raise ProjectFileError(f"{where}: 'weights' must be the path of a weights file.")
        return cls(
            graph=graph,
            name=name,
            dataset=schema.check_section("dataset", data.get("dataset", {}), where),
            preprocessing=schema.check_section("preprocessing", data.get("preprocessing", {}), where),
            augmentation=schema.check_section("augmentation", data.get("augmentation", {}), where),
            training=schema.check_section("training", data.get("training", {}), where),
            exclusions=list(exclusions),
            relabels=dict(relabels),
            split=split,
            notes=notes,
            weights=weights,
        )

    def copy(self) -> Project:
        clone = Project.from_dict(self.to_dict())
        clone.path = self.path
        return clone


def load_project(path: str | Path) -> Project:
    path = Path(path)
    if not path.exists():
        raise ProjectFileError(f"{path}: no such file. Check the path, or create one with `cnnstudio zoo create`.")
    if path.is_dir():
        raise ProjectFileError(f"{path}: is a folder; give the project file (*{SUFFIX} or .json).")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectFileError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectFileError(f"{path}: is not a text (UTF-8) file; is it really a CNN Studio project?") from None
    if not text.strip():
        raise ProjectFileError(f"{path}: is empty. Restore it from a backup or the .recovery file.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " The file looks truncated." if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ProjectFileError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}).{hint}") from None
    except RecursionError:
        raise ProjectFileError(f"{path}: the JSON is nested too deeply to be a project.") from None
    project = Project.from_dict(data, where=str(path))
    project.path = path
    return project


def save_project(project: Project, path: str | Path | None = None) -> Path:
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectFileError("The project has never been saved: choose a file name.")
    if project.path is not None and target.resolve().parent != project.path.resolve().parent:
        _rebase_paths(project, target)
    write_json_atomic(target, project.to_dict())
    project.path = target
    return target


def _rebase_paths(project: Project, target: Path) -> None:
    """Saving into another folder keeps relative paths pointing at the same files."""

    def rebase(value: str) -> str:
        if not value or Path(value).expanduser().is_absolute():
            return value
        absolute = project.resolve(value)
        assert absolute is not None
        try:
            return os.path.relpath(absolute.resolve(), target.resolve().parent)
        except ValueError:  # another drive on Windows
            return str(absolute.resolve())

    project.dataset["folder"] = rebase(project.dataset.get("folder") or "")
    project.weights = rebase(project.weights)
