"""Expensive test artefacts built once per test run and shared by every pytest-xdist worker.

A session fixture is per process, so under `pytest -n 2` each worker would train the same
tiny run again. `build_once` builds into a folder beside the workers' temporary folders,
under a file lock, and every later caller (any worker) finds it finished.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path


def shared_root(tmp_path_factory) -> Path:
    """The temporary folder common to all workers of this run (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory, name: str, build: Callable[[Path], Path]) -> Path:
    """Return `build(folder)`'s result, built at most once per test run across workers.

    `build` receives an empty folder of its own and returns a path inside it.
    """
    root = shared_root(tmp_path_factory)
    folder = root / f"shared-{name}"
    done = root / f"shared-{name}.json"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return folder / json.loads(done.read_text())["result"]
        folder.mkdir(exist_ok=True)
        result = Path(build(folder))
        done.write_text(json.dumps({"result": str(result.relative_to(folder))}))
        return result
