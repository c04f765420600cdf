"""The job file the worker reads: which project, where the run goes, what to override.

Written by the CLI or the GUI, read by ``python -m cnnstudio.training.worker JOB.json``.
Pure Python. Fields:
- project: path of the project file (read at start; the run dir keeps a snapshot)
- run_dir: the run directory (created if missing)
- mode: "train" (new run), "resume" (continue RUN_DIR from its last checkpoint),
  "lr_find" (learning-rate range test) or "dry_run" (a few steps: step time, memory)
- data: image folder overriding the project's dataset folder (optional)
- epochs, batch_size: overrides of the project's training settings (optional)
- overrides: setting overrides by name: "ema" (training) or "augmentation.rotation" (optional)
- recipe: a recipe name (cnnstudio.project.recipes) applied to the run's copy of the project
  before epochs, batch_size and overrides, so those win over it (optional)
- data_source: "module:function" returning an ArrayData for the project, instead of reading
  the image folder (tests, benchmarks, programmatic data) (optional)
- initial_weights: .npz of weights by layer name (cnnstudio.training.initial_weights) loaded after the
  model is built; fine-tuning runs start from it (optional)
- max_steps: dry run / lr_find length; stop_after_steps: testing aid that stops
  gracefully after N train steps (optional)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.errors import TrainingError
from cnnstudio.fileio import write_json_atomic

MODES = ("train", "resume", "lr_find", "dry_run")


@dataclass
class Job:
    project: str
    run_dir: str
    mode: str = "train"
    data: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    max_steps: int | None = None
    stop_after_steps: int | None = None
    data_source: str | None = None
    initial_weights: str | None = None
    recipe: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "job") -> Job:
        if not isinstance(data, dict):
            raise TrainingError(f"{where}: a job file holds one JSON object.")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrainingError(f"{where}: unknown field {unknown[0]!r}; known: {', '.join(sorted(known))}.")
        for needed in ("project", "run_dir"):
            if not isinstance(data.get(needed), str) or not data[needed]:
                raise TrainingError(f"{where}: {needed!r} must be a path.")
        if data.get("mode", "train") not in MODES:
            raise TrainingError(f"{where}: 'mode' must be one of {', '.join(MODES)}. Received: {data['mode']!r}")
        for name in ("epochs", "batch_size", "max_steps", "stop_after_steps"):
            value = data.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise TrainingError(f"{where}: {name!r} must be a whole number >= 1. Received: {value!r}")
        recipe = data.get("recipe")
        if recipe is not None:
            from cnnstudio.project.recipes import RECIPES

            if recipe not in RECIPES:
                raise TrainingError(f"{where}: 'recipe' must be one of {', '.join(RECIPES)}. Received: {recipe!r}")
        if not isinstance(data.get("overrides", {}), dict):
            raise TrainingError(f"{where}: 'overrides' must be an object of training settings.")
        return cls(**data)

    def save(self, path: str | Path) -> Path:
        write_json_atomic(path, self.to_dict())
        return Path(path)


def load_job(path: str | Path) -> Job:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrainingError(f"{path}: no such job file.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainingError(f"{path}: not a readable JSON job file ({exc}).") from None
    return Job.from_dict(data, where=str(path))
