"""Project files for the window: recent list, recovery copies, sample project, .keras import.

Recovery: while a project has unsaved changes the window writes it every few seconds to a
recovery file (beside a saved project, or in the app's data folder for an untitled one).
A clean save or close deletes it; finding one newer than the project means a crash, and
the window offers it back.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from cnnstudio import paths
from cnnstudio.fileio import write_json_atomic
from cnnstudio.graph.model import Graph, Node
from cnnstudio.project.file import Project

RECOVERY_SUFFIX = ".recovery"
MAX_RECENT = 10


def data_dir() -> Path:
    override = os.environ.get("CNNSTUDIO_HOME")
    base = Path(override) if override else Path(
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or Path.home() / ".cnnstudio"
    )
    base.mkdir(parents=True, exist_ok=True)
    return base


def settings() -> QSettings:
    if os.environ.get("CNNSTUDIO_HOME"):
        return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings("CNN Studio", "cnnstudio")


def recovery_path(project_path: Path | None) -> Path:
    if project_path is None:
        return data_dir() / f"untitled.cnnproj{RECOVERY_SUFFIX}"
    return project_path.with_name(project_path.name + RECOVERY_SUFFIX)


def pending_recovery(project_path: Path | None) -> Path | None:
    """A recovery file left by a crash: newer than the project it belongs to."""
    candidate = recovery_path(project_path)
    if not candidate.exists():
        return None
    if project_path is not None and project_path.exists():
        if candidate.stat().st_mtime < project_path.stat().st_mtime:
            return None
    return candidate


def write_recovery(project: Project) -> Path:
    target = recovery_path(project.path)
    write_json_atomic(target, project.to_dict())
    return target


def drop_recovery(project_path: Path | None) -> None:
    try:
        recovery_path(project_path).unlink()
    except FileNotFoundError:
        pass


def recent_files() -> list[str]:
    value = settings().value("recent", [])
    if isinstance(value, str):
        value = [value]
    return [v for v in (value or []) if isinstance(v, str)]


def add_recent(path: Path) -> None:
    items = [str(path.resolve())] + [p for p in recent_files() if p != str(path.resolve())]
    store = settings()
    store.setValue("recent", items[:MAX_RECENT])
    store.sync()


def untitled_location(name: str) -> Path:
    """A free file name for an untitled project in the user's CNN Studio folder."""
    folder = data_dir() / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "untitled"
    candidate = folder / f"{stem}.cnnproj"
    counter = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{counter}.cnnproj"
        counter += 1
    return candidate


def sample_project_path() -> Path | None:
    candidate = paths.sample_project()
    return candidate if candidate.exists() else None


def empty_project() -> Project:
    graph = Graph([Node("input", "Input", {"height": 32, "width": 32, "channels": 3})], name="model")
    return Project(graph=graph, name="Untitled")


def import_command(keras_file: Path, output: Path) -> list[str]:
    """The helper process that imports a .keras model (TensorFlow stays out of the GUI)."""
    return [sys.executable, "-m", "cnnstudio", "import-keras", str(keras_file), "-o", str(output)]
