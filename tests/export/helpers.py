"""Tiny image folders and a tiny trained run, shared by the export and fine-tuning tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cnnstudio.graph.model import Graph
from cnnstudio.project import Project, save_project

SIZE = 16
# Dataset A: which colour a small square has. Dataset B (fine-tuning): which way a bar lies.
# Objects sit at random places on dark noise, so Grad-CAM has somewhere to look.
COLOURS = {"red": (230, 30, 30), "green": (30, 220, 40), "blue": (40, 60, 235)}
BARS = {"horizontal": (3, 10), "vertical": (10, 3)}


def draw(kind: str, name: str, rng: np.random.Generator, size: int = SIZE) -> tuple[np.ndarray, tuple]:
    """One image and the object's box (top, left, height, width)."""
    image = rng.integers(0, 50, (size, size, 3)).astype(np.uint8)
    height, width = (5, 5) if kind == "colours" else BARS[name]
    top = int(rng.integers(0, size - height + 1))
    left = int(rng.integers(0, size - width + 1))
    image[top:top + height, left:left + width] = COLOURS[name] if kind == "colours" else (235, 235, 235)
    return image, (top, left, height, width)


def write_dataset(folder: Path, kind: str = "colours", per_class: int = 16, seed: int = 0) -> Path:
    """An image folder: one subfolder per class of PNG files (some stored larger, to exercise resizing)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (COLOURS if kind == "colours" else BARS):
        (folder / name).mkdir(exist_ok=True)
        for i in range(per_class):
            image, _ = draw(kind, name, rng)
            stored = Image.fromarray(image)
            if i % 4 == 3:  # a few larger files: the resize policy matters
                stored = stored.resize((SIZE * 2, SIZE * 2), Image.NEAREST)
            buffer = io.BytesIO()
            stored.save(buffer, "PNG")
            (folder / name / f"{name}_{i:03d}.png").write_bytes(buffer.getvalue())
    return folder


def tiny_graph(classes: int = 3) -> Graph:
    graph = Graph(name="tiny_cnn")
    x = graph.add_layer("Input", name="input", height=SIZE, width=SIZE, channels=3)
    x = graph.add_layer("Conv2D", [x], name="conv1", filters=8, kernel_size=3, padding="same",
                        activation="relu", group="backbone")
    x = graph.add_layer("BatchNorm", [x], name="bn1", group="backbone")
    x = graph.add_layer("Conv2D", [x], name="conv2", filters=8, kernel_size=3, padding="same",
                        activation="relu", group="backbone")
    x = graph.add_layer("GlobalAvgPool2D", [x], name="pool")
    graph.add_layer("Dense", [x], name="classifier", units=classes, activation="softmax", group="head")
    return graph


def make_project(folder: Path, data: Path, **training: Any) -> Path:
    project = Project(graph=tiny_graph(), name="tiny")
    project.dataset.update({"folder": str(data), "validation_fraction": 0.25})
    project.training.update({"epochs": 6, "batch_size": 8, "learning_rate": 0.01, **training})
    return save_project(project, folder / "tiny.cnnproj")


def train(project_path: Path, run_dir: Path, **job_fields: Any) -> Path:
    """Run the training engine in-process (no worker start-up cost) and return the run directory."""
    import io as _io

    from cnnstudio.training.job import Job
    from cnnstudio.training.worker import run_job

    stream = _io.StringIO()
    status = run_job(Job(project=str(project_path), run_dir=str(run_dir), **job_fields), stream)
    assert status == 0, stream.getvalue()[-3000:]
    return run_dir
