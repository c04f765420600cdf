"""Exact resume: graceful stops, SIGKILL at random moments, damaged checkpoint folders."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import numpy as np
import pytest

from cnnstudio.training.checkpoints import load_checkpoint, slot_path
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


@pytest.fixture(scope="module")
def technique_reference(tmp_path_factory):
    """An uninterrupted run with weight averaging, mixup + CutMix and class weights."""
    folder = tmp_path_factory.mktemp("technique_reference")
    project = tiny_project(folder, epochs=EPOCHS, dropout=True, schedule="one_cycle", ema=True, ema_decay=0.9,
                           mixup_alpha=0.4, cutmix_alpha=1.0, mix_probability=0.8, class_weights="balanced",
                           tta="shifts", best_metric="macro_f1")
    run_dir = folder / "run"
    code, events = run_worker(write_job(folder, project, run_dir))
    assert code == 0, events[-2:]
    return project, run_dir


def test_ema_and_mixup_resume_bit_exactly_after_kills(technique_reference, tmp_path):
    """SIGKILL mid-run (inside steps, evaluation, checkpoint writes), resume: the same weights,
    the same weight average and the same metrics as the uninterrupted run."""
    project, reference_dir = technique_reference
    run_dir = tmp_path / "run"
    rng = random.Random(99)
    mode, kills = "train", 0
    for _ in range(4):
        worker = WorkerProcess(write_job(tmp_path, project, run_dir, mode=mode), env=ENV, cwd=REPO,
                               stderr=subprocess.DEVNULL)
        mode = "resume"
        after = rng.randint(3, 12)
        seen = 0
        try:
            for event in worker.events():
                seen += event["event"] != "started"
                if seen >= after:
                    time.sleep(rng.uniform(0.0, 0.02))
                    os.kill(worker.pid, signal.SIGKILL)
                    kills += 1
                    break
        finally:
            worker.kill()
        if run_status(run_dir).get("status") == "completed":
            break
    assert kills >= 2
    if run_status(run_dir).get("status") != "completed":
        code, events = run_worker(write_job(tmp_path, project, run_dir, mode="resume"))
        assert code == 0, events[-2:]
    _assert_same_run(run_dir, reference_dir)
    ours = load_checkpoint(run_dir / "checkpoints", "last")
    theirs = load_checkpoint(reference_dir / "checkpoints", "last")
    assert ours.ema and len(ours.ema) == len(ours.model)
    assert any(not np.array_equal(a, w) for a, w in zip(theirs.ema, theirs.model, strict=True))  # an average
    for a, b in zip(ours.ema, theirs.ema, strict=True):
        np.testing.assert_array_equal(a, b)
    header = (reference_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["val_balanced_accuracy", "val_macro_f1"]
    rows = (run_dir / "metrics.csv").read_text().splitlines()[1:]
    assert all(row.split(",")[-1] for row in rows)  # macro-F1 written every epoch


def test_ema_run_evaluates_and_exports_the_average(technique_reference):
    """model.keras and an export from the checkpoint hold the weight average, not the raw weights."""
    import keras

    import cnnstudio.modeling  # noqa: F401  (registers our layers for loading)
    from cnnstudio.export.sources import load_source

    _, run_dir = technique_reference
    checkpoint = load_checkpoint(run_dir / "checkpoints", "last")
    saved = keras.saving.load_model(run_dir / "model.keras")
    source = load_source(run_dir, "last")
    for model in (saved, source.model):
        assert len(model.variables) == len(checkpoint.ema)
        for variable, average in zip(model.variables, checkpoint.ema, strict=True):
            if "float" in str(variable.dtype):  # random-generator states are not averaged
                np.testing.assert_array_equal(np.asarray(variable.numpy()), average)
        assert any(not np.array_equal(np.asarray(v.numpy()), raw)
                   for v, raw in zip(model.variables, checkpoint.model, strict=True) if "float" in str(v.dtype))


@pytest.mark.filterwarnings("ignore:The structure of `inputs`:UserWarning")  # Keras: a 1-input list model
def test_tta_baked_into_the_savedmodel_reproduces_the_runs_validation(technique_reference, tmp_path):
    """Export with --tta run: the SavedModel's accuracy on the validation images is the last epoch's
    val_accuracy as the app measured it (weight average + TTA), and the export passes its verification."""
    import tensorflow as tf

    from cnnstudio.export.exporter import export
    from tests.training.fixtures import tiny_data

    _, run_dir = technique_reference
    report = export(run_dir, "savedmodel", tmp_path / "sm", checkpoint="last", tta="run")
    assert report.passed, report.to_dict()
    assert any("Test-time augmentation baked in (shifts)" in note for note in report.notes)
    data = tiny_data(None)
    serving = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    probabilities = serving(images=tf.constant(data.x_val))["probabilities"].numpy()
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == data.y_val))
    last = (run_dir / "metrics.csv").read_text().splitlines()[-1].split(",")
    assert accuracy == pytest.approx(float(last[4]))
    # The same numbers as the app's TTA over the weight average, and not the plain model's.
    from cnnstudio.export.inference import inference_model
    from cnnstudio.export.sources import load_source
    from cnnstudio.training.tta import tta_probabilities

    model = inference_model(load_source(run_dir, "last").model)
    in_app = tta_probabilities(lambda x: model(x, training=False), tf.constant(data.x_val), "shifts", False)
    np.testing.assert_allclose(probabilities, in_app.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(probabilities, model(data.x_val).numpy(), atol=1e-4)
