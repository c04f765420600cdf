"""Atomic file writes: a temporary file in the same folder, fsync, then rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic_with(
    path: str | os.PathLike,
    write: Callable[[Path], Any],
    suffix: str = ".tmp",
    keep_previous: str | os.PathLike | None = None,
) -> None:
    """Replace `path` with the file `write(temporary)` makes, so a reader sees the old or the
    new file, never half of one. `suffix` ends the temporary name (Keras wants ".keras").

    With `keep_previous`, the current file is first renamed there (a kill between the two
    renames leaves the previous version, never nothing).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        _fsync_file(temporary)
        if keep_previous is not None and target.exists():
            os.replace(target, keep_previous)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, keep_previous: str | os.PathLike | None = None) -> None:
    write_atomic_with(path, lambda temporary: temporary.write_bytes(data), keep_previous=keep_previous)


def save_keras_atomic(model: Any, path: str | os.PathLike) -> None:
    """`model.save(path)` through a temporary .keras file in the same folder."""
    write_atomic_with(path, model.save, suffix=".keras")


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
