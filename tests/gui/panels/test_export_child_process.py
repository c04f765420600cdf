"""One helper for the window's one-shot child processes (export, import, fine-tune)."""

from __future__ import annotations

import sys

from cnnstudio.gui.child_process import ChildResult, child_environment, cli_command, run_child


def test_child_reports_output_and_the_cli_error_line(qtbot, monkeypatch):
    from PySide6.QtCore import QObject

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    owner = QObject()
    results: list[ChildResult] = []
    code = ("import os, sys; print(os.environ['TF_CPP_MIN_LOG_LEVEL']); "
            "print('noise', file=sys.stderr); print('error: model.keras: not a zip file', file=sys.stderr); "
            "sys.exit(2)")
    child = run_child([sys.executable, "-c", code], results.append, owner)
    assert child.running
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    result = results[0]
    assert not result.ok and result.code == 2 and not result.crashed
    assert result.stdout.strip() == "2"  # every child gets child_environment(): TensorFlow's noise off
    assert result.error_line() == "model.keras: not a zip file"


def test_a_child_that_cannot_start_is_reported_not_raised(qtbot, tmp_path):
    from PySide6.QtCore import QObject

    owner = QObject()
    results: list[ChildResult] = []
    run_child([str(tmp_path / "no-such-program")], results.append, owner)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert not results[0].ok and "could not start" in results[0].error_line()


def test_kill_ends_the_child_without_a_report(qtbot):
    from PySide6.QtCore import QObject

    owner = QObject()
    results: list[ChildResult] = []
    child = run_child([sys.executable, "-c", "import time; time.sleep(60)"], results.append, owner)
    qtbot.waitUntil(lambda: child.process is not None and child.process.processId() > 0, timeout=10_000)
    child.kill()
    assert not child.running and results == []


def test_commands_and_environment():
    assert cli_command("export", "x")[1:] == ["-m", "cnnstudio", "export", "x"]
    assert child_environment({"A": "1"})["A"] == "1"
