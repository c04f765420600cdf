"""One compiled validation pass feeds the metrics, the confusion matrix and val_predictions.json."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import tensorflow as tf

from cnnstudio.training.val_predictions import (
    prediction_rows,
    read_val_predictions,
    write_val_predictions,
)
from tests.training.fixtures import tiny_arrays, tiny_graph


def test_rows_refuse_a_count_that_does_not_match_the_paths(tmp_path):
    rows = prediction_rows(["a.png", "b.png"], np.array([0, 1]), np.array([1, 1]), np.array([0.6, 0.912345678]))
    assert rows == [{"label": 0, "predicted": 1, "confidence": 0.6, "path": "a.png"},
                    {"label": 1, "predicted": 1, "confidence": 0.91235, "path": "b.png"}]
    assert prediction_rows(["a.png"], np.array([0, 1]), np.array([1, 1]), np.array([0.5, 0.5])) is None
    assert not write_val_predictions(tmp_path, ["x", "y"], ["a.png"], np.array([0, 1]), np.array([1, 1]),
                                     np.array([0.5, 0.5]))
    assert read_val_predictions(tmp_path) is None


def test_the_validation_pass_writes_what_the_model_predicts(tmp_path, monkeypatch):
    import keras

    from cnnstudio.project import Project
    from cnnstudio.training.data_source import ArrayData
    from cnnstudio.training.events import EventWriter
    from cnnstudio.training.loop import Trainer
    from cnnstudio.training.rundir import RunDirectory
    from cnnstudio.training.strategy import choose_strategy

    x, y = tiny_arrays(70)
    paths = [f"/images/{i}.png" for i in range(30)]
    data = ArrayData(x[:40], y[:40], x[40:], y[40:], ["top", "middle", "bottom"], val_paths=paths)
    project = Project(graph=tiny_graph(), name="tiny")
    project.training.update({"epochs": 1, "batch_size": 16, "learning_rate": 0.01})
    # The model is called once per validation batch by the compiled pass only: no second, eager prediction.
    events: list[dict] = []
    rundir = RunDirectory(tmp_path / "run")
    rundir.create()
    trainer = Trainer(project, data, choose_strategy("auto"), rundir, EventWriter(io.StringIO(), sinks=[events.append]),
                      2, 16)
    trainer.build()
    eager_calls = []
    original_call = type(trainer.model).__call__
    monkeypatch.setattr(type(trainer.model), "__call__",
                        lambda self, *a, **k: (eager_calls.append(tf.executing_eagerly()), original_call(self, *a, **k))[1])
    assert trainer.run() == "completed"
    assert not any(eager_calls), "the validation set was predicted eagerly"
    # One graph for the whole pass (batches of 16 and 14): traced once for the run, not per batch shape.
    assert trainer.steps.evaluate.experimental_get_tracing_count() == 1

    saved = json.loads((tmp_path / "run" / "val_predictions.json").read_text())
    rows = saved["predictions"]
    assert saved["classes"] == ["top", "middle", "bottom"]
    assert [row["path"] for row in rows] == paths
    assert [row["label"] for row in rows] == y[40:].tolist()
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(trainer.model(x[40:], training=False)))
    assert [row["predicted"] for row in rows] == probabilities.argmax(axis=1).tolist()
    np.testing.assert_allclose([row["confidence"] for row in rows], probabilities.max(axis=1), atol=1e-4)
    # The same pass gave the epoch's confusion matrix and accuracy.
    epoch = [e for e in events if e["event"] == "epoch"][-1]
    matrix = np.zeros((3, 3), int)
    for row in rows:
        matrix[row["label"], row["predicted"]] += 1
    assert epoch["confusion_matrix"] == matrix.tolist()
    assert epoch["val_accuracy"] == pytest.approx(np.trace(matrix) / len(rows))
