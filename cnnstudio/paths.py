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
