"""Histograms over training: weights, activations and gradients of each weighted layer, per epoch.

The training loop calls `attach(trainer)` once and `recorder.record(epoch)` after each
epoch. Activations and gradients come from one forward and one backward pass over a fixed
small batch of validation images (training images when there is no validation split);
large tensors are sampled at fixed positions, so the cost stays bounded (a few percent of an
epoch at most; benchmarks/train_throughput.py measures it). Written to
RUN_DIR/histograms.jsonl (cnnstudio.inspect.histogram_records reads it) and to the run's
TensorBoard logs as histograms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.inspect.histogram_records import FILE_NAME

SAMPLE_IMAGES = 16  # the fixed batch the activations and gradients are measured on
MAX_VALUES = 20_000  # values per histogram: larger tensors are sampled at fixed positions
BINS = 30


def attach(trainer: Any) -> HistogramRecorder | None:
    """A recorder for this run, or None when histograms are off or this worker does not write."""
    if not trainer.rundir.writer or not trainer.training.get("histograms", True):
        return None
    truncate(trainer.rundir.path, trainer.progress.epochs_done)  # a resumed run redoes later epochs
    try:
        return HistogramRecorder(trainer.model, trainer.data, Path(trainer.rundir.path), trainer.from_logits,
                                 trainer.tensorboard.get("train"))
    except ValueError:
        return None  # a model whose architecture has no weighted layers: nothing to record


class HistogramRecorder:
    def __init__(self, model: Any, data: Any, run_dir: Path, from_logits: bool, writer: Any = None):
        import keras
        import tensorflow as tf

        from cnnstudio.inspect.probe import probe_from_model

        self.run_dir, self.writer = run_dir, writer
        self.probe = probe_from_model(model, float32=False)  # the live model, not a copy
        self.layers = [layer for layer in self.probe.layers if _kernel(layer) is not None]
        if not self.layers:
            raise ValueError("no weighted layers")
        images, labels = _sample(data)
        self.images = tf.constant(images)
        self.labels = tf.constant(labels.astype(np.int32))
        outputs = [self.probe.output_of(layer) for layer in self.layers]
        probe_model = keras.Model(self.probe.network.inputs[0], [*outputs, self.probe.network.outputs[0]])
        kernels = [_kernel(layer) for layer in self.layers]
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        prefix = self.probe.prepare

        @tf.function(reduce_retracing=True)
        def measure(x, y):
            with tf.GradientTape() as tape:
                values = probe_model(prefix(x), training=False)
                loss = loss_fn(y, tf.cast(values[-1], tf.float32))
            gradients = tape.gradient(loss, kernels)
            return values[:-1], gradients

        self._measure = measure
        self._rng = np.random.default_rng(0)
        self._picks: dict[tuple[str, int], np.ndarray] = {}

    def _sampled(self, key: str, values: np.ndarray) -> np.ndarray:
        flat = values.reshape(-1)
        if flat.size <= MAX_VALUES:
            return flat
        picks = self._picks.get((key, flat.size))
        if picks is None:  # the same positions every epoch, so epochs compare
            picks = self._rng.choice(flat.size, MAX_VALUES, replace=False)
            self._picks[(key, flat.size)] = picks
        return flat[picks]

    def record(self, epoch: int) -> dict[str, Any]:
        activations, gradients = self._measure(self.images, self.labels)
        layers: dict[str, Any] = {}
        for layer, activation, gradient in zip(self.layers, activations, gradients, strict=True):
            weights = np.asarray(_kernel(layer).numpy(), dtype=np.float32)
            entry = {"weights": _histogram(self._sampled(layer.name + "/w", weights)),
                     "activations": _histogram(self._sampled(layer.name + "/a",
                                                             np.asarray(activation, dtype=np.float32)))}
            if gradient is not None:
                entry["gradients"] = _histogram(self._sampled(layer.name + "/g", np.asarray(gradient, np.float32)))
            layers[layer.name] = entry
        record = {"epoch": int(epoch), "sample_images": int(self.images.shape[0]), "layers": layers}
        with (self.run_dir / FILE_NAME).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._write_tensorboard(record)
        return record

    def _write_tensorboard(self, record: dict[str, Any]) -> None:
        if self.writer is None:
            return
        with self.writer.as_default():
            for name, kinds in record["layers"].items():
                for kind, entry in kinds.items():
                    _tensorboard_histogram(f"{kind}/{name}", entry, record["epoch"])
        self.writer.flush()


def truncate(run_dir: str | Path, epochs_done: int) -> None:
    """Drop records past the checkpoint a resumed run starts from (those epochs are redone)."""
    from cnnstudio.fileio import write_text_atomic
    from cnnstudio.inspect.histogram_records import read_histograms

    path = Path(run_dir) / FILE_NAME
    if not path.exists():
        return
    kept = [r for r in read_histograms(run_dir) if r["epoch"] <= epochs_done]
    write_text_atomic(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in kept))


def _kernel(layer: Any) -> Any:
    for attribute in ("kernel", "depthwise_kernel", "embeddings"):
        value = getattr(layer, attribute, None)
        if value is not None and getattr(value, "trainable", True):
            return value
    return None


def _sample(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """The first SAMPLE_IMAGES validation images (training images without a validation split)."""
    for images, labels in (getattr(data, "x_val", None), getattr(data, "y_val", None)), \
            (getattr(data, "x_train", None), getattr(data, "y_train", None)):
        if images is not None and len(images):
            return np.asarray(images[:SAMPLE_IMAGES]), np.asarray(labels[:SAMPLE_IMAGES])
    dataset = data.val_dataset(SAMPLE_IMAGES) or data.train_dataset(0, SAMPLE_IMAGES, 0)
    images, labels = next(iter(dataset))
    return images.numpy(), labels.numpy()


def _histogram(values: np.ndarray) -> dict[str, Any]:
    values = values[np.isfinite(values)] if not np.isfinite(values).all() else values
    if values.size == 0:
        return {"edges": [0.0, 1.0], "counts": [0], "mean": float("nan"), "std": float("nan"), "rms": float("inf")}
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(values, bins=BINS, range=(low, high))
    return {"edges": [round(float(e), 8) for e in edges], "counts": counts.astype(int).tolist(),
            "mean": float(values.mean()), "std": float(values.std()), "rms": float(np.sqrt(np.mean(values ** 2)))}


def _tensorboard_histogram(tag: str, entry: dict[str, Any], step: int) -> None:
    """A TensorBoard histogram ([k,3] left, right, count) without the tensorboard package."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    edges, counts = entry["edges"], entry["counts"]
    buckets = np.array([[edges[i], edges[i + 1], counts[i]] for i in range(len(counts))], dtype=np.float64)
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "histograms"
    tf.summary.write(tag, tf.constant(buckets), step=step, metadata=metadata)
