"""Make a sweep folder: check the project, the space and the options, fix the split, write
sweep.json and the project snapshot. Nothing is written unless everything checks out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnstudio.experiments.space import Space, SpaceError, load_space, parse_space
from cnnstudio.experiments.sweep_file import SweepConfig, SweepDir, SweepError, default_study_name


def create_sweep(project_path: str | Path, space: str | Path | dict[str, Any], out_dir: str | Path, *,
                 data: str | None = None, trials: int | None = None, sampler: str = "tpe",
                 pruner: str = "none", parallel: int | None = None, epochs: int | None = None,
                 storage: str | None = None, objective: str = "val_accuracy", second_objective: str | None = None,
                 time_limit_minutes: float | None = None, study_name: str | None = None,
                 gpus_per_trial: int = 1, seed: int = 0, progress=None) -> SweepDir:
    from cnnstudio.data import prepare_data
    from cnnstudio.project import load_project, save_project

    sweep = SweepDir(out_dir)
    if sweep.exists():
        raise SweepError(f"{sweep.path} already holds a sweep; continue it with `cnnstudio sweep resume "
                         f"{sweep.path}` or choose another -o folder.")
    project = load_project(project_path)
    if data is not None:
        if not Path(data).is_dir():
            raise SweepError(f"--data {data}: no such folder.")
        project.dataset["folder"] = str(Path(data).expanduser().resolve())
    elif project.dataset_folder() is not None:
        project.dataset["folder"] = str(project.dataset_folder().resolve())
    parsed: Space = load_space(space, project) if not isinstance(space, dict) else parse_space(space, project)
    if epochs is not None and "training.epochs" in parsed.keys:
        raise SweepError("training.epochs varies in the space, so --epochs would override it: drop one of them.")
    if sampler == "grid" and not parsed.queue:
        parsed.grid()  # raises, naming the first dimension a grid cannot enumerate
    config = SweepConfig(
        source_project=str(Path(project_path).resolve()), space=parsed.to_dict(), sampler=sampler, pruner=pruner,
        objective=objective, second_objective=second_objective, trials=trials,
        time_limit=None if time_limit_minutes is None else float(time_limit_minutes) * 60.0,
        parallel=parallel, gpus_per_trial=gpus_per_trial, epochs=epochs, storage=storage,
        study_name=study_name or default_study_name(project.name, parsed.to_dict(), sampler, objective), seed=seed,
    )
    config.check()
    if config.storage:
        from cnnstudio.experiments.study import open_storage

        open_storage(config.storage)  # a bad URL fails now, before the folder exists
    # Every trial trains on the same split: fix it once here (the scan is cached per folder).
    prepare_data(project, progress=progress)
    sweep.path.mkdir(parents=True, exist_ok=True)
    save_project(project, sweep.project_file)
    sweep.write_config(config)
    return sweep


__all__ = ["SpaceError", "SweepError", "create_sweep"]
