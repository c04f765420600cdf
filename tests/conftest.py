"""Test set-up: headless Qt, quiet TensorFlow on CPU."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The scan cache must not leak between tests or into the user's home; one per xdist worker.
os.environ.setdefault(
    "CNNSTUDIO_CACHE_DIR",
    os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cnnstudio-test-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

_exit_status = 0


def child_processes() -> list[int]:
    """Live (not zombie) children of this process, from /proc."""
    me, out = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _active_qt_threads() -> int:
    if "PySide6.QtCore" not in sys.modules:
        return 0
    from PySide6.QtCore import QThreadPool

    return QThreadPool.globalInstance().activeThreadCount()


@pytest.fixture(autouse=True)
def nothing_left_running():
    """Every test: no thread worker and no child process may outlive it (a grace of 10 s for
    ones that are already stopping)."""
    yield
    deadline = time.monotonic() + 10
    while (child_processes() or _active_qt_threads()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _active_qt_threads() == 0, "a thread worker is still running"
    assert child_processes() == [], "a child process is still running"


@pytest.fixture(scope="session")
def colour_run(tmp_path_factory):
    """The one tiny trained run (16x16 coloured squares, three classes) that export, fine-tuning
    and GUI tests share: trained once per test run, whatever the number of xdist workers."""
    from tests.export.helpers import make_project, train, write_dataset
    from tests.shared import build_once

    def build(root):
        return train(make_project(root, write_dataset(root / "colours")), root / "run")

    return build_once(tmp_path_factory, "colour-run", build)


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    """Skip interpreter finalisation when Qt and TensorFlow share this process.

    The app never loads both in one process (TensorFlow runs in workers), but this test
    process does, and their C++ static destructors can crash at exit (SIGSEGV after every
    test passed). The report is already printed here, so leave without running them.
    """
    import sys

    if "tensorflow" in sys.modules and "PySide6.QtWidgets" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
