"""The whole run as a user runs it: `cnnstudio train` on a folder vs `model.fit` on the same folder.

    python benchmarks/end_to_end.py [--images 3000] [--size 32] [--epochs 3] [--rounds 2] [--depth 20]

Both sides start a fresh Python process, read the same generated folder of PNGs (10
classes), hold out 20 % for validation, validate every epoch and save a checkpoint every
epoch. Ours: `cnnstudio train PROJECT --data FOLDER --run-dir DIR` (worker process, events,
progress bar, checkpoints, val_predictions.json). Reference: a script doing what the Keras
tutorials do (image_dataset_from_directory with validation_split, .cache().prefetch(),
the same model from the same project, model.fit with validation_data and a
ModelCheckpoint). Runs alternate (fit, ours, fit, ours ...) so a noisy neighbour hurts
both alike; each side's best wall time is kept. The last line is the ratio
fit time / our time (goal >= 0.95).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOAL = 0.95
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


def make_folder(root: Path, count: int, size: int, classes: int = 10) -> Path:
    """`count` PNGs of size×size in `classes` folders; each class has its own colour bias."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for index in range(count):
        label = index % classes
        folder = root / f"class_{label:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 120, (size, size, 3)).astype(np.uint8)
        pixels[..., label % 3] += np.uint8(40 + 12 * label)
        Image.fromarray(pixels).save(folder / f"{index:06d}.png")
    return root


def make_project(path: Path, folder: Path, size: int, depth: int, epochs: int, batch: int) -> Path:
    from cnnstudio import zoo
    from cnnstudio.project import Project, save_project

    graph = zoo.create("resnet", size=(size, size), channels=3, classes=10, depth=depth)
    project = Project(graph=graph, name="end-to-end")
    project.dataset.update({"folder": str(folder), "validation_fraction": 0.2})
    project.training.update({"epochs": epochs, "batch_size": batch, "optimizer": "sgd_momentum",
                             "learning_rate": 0.05})
    return save_project(project, path)


def time_ours(project: Path, folder: Path, epochs: int, run_dir: Path) -> float:
    command = [sys.executable, "-m", "cnnstudio", "train", str(project), "--data", str(folder),
               "--epochs", str(epochs), "--run-dir", str(run_dir)]
    started = time.perf_counter()
    result = subprocess.run(command, env=ENV, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"cnnstudio train failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def time_fit(project: Path, folder: Path, epochs: int, out: Path) -> float:
    command = [sys.executable, __file__, "--fit-child", str(project), str(folder), str(epochs), str(out)]
    started = time.perf_counter()
    result = subprocess.run(command, env=ENV, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"model.fit side failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def fit_child(project_file: str, folder: str, epochs: int, out: str) -> None:
    """The reference run, in its own process (imports timed like ours)."""
    import keras
    import tensorflow as tf

    from cnnstudio.project import load_project
    from cnnstudio.training.assembly import assemble
    from cnnstudio.training.optimizers import build_optimizer

    project = load_project(project_file)
    graph_input = project.graph[project.graph.inputs()[0]].params
    size = (int(graph_input["height"]), int(graph_input["width"]))
    batch = int(project.training["batch_size"])
    train, val = keras.utils.image_dataset_from_directory(
        folder, validation_split=0.2, subset="both", seed=42, image_size=size, batch_size=batch)
    classes = list(train.class_names)
    train = train.cache().prefetch(tf.data.AUTOTUNE)
    val = val.cache().prefetch(tf.data.AUTOTUNE)
    keras.utils.set_random_seed(0)
    built = assemble(project, classes, (*size, 3), None, 0)
    model = built.model
    model.compile(optimizer=build_optimizer(project.training),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=built.from_logits),
                  metrics=["accuracy"])
    Path(out).mkdir(parents=True, exist_ok=True)
    checkpoint = keras.callbacks.ModelCheckpoint(str(Path(out) / "last.weights.h5"), save_weights_only=True)
    model.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[checkpoint])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--fit-child":
        fit_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--depth", type=int, default=20, help="ResNet depth (6n+2)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnnstudio-e2e-") as temporary:
        root = Path(temporary)
        folder = make_folder(root / "images", args.images, args.size)
        project = make_project(root / "bench.cnnproj", folder, args.size, args.depth, args.epochs, args.batch)
        ours, fit = [], []
        for index in range(args.rounds):
            fit.append(time_fit(project, folder, args.epochs, root / f"fit-{index}"))
            ours.append(time_ours(project, folder, args.epochs, root / f"run-{index}"))
            print(f"round {index + 1}: model.fit {fit[-1]:.1f} s, cnnstudio train {ours[-1]:.1f} s", flush=True)
    print(f"ResNet-{args.depth}, {args.images} images of {args.size}x{args.size}, {args.epochs} epochs with "
          f"validation, {os.cpu_count()} CPUs")
    print(f"model.fit (image_dataset_from_directory, cache, ModelCheckpoint): best {min(fit):.1f} s")
    print(f"cnnstudio train (worker, events, checkpoints, val predictions): best {min(ours):.1f} s")
    ratio = min(fit) / min(ours)
    print(f"ratio fit/ours (time): {ratio:.3f}x (goal >= {GOAL}x) {'OK' if ratio >= GOAL else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
