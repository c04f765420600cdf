"""Histograms over training: recorded per epoch into the run directory and its TensorBoard logs."""

from __future__ import annotations

import json

import numpy as np

from cnnstudio.inspect.histogram_records import (
    gradient_flags,
    heat_rows,
    layer_names,
    read_histograms,
)
from cnnstudio.inspect.histograms import MAX_VALUES, truncate


def test_every_epoch_records_each_weighted_layer(inspect_run):
    records = read_histograms(inspect_run)
    epochs = json.loads((inspect_run / "run.json").read_text())["epochs_completed"]
    assert [r["epoch"] for r in records] == list(range(1, epochs + 1))
    assert layer_names(records) == ["conv1", "conv2", "classifier"]  # BN has no kernel
    first, last = records[0]["layers"]["conv1"], records[-1]["layers"]["conv1"]
    for kind in ("weights", "activations", "gradients"):
        entry = first[kind]
        assert len(entry["edges"]) == len(entry["counts"]) + 1 and sum(entry["counts"]) > 0
    assert sum(first["weights"]["counts"]) == 3 * 3 * 3 * 8  # all 216 kernel values
    # 15 images x 16x16x8 values: more than MAX_VALUES, so sampled at fixed positions
    assert sum(first["activations"]["counts"]) == min(MAX_VALUES, records[0]["sample_images"] * 16 * 16 * 8)
    assert first["weights"]["edges"] != last["weights"]["edges"]  # training moved the weights
    assert first["activations"]["edges"][0] >= 0.0  # conv1 has a ReLU
    rows, low, high = heat_rows(records, "conv2", "weights")
    assert len(rows) == epochs and all(abs(sum(row) - 1.0) < 1e-6 for row in rows) and low < high


def test_tensorboard_logs_hold_the_histograms(inspect_run):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    tags = set()
    for path in (inspect_run / "tensorboard" / "train").glob("events.out.tfevents.*"):
        for raw in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(raw.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "histograms":
                    tags.add(value.tag)
                    buckets = tf.make_ndarray(value.tensor)
                    assert buckets.ndim == 2 and buckets.shape[1] == 3
                    assert np.all(buckets[:, 0] <= buckets[:, 1])
    assert {"weights/conv1", "activations/conv2", "gradients/classifier"} <= tags


def _record(epoch, rms):
    entry = {"edges": [0.0, 1.0], "counts": [1], "mean": 0.0, "std": 0.0}
    return {"epoch": epoch, "layers": {name: {"gradients": {**entry, "rms": value}} for name, value in rms.items()}}


def test_gradient_flags_mark_vanishing_and_exploding_layers():
    records = [_record(1, {"conv1": 1e-3, "conv2": 2e-3, "fc": 5e-3}),
               _record(2, {"conv1": 1e-9, "conv2": 1e-3, "fc": 4e-3}),
               _record(3, {"conv1": 1e-8, "conv2": 500.0, "fc": float("nan")})]
    flags = {(f.epoch, f.layer, f.kind) for f in gradient_flags(records)}
    assert flags == {(2, "conv1", "vanishing"), (3, "conv1", "vanishing"), (3, "conv2", "exploding"),
                     (3, "fc", "exploding")}


def test_a_resumed_run_drops_the_epochs_it_redoes(tmp_path):
    path = tmp_path / "histograms.jsonl"
    path.write_text("".join(json.dumps(_record(e, {"a": 1.0})) + "\n" for e in (1, 2, 3)) + '{"epoch": 4, "lay')
    truncate(tmp_path, 2)
    assert [r["epoch"] for r in read_histograms(tmp_path)] == [1, 2]
