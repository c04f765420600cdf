"""Small real data for the panel tests: a tiny image folder and a project that trains in seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from cnnstudio.graph.model import Graph
from cnnstudio.project.file import Project, save_project

REPO = Path(__file__).resolve().parents[3]
CLASSES = ("circle", "square", "stripes")


def _draw(kind: str, rng: np.random.Generator, size: int) -> np.ndarray:
    image = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
    y, x = np.mgrid[:size, :size]
    c = size / 2 + rng.uniform(-2, 2)
    if kind == "circle":
        mask = (y - c) ** 2 + (x - c) ** 2 < (size / 3) ** 2
    elif kind == "square":
        mask = (abs(y - c) < size / 3) & (abs(x - c) < size / 3)
    else:
        mask = (x // 3) % 2 == 0
    colour = {"circle": (230, 60, 60), "square": (60, 200, 80), "stripes": (70, 90, 240)}[kind]
    image[mask] = colour
    return image


def make_image_folder(root: Path, per_class: int = 12, size: int = 24, broken: bool = True) -> Path:
    """root/<class>/*.png with simple shapes, plus one unreadable file when `broken`."""
    rng = np.random.default_rng(0)
    for name in CLASSES:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(_draw(name, rng, size)).save(folder / f"{name}_{i:03d}.png")
    if broken:
        (root / CLASSES[0] / "broken.png").write_bytes(b"not really a png")
    return root


def tiny_graph(size: int = 16) -> Graph:
    g = Graph(name="tiny")
    g.add_layer("Input", name="input", height=size, width=size, channels=3)
    g.add_layer("Conv2D", ["input"], name="conv1", group="features", filters=4, kernel_size=3, activation="relu")
    g.add_layer("MaxPool2D", ["conv1"], name="pool1", group="features")
    g.add_layer("Flatten", ["pool1"], name="flat")
    g.add_layer("Dense", ["flat"], name="out", units=len(CLASSES), activation="softmax")
    return g


def make_project(folder: Path, data: Path, epochs: int = 1) -> Project:
    project = Project(graph=tiny_graph(), name="tiny")
    project.dataset["folder"] = str(data)
    project.dataset["validation_fraction"] = 0.25
    project.training["epochs"] = epochs
    project.training["batch_size"] = 8
    save_project(project, folder / "tiny.cnnproj")
    return project


def worker_env() -> dict[str, str]:
    return {"CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


FAKE_WORKER = r'''
import json, sys, time
n = int(sys.argv[1])
def emit(name, **fields):
    sys.stdout.write(json.dumps({"v": 1, "event": name, "time": time.time(), **fields}) + "\n")
classes = ["a", "b", "c"]
emit("started", run_dir=sys.argv[2], mode="train", strategy="default", replicas=1, devices=["CPU:0"],
     workers=1, worker_index=0, total_params=100, trainable_params=100, epochs=n // 1000 or 1,
     start_epoch=1, steps_per_epoch=1000, batch_size=32, class_names=classes, train_examples=32000,
     val_examples=300)
for i in range(n):
    epoch, step = i // 1000 + 1, i % 1000 + 1
    emit("batch", epoch=epoch, step=step, steps=1000, global_step=i + 1, loss=1.0 / (1 + i * 0.01),
         accuracy=min(1.0, i / n), lr=0.01, images_per_second=5000.0)
    if step == 1000:
        emit("epoch", epoch=epoch, epochs=n // 1000, loss=0.5, accuracy=0.8, val_loss=0.6,
             val_accuracy=0.7 + 0.01 * epoch, lr=0.01, seconds=1.0,
             per_class_accuracy=[0.7, 0.8, 0.6], confusion_matrix=[[70, 20, 10], [10, 80, 10], [30, 10, 60]],
             best=True)
emit("finished", status="completed", epochs_completed=n // 1000, best_metric=0.8, best_epoch=1,
     model_path=None, seconds=1.0)
'''


def fake_worker_command(tmp: Path, events: int) -> list[str]:
    """A stand-in worker that prints `events` batch events as fast as it can."""
    script = tmp / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    return [sys.executable, str(script), str(events), str(tmp / "fake-run")]


def write_run(run_dir: Path, project: Project, status: str = "completed", epochs: int = 3,
              best: float = 0.8, learning_rate: float = 0.01) -> Path:
    """A run directory as the engine leaves it (for runs-panel tests without training)."""
    run_dir.mkdir(parents=True)
    snapshot = project.to_dict()
    snapshot["training"]["learning_rate"] = learning_rate
    (run_dir / "config.json").write_text(json.dumps({"project": snapshot, "training": snapshot["training"],
                                                     "class_names": list(CLASSES), "seed": 42}))
    (run_dir / "job.json").write_text(json.dumps({"project": str(project.path), "run_dir": str(run_dir)}))
    rows = ["epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds"]
    for e in range(1, epochs + 1):
        rows.append(f"{e},{1.0 / e:.4f},{0.5 + 0.1 * e:.4f},{1.2 / e:.4f},{best - 0.1 * (epochs - e):.4f},"
                    f"{learning_rate},2.5")
    (run_dir / "metrics.csv").write_text("\n".join(rows) + "\n")
    (run_dir / "run.json").write_text(json.dumps({"status": status, "epochs": epochs, "epochs_completed": epochs,
                                                  "best_metric": best, "best_epoch": epochs}))
    return run_dir


def open_main_window(qtbot, project_file: Path, section: str | None = None):
    """A shown main window (1400×900) on a saved project, closed by qtbot at the test's end;
    never asks to save."""
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project

    _application()
    window = MainWindow(load_project(project_file))
    window.ask_save = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    if section:
        window.show_section(section)
    return window
