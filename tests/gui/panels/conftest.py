"""Panel tests: a saved tiny project with a real image folder and a window on it (the check that
no test leaves a thread or a child process behind is in tests/conftest.py, for every test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.panels.helpers import make_image_folder, make_project, open_main_window


@pytest.fixture
def project_folder(tmp_path) -> Path:
    data = make_image_folder(tmp_path / "data")
    make_project(tmp_path, data)
    return tmp_path


@pytest.fixture
def studio(qtbot, project_folder, monkeypatch):
    """A main window on the saved tiny project (its Data panel scans the folder)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    win = open_main_window(qtbot, project_folder / "tiny.cnnproj")
    qtbot.waitExposed(win)
    yield win
    win.close()
