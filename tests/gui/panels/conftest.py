"""Panel tests: a saved tiny project with a real image folder, a window on it, and a check that
no test leaves a thread or a child process behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.gui.panels.helpers import make_image_folder, make_project


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


@pytest.fixture(autouse=True)
def nothing_left_running():
    yield
    from PySide6.QtCore import QThreadPool

    deadline = time.monotonic() + 10
    while (child_processes() or QThreadPool.globalInstance().activeThreadCount()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert QThreadPool.globalInstance().activeThreadCount() == 0, "a thread worker is still running"
    assert child_processes() == [], "a child process is still running"


@pytest.fixture
def project_folder(tmp_path) -> Path:
    data = make_image_folder(tmp_path / "data")
    make_project(tmp_path, data)
    return tmp_path


@pytest.fixture
def studio(qtbot, project_folder, monkeypatch):
    """A main window on the saved tiny project (its Data panel scans the folder)."""
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    _application()
    win = MainWindow(load_project(project_folder / "tiny.cnnproj"))
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
