"""The sweep folder and its `sweep.json`. Pure Python.

Layout (SWEEP_DIR/):
  sweep.json        what the sweep is: project, space, sampler, pruner, objectives, budget, storage
  project.cnnproj   the project as the sweep started (split fixed, paths absolute)
  study.journal     the Optuna study (embedded storage; absent with --storage)
  trials/trial-N/   one ordinary run directory per trial (+ project.cnnproj, the trial's project)
  scheduler.lock    held while a scheduler works on this folder
  STOP              created by a client to stop the sweep gracefully
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.errors import StudioError
from cnnstudio.fileio import write_json_atomic

SWEEP_VERSION = 1
SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "asha", "hyperband")
OBJECTIVES = {"val_accuracy": "maximize", "val_loss": "minimize", "macro_f1": "maximize"}
SECOND_OBJECTIVES = {"macs": "minimize", "params": "minimize", "images_per_second": "maximize"}


class SweepError(StudioError):
    """A sweep that cannot start or continue; the message says what to do."""


@dataclass
class SweepConfig:
    source_project: str  # the project file the sweep was started from
    space: dict[str, Any]  # as in SPACE.json (checked)
    sampler: str = "tpe"
    pruner: str = "none"
    objective: str = "val_accuracy"
    second_objective: str | None = None
    trials: int | None = None
    time_limit: float | None = None  # seconds per scheduler session
    parallel: int | None = None  # None: one per GPU, else 1 on CPU
    gpus_per_trial: int = 1
    epochs: int | None = None
    storage: str | None = None  # None: the embedded journal
    study_name: str = ""
    seed: int = 0
    version: int = SWEEP_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def directions(self) -> list[str]:
        out = [OBJECTIVES[self.objective]]
        if self.second_objective:
            out.append(SECOND_OBJECTIVES[self.second_objective])
        return out

    def check(self) -> None:
        if self.sampler not in SAMPLERS:
            raise SweepError(f"--sampler must be one of {', '.join(SAMPLERS)}. Received: {self.sampler!r}")
        if self.pruner not in PRUNERS:
            raise SweepError(f"--pruner must be one of {', '.join(PRUNERS)}. Received: {self.pruner!r}")
        if self.objective not in OBJECTIVES:
            raise SweepError(f"--objective must be one of {', '.join(OBJECTIVES)}. Received: {self.objective!r}")
        if self.second_objective is not None and self.second_objective not in SECOND_OBJECTIVES:
            raise SweepError(f"--second-objective must be one of {', '.join(SECOND_OBJECTIVES)}. "
                             f"Received: {self.second_objective!r}")
        if self.second_objective and self.pruner != "none":
            raise SweepError("pruning needs a single objective: drop --second-objective or use --pruner none.")
        for name in ("trials", "parallel", "epochs"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SweepError(f"--{name} must be at least 1. Received: {value}")
        if self.time_limit is not None and self.time_limit <= 0:
            raise SweepError(f"--time-limit must be above 0 minutes. Received: {self.time_limit / 60:g}")
        if self.sampler != "grid" and "list" not in self.space and not self.trials and not self.time_limit:
            raise SweepError(f"the {self.sampler} sampler needs a budget: give --trials N and/or --time-limit "
                             "MINUTES (a grid or a list is its own budget).")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> SweepConfig:
        if not isinstance(data, dict) or "space" not in data or "source_project" not in data:
            raise SweepError(f"{where}: not a sweep description (needs 'space' and 'source_project').")
        if data.get("version", 1) > SWEEP_VERSION:
            raise SweepError(f"{where}: written by a newer CNN Studio; update to continue this sweep.")
        known = set(cls.__dataclass_fields__)
        config = cls(**{k: v for k, v in data.items() if k in known})
        config.check()
        return config


def default_study_name(project_name: str, space: dict[str, Any], sampler: str, objective: str) -> str:
    """Same project, space, sampler and objective -> same study, so schedulers on other
    machines pointed at the same --storage join it."""
    text = json.dumps([project_name, space, sampler, objective], sort_keys=True)
    return f"cnnstudio-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


class SweepDir:
    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()

    @property
    def config_file(self) -> Path:
        return self.path / "sweep.json"

    @property
    def project_file(self) -> Path:
        return self.path / "project.cnnproj"

    @property
    def journal_file(self) -> Path:
        return self.path / "study.journal"

    @property
    def trials_dir(self) -> Path:
        return self.path / "trials"

    @property
    def lock_file(self) -> Path:
        return self.path / "scheduler.lock"

    @property
    def stop_file(self) -> Path:
        return self.path / "STOP"

    def trial_dir(self, number: int) -> Path:
        return self.trials_dir / f"trial-{number:04d}"

    def exists(self) -> bool:
        return self.config_file.is_file()

    def read_config(self) -> SweepConfig:
        if not self.config_file.is_file():
            raise SweepError(f"{self.path}: not a sweep folder (no sweep.json). Give the folder a sweep was "
                             "started in (-o SWEEP_DIR).")
        try:
            data = json.loads(self.config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SweepError(f"{self.config_file}: unreadable ({exc}).") from None
        return SweepConfig.from_dict(data, str(self.config_file))

    def write_config(self, config: SweepConfig) -> None:
        write_json_atomic(self.config_file, config.to_dict())

    def storage_url(self, config: SweepConfig) -> str:
        return config.storage or f"journal:{self.journal_file}"
