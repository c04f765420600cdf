"""Exact resume: graceful stops, SIGKILL at random moments, damaged checkpoint folders."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import numpy as np
import pytest

from cnnstudio.training.checkpoints import slot_path
from cnnstudio.training.process import WorkerProcess
from tests.training.fixtures import tiny_project
from tests.training.helpers import (
    ENV,
    REPO,
    final_weights,
    metrics_epochs,
    run_status,
    run_worker,
    write_job,
)

EPOCHS = 6


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: the weights and metrics every resumed run must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    project = tiny_project(folder, epochs=EPOCHS, dropout=True, schedule="cosine", warmup_epochs=1,
                           optimizer="sgd_momentum")
    run_dir = folder / "run"
    code, events = run_worker(write_job(folder, project, run_dir))
    assert code == 0, events[-2:]
    return project, run_dir


def _assert_same_run(run_dir, reference_dir):
    assert metrics_epochs(run_dir) == list(range(1, EPOCHS + 1))
    assert run_status(run_dir)["status"] == "completed"
    for ours, theirs in zip(final_weights(run_dir), final_weights(reference_dir), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    ours = (run_dir / "metrics.csv").read_text().splitlines()
    theirs = (reference_dir / "metrics.csv").read_text().splitlines()
    # Same losses and accuracies epoch by epoch (the seconds column differs).
    assert [r.split(",")[:6] for r in ours] == [r.split(",")[:6] for r in theirs]


def test_reference_run_learns(reference):
    _, run_dir = reference
    rows = [line.split(",") for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    assert float(rows[-1][1]) < float(rows[0][1])
    assert (run_dir / "model.keras").exists()


def test_graceful_stop_mid_epoch_then_resume_matches(reference, tmp_path):
    project, reference_dir = reference
    run_dir = tmp_path / "run"
    # 6 steps per epoch: stop in the middle of epoch 3.
    code, events = run_worker(write_job(tmp_path, project, run_dir, stop_after_steps=15))
    assert code == 0
    assert events[-1]["status"] == "stopped"
    assert any(e["event"] == "checkpoint" and e["kind"] == "stop" and e["step"] == 3 for e in events)
    assert metrics_epochs(run_dir) == [1, 2]
    code, events = run_worker(write_job(tmp_path, project, run_dir, mode="resume"))
    assert code == 0, events[-2:]
    started = next(e for e in events if e["event"] == "started")
    assert started["start_epoch"] == 3
    _assert_same_run(run_dir, reference_dir)


def test_sigkill_at_random_moments_then_resume_matches(reference, tmp_path):
    """Kill after a random number of events plus a random few milliseconds: inside steps, during
    evaluation, during checkpoint writes and between a checkpoint and metrics.csv."""
    project, reference_dir = reference
    run_dir = tmp_path / "run"
    rng = random.Random(1234)
    mode = "train"
    kills = []
    for _ in range(8):
        worker = WorkerProcess(write_job(tmp_path, project, run_dir, mode=mode), env=ENV, cwd=REPO,
                               stderr=subprocess.DEVNULL)
        mode = "resume"
        after, delay = rng.randint(1, 10), rng.uniform(0.0, 0.03)
        seen = 0
        try:
            for event in worker.events():
                seen += event["event"] != "started"
                if seen >= after:
                    time.sleep(delay)
                    os.kill(worker.pid, signal.SIGKILL)
                    kills.append(run_status(run_dir).get("epochs_completed"))
                    break
        finally:
            worker.kill()
        if run_status(run_dir).get("status") == "completed":
            break
    assert len(kills) >= 3
    assert len(set(kills)) >= 2  # the kills landed at different points of the run
    if run_status(run_dir).get("status") != "completed":
        code, events = run_worker(write_job(tmp_path, project, run_dir, mode="resume"))
        assert code == 0, events[-2:]
    _assert_same_run(run_dir, reference_dir)


def test_resume_after_kill_between_renames(reference, tmp_path):
    """Only last.prev.npz survives (killed between the two renames), plus a torn temp file."""
    project, reference_dir = reference
    run_dir = tmp_path / "run"
    code, _ = run_worker(write_job(tmp_path, project, run_dir, stop_after_steps=20))
    assert code == 0
    folder = run_dir / "checkpoints"
    os.replace(slot_path(folder, "last"), slot_path(folder, "last.half"))
    (folder / ".last.abcd.tmp").write_bytes(b"PK\x03\x04torn")
    code, events = run_worker(write_job(tmp_path, project, run_dir, mode="resume"))
    assert code == 0, events[-2:]
    assert not list(folder.glob(".*.tmp"))
    _assert_same_run(run_dir, reference_dir)
