"""ZCA whitening with the ε chosen from the data trains as well as per-channel normalisation on
the bundled sample digits (LeNet-5, a few epochs, through the command line like a user)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from cnnstudio.training.events import parse_event
from tests.training.helpers import REPO

pytestmark = pytest.mark.slow
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
EPOCHS = "10"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample project and its ten class folders, copied (the bundled folder stays untouched)."""
    folder = tmp_path_factory.mktemp("sample")
    source = REPO / "resources" / "sample"
    for digit in range(10):
        shutil.copytree(source / str(digit), folder / "images" / str(digit))
    shutil.copy(source / "sample.cnnproj", folder / "sample.cnnproj")
    ENV["CNNSTUDIO_CACHE_DIR"] = str(folder / "cache")
    return folder


def start(sample, normalization: str, *settings: str) -> subprocess.Popen:
    run_dir = sample / f"run-{normalization}"
    extra = [arg for setting in settings for arg in ("--set", setting)]
    return subprocess.Popen(
        [sys.executable, "-m", "cnnstudio", "train", str(sample / "sample.cnnproj"), "--data",
         str(sample / "images"), "--epochs", EPOCHS, "--batch-size", "32", "--run-dir", str(run_dir),
         "--set", f"preprocessing.normalization={normalization}", "--set", "augmentation.rotation=0",
         "--set", "augmentation.translation=0", *extra, "--events"],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def best_accuracy(process: subprocess.Popen) -> tuple[float, list[dict]]:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    events = [parse_event(line) for line in stdout.splitlines()]
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "completed", events[-1]
    accuracies = [e["val_accuracy"] for e in events if e["event"] == "epoch" and e.get("val_accuracy") is not None]
    assert len(accuracies) == int(EPOCHS)
    return max(accuracies), events


def test_zca_trains_as_well_as_per_channel(sample):
    # Both runs at once (one per core): the test costs one run's time.
    reference = start(sample, "per_channel")
    # The sample stores no ε (older projects stored 1e-5); empty asks for the one chosen from the data.
    whitened = start(sample, "zca", "preprocessing.whitening_epsilon=")
    per_channel, _ = best_accuracy(reference)
    zca, events = best_accuracy(whitened)
    assert per_channel > 0.5, f"the reference itself did not learn ({per_channel:.2f})"
    assert zca >= per_channel - 0.05, f"ZCA {zca:.2f} vs per-channel {per_channel:.2f}"
    # 400 training images of 32×32 = 1024 values: the run says the statistics are thin.
    said = json.dumps([e for e in events if e["event"] == "warning"])
    assert "400 images, not more than the 1024 values per image" in said, said
