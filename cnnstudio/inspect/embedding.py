"""The embedding map: penultimate-layer features of a run's validation or test images in 2-D.

Features and predictions are computed once per (run, checkpoint, split) and cached in
RUN_DIR/inspect/; each projection method is cached beside them. A cache is reused only
while the checkpoint file it came from is unchanged.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.inspect.probe import Probe, classifier_input, open_probe
from cnnstudio.inspect.projection import project_points
from cnnstudio.inspect.results import Embedding

SPLITS = ("val", "test")
Progress = Callable[[float, str], None]


def split_files(run_dir: Path, split: str) -> tuple[list[str], list[str], list[str]]:
    """(image paths, their true class names, the run's class names) of the run's val or test split."""
    from cnnstudio.data import prepare_data
    from cnnstudio.export.sources import _read_json, run_class_names
    from cnnstudio.project.file import Project

    if split not in SPLITS:
        raise ExportError(f"--split must be one of {', '.join(SPLITS)}. Received: {split!r}")
    config = _read_json(run_dir / "config.json")
    if not isinstance(config.get("project"), dict):
        raise ExportError(f"{run_dir}: not a training run directory (no config.json with the project).")
    project = Project.from_dict(config["project"], where=str(run_dir / "config.json"))
    classes = run_class_names(config)
    data = prepare_data(project)
    files = list(data.files.get(split) or [])
    if not files:
        hint = "set a test fraction in the project's dataset settings" if split == "test" else \
            "set a validation fraction"
        raise ExportError(f"{run_dir}: the run's {split} split has no images; {hint}, or use the other split.")
    return [path for path, _ in files], [data.class_names[label] for _, label in files], classes


def _cache_dir(run_dir: Path) -> Path:
    return run_dir / "inspect"


def _checkpoint_stamp(probe: Probe) -> str:
    """What the features depend on: the checkpoint (or model) file's size and modification time."""
    run_dir = Path(probe.path)
    candidates = [run_dir / "checkpoints" / f"{probe.checkpoint}.npz", run_dir / "model.keras"]
    for path in candidates:
        if path.exists():
            stat = path.stat()
            return f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"
    return "none"


def _save_npz(path: Path, **arrays) -> None:
    from cnnstudio.fileio import write_bytes_atomic

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        write_bytes_atomic(path, buffer.getvalue())
    except OSError:
        pass  # a read-only run directory: the map is still returned, only not cached


def features_of(probe: Probe, split: str, progress: Progress | None = None,
                batch_size: int = 64) -> dict[str, np.ndarray | list[str]]:
    """{"images", "true", "features", "probabilities"} of the split, cached per checkpoint."""
    run_dir = Path(probe.path)
    stamp = _checkpoint_stamp(probe)
    cache = _cache_dir(run_dir) / f"features-{probe.checkpoint}-{split}.npz"
    if cache.exists():
        try:
            with np.load(cache) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("stamp") == stamp:
                    return {"images": meta["images"], "true": data["true"], "features": data["features"],
                            "probabilities": data["probabilities"]}
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is recomputed
    paths, truths, classes = split_files(run_dir, split)
    index = {name: i for i, name in enumerate(probe.class_names)}
    missing = sorted({t for t in truths if t not in index})
    if missing:
        raise ExportError(f"{run_dir}: the dataset now has classes the run was not trained on ({', '.join(missing)}).")
    layer = classifier_input(probe)
    features, probabilities = [], []
    for start in range(0, len(paths), batch_size):
        images = probe.load_images(paths[start:start + batch_size])
        (values,), scores = probe.run(images, (layer,))
        features.append(np.asarray(values, dtype=np.float32).reshape(len(images), -1))
        probabilities.append(np.asarray(scores, dtype=np.float32))
        if progress is not None:
            progress(min(1.0, (start + len(images)) / len(paths)), f"features of {start + len(images)}/{len(paths)} images")
    scores = np.concatenate(probabilities)
    from cnnstudio.inspect.probe import _ends_with_softmax, _softmax

    if not _ends_with_softmax(probe.network):
        scores = _softmax(scores)
    result = {"images": paths, "true": np.array([index[t] for t in truths], np.int32),
              "features": np.concatenate(features), "probabilities": scores}
    _save_npz(cache, meta=np.array(json.dumps({"stamp": stamp, "images": paths})), true=result["true"],
              features=result["features"], probabilities=scores)
    return result


def embed(source: str | Path | Probe, method: str = "pca", split: str = "val", checkpoint: str | None = None,
          progress: Progress | None = None, seed: int = 0) -> Embedding:
    """The embedding map of a run's split (cached per checkpoint, split and method)."""
    from cnnstudio.inspect.projection import check_method

    check_method(method)
    if split not in SPLITS:
        raise ExportError(f"--split must be one of {', '.join(SPLITS)}. Received: {split!r}")
    probe = source if isinstance(source, Probe) else open_probe(source, checkpoint)
    if probe.kind != "run":
        raise ExportError(f"{probe.path}: an embedding map needs a run directory (its validation/test split).")
    say = progress or (lambda _fraction, _message: None)
    data = features_of(probe, split, lambda f, m: say(0.5 * f, m))
    stamp = _checkpoint_stamp(probe)
    cache = _cache_dir(Path(probe.path)) / f"embedding-{probe.checkpoint}-{split}-{method}.npz"
    points = None
    if cache.exists():
        try:
            with np.load(cache) as stored:
                if str(stored["stamp"]) == stamp and len(stored["points"]) == len(data["images"]):
                    points = stored["points"]
        except (OSError, ValueError, KeyError):
            points = None
    if points is None:
        say(0.5, f"{method} of {len(data['images'])} points")
        points = project_points(data["features"], method, seed, lambda f: say(0.5 + 0.5 * f, method))
        _save_npz(cache, stamp=np.array(stamp), points=points)
    say(1.0, "done")
    probabilities = np.asarray(data["probabilities"])
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :5].astype(np.int32)
    return Embedding(method, split, list(data["images"]), np.asarray(data["true"]), top[:, 0], points,
                     list(probe.class_names), top)
