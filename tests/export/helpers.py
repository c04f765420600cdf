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
# Dataset A: where a bright square sits. Dataset B (fine-tuning): which colour it has.
POSITIONS = {"top_left": (1, 1), "top_right": (1, 9), "bottom_left": (9, 1)}
COLOURS = {"red": (230, 30, 30), "green": (30, 220, 40)}


def draw(kind: str, rng: np.random.Generator, size: int = SIZE, where: tuple[int, int] | None = None,
         colour: tuple[int, int, int] = (240, 240, 240)) -> np.ndarray:
    image = rng.integers(0, 50, (size, size, 3)).astype(np.uint8)
    top, left = where if where is not None else POSITIONS[kind]
    image[top:top + 6, left:left + 6] = colour
    return image


def write_dataset(folder: Path, kind: str = "positions", per_class: int = 16, seed: int = 0,
                  image_size: int = SIZE) -> Path:
    """An image folder: one subfolder per class of PNG files (some stored larger, to exercise resizing)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    classes = POSITIONS if kind == "positions" else COLOURS
    for name in classes:
        (folder / name).mkdir(exist_ok=True)
        for i in range(per_class):
            if kind == "positions":
                image = draw(name, rng, image_size)
            else:
                spot = tuple(int(v) for v in rng.integers(0, image_size - 6, 2))
                image = draw("", rng, image_size, where=spot, colour=COLOURS[name])
            stored = Image.fromarray(image)
            if i % 4 == 3:  # a few larger files: the resize policy matters
                stored = stored.resize((image_size * 2, image_size * 2), Image.NEAREST)
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
    project.training.update({"epochs": 3, "batch_size": 8, "learning_rate": 0.01, **training})
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
