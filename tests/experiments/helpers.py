"""Sweeps through the real command line, on (a few of) the sample digits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cnnstudio.paths import sample_project
from cnnstudio.project import load_project, save_project

REPO = Path(__file__).resolve().parents[2]


def environment(cache: Path) -> dict[str, str]:
    return {**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO),
            "CNNSTUDIO_CACHE_DIR": str(cache)}


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnstudio", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def small_digits(folder: Path, classes: int = 4, per_class: int = 15) -> Path:
    """The sample project on a copy of (some of) its digits, in `folder`."""
    source = sample_project().parent
    for label in range(classes):
        (folder / "images" / str(label)).mkdir(parents=True)
        for image in sorted((source / str(label)).iterdir())[:per_class]:
            shutil.copy(image, folder / "images" / str(label) / image.name)
    project = load_project(sample_project())
    project.dataset["folder"] = str(folder / "images")
    project.graph.set_params("predictions", {**project.graph["predictions"].params, "units": classes})
    return save_project(project, folder / "digits.cnnproj")


def write_space(path: Path, space: dict) -> Path:
    path.write_text(json.dumps(space), encoding="utf-8")
    return path


def show(env: dict[str, str], sweep: Path) -> dict:
    result = cli(env, "sweep", "show", sweep, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_for(condition, timeout: float = 300.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
