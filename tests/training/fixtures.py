"""Tiny projects and in-memory data for the engine's tests (importable by worker processes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.graph.model import Graph
from cnnstudio.project import Project, save_project


def tiny_graph(classes: int = 3, size: int = 8, dropout: bool = False) -> Graph:
    graph = Graph(name="tiny")
    x = graph.add_layer("Input", name="input", height=size, width=size, channels=1)
    x = graph.add_layer("Conv2D", [x], name="conv", filters=4, kernel_size=3, activation="relu")
    x = graph.add_layer("Flatten", [x], name="flatten")
    if dropout:
        x = graph.add_layer("Dropout", [x], name="drop", rate=0.2)
    graph.add_layer("Dense", [x], name="classifier", units=classes)
    return graph


def tiny_arrays(count: int, classes: int = 3, size: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class k lights up the k-th horizontal band: easy, but needs training."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, count).astype(np.int32)
    images = rng.integers(0, 60, (count, size, size, 1)).astype(np.uint8)
    band = size // classes
    for i, label in enumerate(labels):
        images[i, label * band:(label + 1) * band] += 150
    return images, labels


def tiny_data(project: Any):
    """data_source for jobs: 96 training and 48 validation images of 8x8x1."""
    from cnnstudio.training.data_source import ArrayData

    x, y = tiny_arrays(144)
    return ArrayData(x[:96], y[:96], x[96:], y[96:], ["top", "middle", "bottom"])


def exploding_data(project: Any):
    """Black images in epoch 1, bright ones from epoch 2: with a huge Rescaling the loss
    is fine for one epoch, then overflows to NaN."""
    from cnnstudio.training.data_source import ArrayData

    class Exploding(ArrayData):
        def train_dataset(self, epoch, batch_size, seed, skip_batches=0, drop_remainder=False):
            if epoch > 0:
                self.x_train[:] = 255
            return super().train_dataset(epoch, batch_size, seed, skip_batches, drop_remainder)

    x, y = tiny_arrays(64)
    x[:] = 0
    return Exploding(x[:48], y[:48], x[48:], y[48:], ["top", "middle", "bottom"])


def exploding_project(folder: Path) -> Path:
    graph = Graph(name="exploding")
    x = graph.add_layer("Input", name="input", height=8, width=8, channels=1)
    x = graph.add_layer("Rescaling", [x], name="huge", scale=1e30)
    x = graph.add_layer("Conv2D", [x], name="conv", filters=4, kernel_size=3)
    x = graph.add_layer("Flatten", [x], name="flatten")
    graph.add_layer("Dense", [x], name="classifier", units=3)
    project = Project(graph=graph, name="exploding")
    project.training.update({"epochs": 3, "batch_size": 16})
    return save_project(project, folder / "exploding.cnnproj")


def tiny_project(folder: Path, **training: Any) -> Path:
    project = Project(graph=tiny_graph(dropout=training.pop("dropout", False)), name="tiny")
    project.training.update({"epochs": 3, "batch_size": 16, "learning_rate": 0.01, **training})
    return save_project(project, folder / "tiny.cnnproj")
