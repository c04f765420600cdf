"""What can be exported or fine-tuned: a run directory, a .keras file or a project.

`load_source` turns any of them into a `ModelSource`: the Keras model as trained, its class
names, input spec, preprocessing settings, metrics and where it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.errors import ExportError, StudioError

CHECKPOINTS = ("best", "last")
PROJECT_SUFFIXES = (".cnnproj", ".json")


@dataclass
class ModelSource:
    kind: str  # "run", "keras" or "project"
    path: Path
    model: Any  # the model as saved: preprocessing + augmentation + architecture (or the bare architecture)
    class_names: list[str]
    preprocessing: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    dataset_folder: Path | None = None
    checkpoint: str | None = None
    from_logits: bool | None = None  # None: decided from the model's last layer
    trained: bool = True
    notes: list[str] = field(default_factory=list)
    project: dict[str, Any] | None = None  # the project (architecture + settings) it was trained from

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "path": str(self.path)}
        if self.checkpoint:
            out["checkpoint"] = self.checkpoint
        return out


def source_kind(path: Path) -> str:
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            return "savedmodel"
        if (path / "config.json").exists() or (path / "run.json").exists() or (path / "checkpoints").is_dir():
            return "run"
        raise ExportError(f"{path}: a folder that is neither a run directory (config.json, checkpoints/) "
                          "nor a SavedModel (saved_model.pb).")
    if path.suffix == ".keras":
        return "keras"
    if path.suffix in PROJECT_SUFFIXES:
        return "project"
    raise ExportError(f"{path}: not a run directory, .keras file or project (*.cnnproj).")


def load_source(path: str | Path, checkpoint: str | None = None) -> ModelSource:
    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path}: no such file or folder.")
    kind = source_kind(path)
    if checkpoint is not None and kind != "run":
        raise ExportError(f"--checkpoint applies to run directories only; {path} is a {kind}.")
    if kind == "run":
        return load_run(path, checkpoint or "best")
    if kind == "keras":
        return load_keras_file(path)
    if kind == "project":
        return load_project_source(path)
    raise ExportError(f"{path}: a SavedModel is an export result, not a source; export from the run "
                      "directory or the .keras file instead.")


# ---- .keras files ------------------------------------------------------------------------
def register_custom_objects() -> None:
    """Register CNN Studio's serializable layers with Keras (importing the package does it)."""
    import cnnstudio.modeling  # noqa: F401


def read_keras_model(path: Path) -> Any:
    import keras

    register_custom_objects()
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad or foreign file
        raise ExportError(f"{path}: cannot be loaded as a Keras model ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}).") from None


def sidecar_card(path: Path) -> dict[str, Any]:
    """The model card written beside a .keras file by export, or the run's config beside model.keras."""
    for candidate in (path.with_name(path.stem + ".model_card.json"), path.parent / "model_card.json"):
        if candidate.exists():
            try:
                return json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
    if (path.parent / "config.json").exists():
        config = _read_json(path.parent / "config.json")
        return {"classes": run_class_names(config), "preprocessing": _run_project(config).get("preprocessing", {}),
                "project": _run_project(config) or None}
    return {}


def load_keras_file(path: Path) -> ModelSource:
    model = read_keras_model(path)
    card = sidecar_card(path)
    classes = list(card.get("classes") or [])
    notes = []
    count = int(model.outputs[0].shape[-1])
    if len(classes) != count:
        classes = [f"class_{i}" for i in range(count)]
        notes.append(f"No class names found beside {path.name} (model_card.json); using class_0..class_{count - 1}.")
    return ModelSource("keras", path, model, classes, preprocessing=dict(card.get("preprocessing") or {}),
                       metrics=dict(card.get("metrics") or {}), notes=notes,
                       dataset_folder=_existing(card.get("dataset_folder")),
                       project=card.get("project") if isinstance(card.get("project"), dict) else None)


# ---- projects ----------------------------------------------------------------------------
def load_project_source(path: Path) -> ModelSource:
    from cnnstudio.modeling.builder import build_model
    from cnnstudio.project.file import load_project

    project = load_project(path)
    model = build_model(project.graph)
    count = int(model.outputs[0].shape[-1])
    return ModelSource("project", path, model, [f"class_{i}" for i in range(count)],
                       preprocessing=dict(project.preprocessing), trained=False,
                       dataset_folder=project.dataset_folder(), project=project.to_dict(),
                       notes=["An untrained architecture: random weights, no preprocessing layers."])


# ---- run directories ---------------------------------------------------------------------
def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: unreadable ({exc}).") from None
    return data if isinstance(data, dict) else {}


def _existing(folder: Any) -> Path | None:
    if not folder:
        return None
    candidate = Path(str(folder)).expanduser()
    return candidate if candidate.is_dir() else None


def _run_project(config: dict[str, Any]) -> dict[str, Any]:
    project = config.get("project")
    return project if isinstance(project, dict) else {}


def run_class_names(config: dict[str, Any]) -> list[str]:
    names = config.get("class_names")
    return [str(name) for name in names] if isinstance(names, list) else []


def _run_dataset_folder(config: dict[str, Any]) -> Path | None:
    """The run's image folder (the samples verification uses), if it still exists."""
    job = config.get("job") if isinstance(config.get("job"), dict) else {}
    for value in ((_run_project(config).get("dataset") or {}).get("folder"), job.get("data")):
        found = _existing(value)
        if found is not None:
            return found
    return None


def _run_metrics(run: dict[str, Any], rows: list[dict[str, Any]], slot: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {k: run[k] for k in ("best_metric", "best_epoch", "epochs_completed", "status")
                               if k in run}
    if rows:
        row = rows[-1]
        if slot == "best" and run.get("best_epoch") is not None:
            row = next((r for r in rows if r.get("epoch") == run["best_epoch"]), row)
        metrics.update({k: row[k] for k in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
                        if row.get(k) is not None})
    return metrics


def _rebuild_run_model(config: dict[str, Any], classes: list[str], where: Path) -> Any:
    """The model a run trains, rebuilt from its config snapshot (used when model.keras is absent)."""
    from cnnstudio.project.file import Project
    from cnnstudio.training.assembly import assemble

    shape = config.get("image_shape")
    if not shape or not classes or not _run_project(config):
        raise ExportError(f"{where}: the run has no model.keras and its config.json lacks the project, "
                          "class names or image shape needed to rebuild the model.")
    project = Project.from_dict(_run_project(config), where=str(where / "config.json"))
    statistics = _placeholder_statistics(tuple(shape), project.preprocessing)
    seed = int(project.training.get("seed", 42))
    return assemble(project, classes, tuple(shape), statistics, seed).model


def _placeholder_statistics(shape: tuple[int, int, int], preprocessing: dict[str, Any]) -> Any:
    """Identity statistics: they only size the normalisation layer; the checkpoint fills in the real ones."""
    import numpy as np

    from cnnstudio.data.statistics import Statistics

    mode = preprocessing.get("normalization", "rescale")
    size = int(np.prod(shape))
    whitening = mode in ("pca", "zca")
    return Statistics(image_shape=shape, resize=preprocessing.get("resize", "stretch"), count=1,
                      channel_mean=np.zeros(shape[-1]), channel_std=np.ones(shape[-1]),
                      mean_image=np.zeros(shape), whitening=mode if whitening else None,
                      eigenvectors=np.eye(size) if whitening else None,
                      eigenvalues=np.ones(size) if whitening else None)


def load_run(path: Path, slot: str) -> ModelSource:
    from cnnstudio.training.checkpoints import load_checkpoint
    from cnnstudio.training.rundir import RunDirectory

    if slot not in CHECKPOINTS:
        raise ExportError(f"--checkpoint must be one of {', '.join(CHECKPOINTS)}. Received: {slot!r}")
    rundir = RunDirectory(path, writer=False)
    config = _read_json(rundir.config_file)
    run = _read_json(rundir.run_file)
    classes = run_class_names(config)
    checkpoint = load_checkpoint(rundir.checkpoints, slot)
    used = slot
    notes: list[str] = []
    if checkpoint is None and slot == "best":
        checkpoint = load_checkpoint(rundir.checkpoints, "last")
        if checkpoint is not None:
            used = "last"
            notes.append("The run has no best checkpoint (no validation data?); used the last one.")
    if rundir.model_file.exists():
        model = read_keras_model(rundir.model_file)
    elif checkpoint is None:
        raise ExportError(f"{path}: the run has neither checkpoints nor model.keras; train it first.")
    else:
        try:
            model = _rebuild_run_model(config, classes, path)
        except StudioError:
            raise
        except Exception as exc:
            raise ExportError(f"{path}: cannot rebuild the run's model from config.json ({exc}).") from None
    if checkpoint is not None:
        if len(checkpoint.model) != len(model.variables):
            raise ExportError(f"{checkpoint.path}: holds {len(checkpoint.model)} variables but the run's model "
                              f"has {len(model.variables)}; the checkpoint belongs to another model.")
        for variable, value in zip(model.variables, checkpoint.inference_weights(), strict=True):  # EMA if kept
            variable.assign(value)
    else:
        used = "final"
        notes.append(f"No {slot} checkpoint; exported the final model.keras.")
    count = int(model.outputs[0].shape[-1])
    if len(classes) != count:
        notes.append(f"{path}: config.json names {len(classes)} classes but the model has {count} outputs; "
                     "using class_0..")
        classes = [f"class_{i}" for i in range(count)]
    from_logits = None
    if _run_project(config):
        from cnnstudio.project.file import Project
        from cnnstudio.training.assembly import ends_with_softmax

        try:  # the engine trained with from_logits = not ends_with_softmax(graph)
            from_logits = not ends_with_softmax(Project.from_dict(_run_project(config)).graph)
        except StudioError:
            from_logits = None
    return ModelSource("run", path, model, classes, from_logits=from_logits,
                       preprocessing=dict(_run_project(config).get("preprocessing") or {}),
                       metrics=_run_metrics(run, rundir.read_metrics(), used),
                       dataset_folder=_run_dataset_folder(config), checkpoint=used, notes=notes,
                       project=_run_project(config) or None)
