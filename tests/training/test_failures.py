"""Errors become categorised events with actionable messages; probes (lr-find, dry run)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.project import load_project, save_project
from cnnstudio.training.checkpoints import load_checkpoint
from cnnstudio.training.failures import classify
from tests.training.fixtures import exploding_project, tiny_graph, tiny_project
from tests.training.helpers import metrics_epochs, run_status, run_worker, write_job


def _event(events, name):
    return [e for e in events if e["event"] == name]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    project = exploding_project(tmp_path)
    run_dir = tmp_path / "run"
    code, events = run_worker(write_job(tmp_path, project, run_dir,
                                        data_source="tests.training.fixtures:exploding_data"))
    assert code == 1
    error = _event(events, "error")[0]
    assert error["category"] == "nan_loss"
    assert "learning rate" in error["message"] and "epoch 2" in error["message"]
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "failed"
    assert run_status(run_dir)["status"] == "failed"
    assert metrics_epochs(run_dir) == [1]
    checkpoint = load_checkpoint(run_dir / "checkpoints")
    assert checkpoint.state["progress"]["epochs_done"] == 1
    assert all(np.isfinite(v).all() for v in checkpoint.model if v.dtype.kind == "f")


def test_classifier_is_adapted_to_the_class_count_with_a_warning(tmp_path):
    path = tiny_project(tmp_path, epochs=1)
    project = load_project(path)
    project.graph = tiny_graph(classes=7)
    save_project(project, path)
    code, events = run_worker(write_job(tmp_path, path, tmp_path / "run"))
    assert code == 0
    warning = [e for e in _event(events, "warning") if e["code"] == "classes_adapted"][0]
    assert "'classifier' had 7 outputs" in warning["message"] and "3 classes" in warning["message"]


def test_invalid_architecture_is_reported(tmp_path):
    path = tiny_project(tmp_path, epochs=1)
    project = load_project(path)
    project.graph["conv"].params["kernel_size"] = 30  # larger than the 8x8 input
    save_project(project, path)
    code, events = run_worker(write_job(tmp_path, path, tmp_path / "run"))
    assert code == 1
    error = _event(events, "error")[0]
    assert error["category"] == "invalid_architecture" and "conv" in error["message"]


def test_out_of_memory_message_suggests_smaller_batch():
    class ResourceExhaustedError(Exception):
        pass

    category, message, _ = classify(ResourceExhaustedError("OOM when allocating tensor"), batch_size=256)
    assert category == "out_of_memory"
    assert "smaller batch size (now 256)" in message and "input image size" in message


def test_lr_find_and_dry_run(tmp_path):
    project = tiny_project(tmp_path, epochs=1)
    code, events = run_worker(write_job(tmp_path, project, tmp_path / "lr", mode="lr_find", max_steps=40))
    assert code == 0
    sweep = _event(events, "lr_find")[0]
    rates = sweep["learning_rates"]
    assert rates[0] < 1e-6 and rates == sorted(rates) and len(rates) == len(sweep["losses"])
    assert sweep["suggested_lr"] is None or rates[0] <= sweep["suggested_lr"] <= rates[-1]
    code, events = run_worker(write_job(tmp_path, project, tmp_path / "dry", mode="dry_run", max_steps=5))
    assert code == 0
    dry = _event(events, "dry_run")[0]
    assert dry["steps"] == 5 and dry["step_seconds"] > 0 and dry["peak_memory_bytes"] > 10_000_000
    assert not (tmp_path / "dry" / "job.json").exists()


def test_mixed_precision_xla_and_steps_per_execution(tmp_path):
    plain = tiny_project(tmp_path, epochs=2)
    code, _ = run_worker(write_job(tmp_path, plain, tmp_path / "plain"))
    assert code == 0
    (tmp_path / "fast").mkdir()
    fast = tiny_project(tmp_path / "fast", epochs=2, mixed_precision=True, xla=True, steps_per_execution=4)
    code, events = run_worker(write_job(tmp_path, fast, tmp_path / "fast" / "run"))
    assert code == 0, events[-2:]
    losses = [e["loss"] for e in _event(events, "epoch")]
    assert losses[1] < losses[0]
    # The loss-scaling optimizer (mixed precision) carries its own scale variables.
    plain_state = load_checkpoint(tmp_path / "plain" / "checkpoints")
    fast_state = load_checkpoint(tmp_path / "fast" / "run" / "checkpoints")
    assert len(fast_state.optimizer) > len(plain_state.optimizer)
    # Batch events come per call of 4 steps: every step count they report is a multiple of 4 or the end.
    steps = [e["step"] for e in _event(events, "batch")]
    assert all(s % 4 == 0 or s == 6 for s in steps)


def test_plateau_schedule_and_early_stopping(tmp_path):
    project = tiny_project(tmp_path, epochs=30, schedule="plateau", plateau_patience=1, early_stopping=3)
    run_dir = tmp_path / "run"
    code, events = run_worker(write_job(tmp_path, project, run_dir))
    assert code == 0
    codes = [e["code"] for e in _event(events, "warning")]
    assert "lr_reduced" in codes and "early_stopping" in codes
    finished = events[-1]
    assert finished["status"] == "completed" and finished["epochs_completed"] < 30
    rows = [line.split(",") for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    assert len(rows) == finished["epochs_completed"]
    rates = [float(r[5]) for r in rows]
    # Each drop divides the rate by 10 from the next epoch on.
    drops = [round(np.log10(rates[0] / r)) for r in rates]
    assert drops == sorted(drops) and 1 <= drops[-1] <= codes.count("lr_reduced")
    assert all(r == pytest.approx(rates[0] * 0.1**d, rel=1e-4) for r, d in zip(rates, drops, strict=True))


def test_xla_with_augmentation_and_max_pooling_trains(tmp_path):
    # XLA can compile neither the augmentation's image warps nor deterministic MaxPool
    # gradients: the engine moves augmentation into tf.data and skips op determinism.
    path = tiny_project(tmp_path, epochs=2, xla=True)
    project = load_project(path)
    graph = tiny_graph()
    graph.add_layer("MaxPool2D", ["conv"], name="pool")
    graph.set_inputs("flatten", ["pool"])
    project.graph = graph
    project.augmentation.update(rotation=10.0, flip_horizontal=True)
    save_project(project, path)
    code, events = run_worker(write_job(tmp_path, path, tmp_path / "run"))
    assert code == 0, [e for e in events if e["event"] == "error"]
    assert len(_event(events, "epoch")) == 2


def test_a_traceback_path_is_not_taken_for_an_unreadable_image():
    class InvalidArgumentError(Exception):
        pass

    category, message, _ = classify(InvalidArgumentError(
        'Graph execution error: File "keras/src/backend/tensorflow/image.py", line 385, in affine_transform'))
    assert category == "other" and "could not be read" not in message
    category, _, _ = classify(InvalidArgumentError("Error while decoding: Not a JPEG file: starts with 0x89"))
    assert category == "data_error"
