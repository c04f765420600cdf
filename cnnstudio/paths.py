"""Where the bundled resources (icons, sample project and dataset) and user data live."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """`cnnstudio/resources` in an installed wheel; the repository's `resources/` in a checkout."""
    installed = _PACKAGE / "resources"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "resources"


def sample_project() -> Path:
    return resources_dir() / "sample" / "sample.cnnproj"


def icon(size: int | None = None) -> Path:
    folder = resources_dir() / "icons"
    return folder / ("cnnstudio.svg" if size is None else f"cnnstudio-{size}.png")


def cache_dir() -> Path:
    """Per-user cache (scan results...), never inside the user's dataset folders.

    $CNNSTUDIO_CACHE_DIR, else $XDG_CACHE_HOME/cnnstudio, else ~/.cache/cnnstudio.
    """
    explicit = os.environ.get("CNNSTUDIO_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "cnnstudio"


RUNS_FOLDER = "runs"  # a project's runs: beside its file, one directory per run
RUN_MARKERS = ("job.json", "run.json")  # files that make a directory a CNN Studio run


def user_data_dir() -> Path:
    """Per-user data (runs of the bundled sample...): $CNNSTUDIO_HOME, else
    $XDG_DATA_HOME/cnnstudio, else ~/.local/share/cnnstudio."""
    explicit = os.environ.get("CNNSTUDIO_HOME")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "cnnstudio"


def runs_folder(project_path: str | os.PathLike | None) -> Path | None:
    """Where a project's runs go: `runs/` beside the project file, except for a project kept in
    the package's resources (the bundled sample: read-only once installed, and its folder is
    its own image folder), whose runs go to the user's data folder."""
    if project_path is None:
        return None
    project = Path(project_path).resolve()
    if project.is_relative_to(resources_dir().resolve()):
        return user_data_dir() / RUNS_FOLDER / project.stem
    return project.parent / RUNS_FOLDER


def holds_runs(folder: str | os.PathLike) -> bool:
    """True for a `runs` folder holding CNN Studio run directories: a project kept inside its
    own image folder has one there, and the scan must not take it for a class."""
    folder = Path(folder)
    if folder.name != RUNS_FOLDER or not folder.is_dir():
        return False
    try:
        return any(entry.is_dir() and any((Path(entry.path) / marker).exists() for marker in RUN_MARKERS)
                   for entry in os.scandir(folder))
    except OSError:
        return False
