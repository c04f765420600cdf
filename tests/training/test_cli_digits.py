"""The real-data proof through the command line: LeNet-5 from the zoo on scikit-learn's digits
(8x8, upscaled to 32x32 PNGs) reaches >= 95% on the held-out validation split; Ctrl-C stops
with a checkpoint and `cnnstudio resume` finishes the run with each epoch recorded once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from cnnstudio.training.events import parse_event
from tests.training.helpers import REPO, final_weights, metrics_epochs, run_status

pytestmark = pytest.mark.slow
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnstudio", *args], cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    ENV["CNNSTUDIO_CACHE_DIR"] = str(folder / "cache")  # scan caches stay out of the user's home
    script = REPO / "resources" / "make_sample_dataset.py"
    subprocess.run([sys.executable, str(script), "--per-class", "200", "--size", "32", "--out",
                    str(folder / "images")], check=True, capture_output=True, timeout=120)
    result = cli("zoo", "create", "lenet5", "-o", str(folder / "lenet.json"))
    assert result.returncode == 0, result.stderr
    return folder


def test_lenet5_on_digits_reaches_95_percent(digits):
    run_dir = digits / "run"
    result = cli("train", str(digits / "lenet.json"), "--data", str(digits / "images"), "--epochs", "8",
                 "--batch-size", "32", "--run-dir", str(run_dir), "--events")
    assert result.returncode == 0, result.stderr[-3000:]
    events = [parse_event(line) for line in result.stdout.splitlines()]  # stdout holds events only
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "completed"
    started = next(e for e in events if e["event"] == "started")
    assert started["class_names"] == [str(i) for i in range(10)]
    assert started["train_examples"] + started["val_examples"] == 1797
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(epochs) == 8
    assert max(e["val_accuracy"] for e in epochs) >= 0.95
    assert epochs[-1]["val_accuracy"] >= 0.95
    assert len(epochs[-1]["confusion_matrix"]) == 10
    assert sum(map(sum, epochs[-1]["confusion_matrix"])) == started["val_examples"]
    for name in ("config.json", "metrics.csv", "batches.jsonl", "model.keras", "run.json", "checkpoints/best.npz"):
        assert (run_dir / name).exists(), name
    assert list((run_dir / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert run_status(run_dir)["best_metric"] >= 0.95
    again = cli("resume", str(run_dir))
    assert again.returncode == 2 and "already completed" in again.stderr


def test_ctrl_c_stops_with_checkpoint_then_resume_finishes(digits):
    run_dir = digits / "interrupted"
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnstudio", "train", str(digits / "lenet.json"), "--data", str(digits / "images"),
         "--epochs", "4", "--batch-size", "16", "--run-dir", str(run_dir), "--events"],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    events, sent = [], False
    for line in process.stdout:
        events.append(parse_event(line))
        if events[-1]["event"] == "batch" and events[-1]["epoch"] == 2 and not sent:
            os.killpg(process.pid, signal.SIGINT)  # what one Ctrl-C does in a terminal
            sent = True
    assert process.wait(120) == 0
    assert events[-1]["status"] == "stopped"
    stop = [e for e in events if e["event"] == "checkpoint" and e["kind"] == "stop"]
    assert len(stop) == 1 and stop[0]["epoch"] == 1
    assert metrics_epochs(run_dir) == [1]
    result = cli("resume", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics_epochs(run_dir) == [1, 2, 3, 4]
    assert run_status(run_dir)["status"] == "completed"
    assert (run_dir / "model.keras").exists()
    # The interrupted run ends exactly where an uninterrupted one does (same data order, same state).
    straight = digits / "straight"
    result = cli("train", str(digits / "lenet.json"), "--data", str(digits / "images"), "--epochs", "4",
                 "--batch-size", "16", "--run-dir", str(straight), "--events")
    assert result.returncode == 0, result.stderr[-3000:]
    for ours, theirs in zip(final_weights(run_dir), final_weights(straight), strict=True):
        np.testing.assert_array_equal(ours, theirs)
