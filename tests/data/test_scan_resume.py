"""Full-decode verification: progress, cancel, and resume (after a cancel, Ctrl-C or kill -9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cnnstudio.data.scan as scan_module
from cnnstudio.cli import main
from cnnstudio.data import cache
from cnnstudio.data.index import build_index
from cnnstudio.data.progress import TaskCancelled, TaskState

REPO = Path(__file__).resolve().parents[2]


def _verified(root) -> int:
    columns = cache.load_scan_cache(root, build_index(root))
    return int((columns.checked == cache.DECODED).sum())


@pytest.fixture
def counted(monkeypatch):
    """The files each scan reads, in order."""
    calls: list[str] = []
    real = scan_module._inspect_entry
    monkeypatch.setattr(scan_module, "_inspect_entry", lambda path, *a: calls.append(path) or real(path, *a))
    return calls


def test_verification_reports_progress_cancels_and_resumes(make_folder, counted):
    root = make_folder({"a": 20, "b": 20})
    scan_module.scan_folder(root)  # header checks only: the next verify still decodes every file
    assert _verified(root) == 0
    counted.clear()
    seen = []

    def cancel_at_25(state: TaskState) -> None:
        seen.append((state.message, state.done, state.total))
        if state.message.startswith("verifying") and state.done >= 25:
            state.cancel()

    with pytest.raises(TaskCancelled):
        scan_module.scan_folder(root, verify=True, progress=TaskState(cancel_at_25, min_interval=0), workers=1)
    verifying = [(done, total) for message, done, total in seen if message.startswith("verifying")]
    assert verifying[:2] == [(0, 40), (1, 40)] and verifying[-1] == (25, 40)
    done = _verified(root)
    assert 25 <= done < 40  # what was decoded is kept...
    counted.clear()
    result = scan_module.scan_folder(root, verify=True)
    assert len(counted) == 40 - done  # ...and only the rest is decoded now
    assert result.verified and len(result.images) == 40 and _verified(root) == 40
    counted.clear()
    scan_module.scan_folder(root, verify=True)
    assert counted == []


def test_progress_is_saved_while_running_not_only_at_the_end(make_folder, tmp_path):
    """kill -9 part-way (no chance to save on the way out): the next run resumes from the last save."""
    root = make_folder({"a": 20, "b": 20})
    code = (
        "import os, signal, sys\n"
        "from cnnstudio.data.progress import TaskState\n"
        "from cnnstudio.data.scan import scan_folder\n"
        "def kill_at_15(state):\n"
        "    if state.message.startswith('verifying') and state.done >= 15:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "scan_folder(sys.argv[1], verify=True, progress=TaskState(kill_at_15, min_interval=0), workers=1,\n"
        "            save_interval=0)\n"
    )
    env = {**os.environ, "CNNSTUDIO_CACHE_DIR": os.environ["CNNSTUDIO_CACHE_DIR"]}
    done = subprocess.run([sys.executable, "-c", code, str(root)], env=env, cwd=REPO, capture_output=True,
                          timeout=120)
    assert done.returncode == -9, done.stderr
    assert 15 <= _verified(root) < 40


def test_ctrl_c_in_the_cli_says_how_far_it_got_and_the_next_run_resumes(make_folder, tmp_path):
    root = make_folder({"a": 20, "b": 20})
    # A real SIGINT, sent by the scan itself at the 15th file so the test needs no timing.
    code = (
        "import os, signal, sys\n"
        "import cnnstudio.data.scan as scan\n"
        "from cnnstudio.cli import main\n"
        "real, seen = scan._inspect_entry, []\n"
        "def interrupt_at_15(path, *args):\n"
        "    seen.append(path)\n"
        "    if len(seen) == 15:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(path, *args)\n"
        "scan._inspect_entry = interrupt_at_15\n"
        "sys.exit(main(['scan', sys.argv[1], '--verify']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(root)], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    last = done.stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and "of 40 files verified (full decode)" in last
    assert "the next `cnnstudio scan` resumes from there" in last
    kept = _verified(root)
    assert 1 <= kept < 40


def test_cli_verify_resumes_in_process(make_folder, counted, capsys, monkeypatch):
    root = make_folder({"a": 10, "b": 10})
    real = scan_module._inspect_batch

    def interrupted_after_first_batch(paths, *args):
        if len(counted) >= 5:
            raise KeyboardInterrupt
        return real(paths, *args)

    monkeypatch.setattr(scan_module, "_inspect_batch", interrupted_after_first_batch)
    assert main(["scan", str(root), "--verify", "--json"]) == 130
    assert capsys.readouterr().out == ""
    assert 5 <= _verified(root) < 20
    kept = _verified(root)
    monkeypatch.setattr(scan_module, "_inspect_batch", real)
    counted.clear()
    assert main(["scan", str(root), "--verify", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] and report["images"] == 20 and len(counted) == 20 - kept
