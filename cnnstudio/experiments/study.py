"""The Optuna side of a sweep: storage, study, samplers, pruners, queued points, suggestions.

Grid points and list items are enqueued once as WAITING trials; a scheduler takes one by
switching it to RUNNING in the storage, which succeeds for exactly one scheduler, so no
point runs twice even with several schedulers on one storage.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cnnstudio.experiments.space import Dimension, Space
from cnnstudio.experiments.sweep_file import SweepConfig, SweepError

QUEUE_PARAM = "queue_item"
SCALARS = (bool, int, float, str, type(None))


def open_storage(url: str):
    """An Optuna storage from a URL: 'journal:PATH' (a journal file, shareable on a network
    file system) or anything optuna.storages accepts (sqlite:///..., postgresql://...)."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        path = url[len("journal:"):]
        # The open(O_EXCL) lock works on network file systems too, where symlinks may not.
        return optuna.storages.JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    try:
        return optuna.storages.RDBStorage(url, heartbeat_interval=None)
    except (ImportError, ValueError, Exception) as exc:  # SQLAlchemy raises its own types
        raise SweepError(f"--storage {url}: cannot open this storage ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}). Use sqlite:///FILE.db, "
                         "postgresql://USER:PASS@HOST/DB or journal:/shared/path/study.journal.") from None


def make_sampler(config: SweepConfig, seed: int | None = None):
    """Each scheduler passes its own seed: two schedulers on one study must not draw alike."""
    import optuna

    seed = config.seed if seed is None else seed

    if config.sampler == "tpe":  # handles two objectives too (MOTPE)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    return optuna.samplers.RandomSampler(seed=seed)  # grid points come from the queue


def make_pruner(config: SweepConfig):
    import optuna

    if config.pruner == "median":
        # Never before a trial's second epoch (steps below 2 are warm-up), once one trial has finished.
        return optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=2)  # epochs are 1-based
    if config.pruner == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if config.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=config.epochs or "auto",
                                              reduction_factor=3)
    return optuna.pruners.NopPruner()


def open_study(config: SweepConfig, storage_url: str, create: bool, seed: int | None = None):
    """Load the sweep's study (or create it); joining an existing study checks it is the same sweep."""
    import optuna

    storage = open_storage(storage_url)
    if not create:
        try:
            study = optuna.load_study(study_name=config.study_name, storage=storage,
                                      sampler=make_sampler(config, seed), pruner=make_pruner(config))
        except KeyError:
            raise SweepError(f"study {config.study_name!r} is not in {storage_url} yet: no scheduler has started "
                             "this sweep. Start it with `cnnstudio sweep resume SWEEP_DIR`.") from None
        _check_same_sweep(study, config, storage_url, create=False)
        return study
    study = optuna.create_study(storage=storage, study_name=config.study_name, directions=config.directions,
                                sampler=make_sampler(config, seed), pruner=make_pruner(config), load_if_exists=True)
    _check_same_sweep(study, config, storage_url, create=True)
    return study


def _check_same_sweep(study, config: SweepConfig, storage_url: str, create: bool) -> None:
    described = study.user_attrs.get("sweep")
    mine = {"space": config.space, "sampler": config.sampler, "objective": config.objective,
            "second_objective": config.second_objective}
    if described is None:
        if not create:
            raise SweepError(f"study {config.study_name!r} in {storage_url} does not describe a sweep.")
        study.set_user_attr("sweep", mine)
    elif json.dumps(described, sort_keys=True) != json.dumps(mine, sort_keys=True):
        raise SweepError(f"study {config.study_name!r} in {storage_url} belongs to another sweep (different "
                         "space, sampler or objective). Give another --study name or the same SPACE.json.")


def queued_points(space: Space, config: SweepConfig) -> list[dict[str, Any]]:
    """The settings sets to enqueue: every grid point, or the list, cut to --trials."""
    if space.queue:
        points = space.grid()
    elif config.sampler == "grid":
        points = space.grid()
    else:
        return []
    return points[: config.trials] if config.trials else points


def enqueue_points(study, space: Space, points: list[dict[str, Any]]) -> int:
    """Enqueue the points not already in the study (by their key); returns how many were added."""
    taken = {t.user_attrs.get("point_key") for t in study.get_trials(deepcopy=False)}
    added = 0
    for index, point in enumerate(points):
        key = point_key(point)
        if key in taken:
            continue
        params = {QUEUE_PARAM: index} if space.queue else {k: _encode_choice(v) for k, v in point.items()}
        study.enqueue_trial(params, user_attrs={"point_key": key}, skip_if_exists=False)
        added += 1
    return added


def point_key(point: dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True)


def pop_waiting(study):
    """Take one WAITING trial (queued point) for this scheduler, or None when none is left.

    Optuna's own ask() falls back to a new sampled trial when another scheduler took the
    last queued one; a grid must not, so this does the take step alone.
    """
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage, study_id = study._storage, study._study_id  # noqa: SLF001 (Optuna's documented extension points)
    for trial in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):  # noqa: SLF001
                continue
        except UpdateFinishedTrialError:
            continue
        taken = optuna.Trial(study, trial._trial_id)  # noqa: SLF001
        key = trial.user_attrs.get("point_key")
        if key is not None and any(other.user_attrs.get("point_key") == key and other.number < trial.number
                                   for other in study.get_trials(deepcopy=False)):
            # Two schedulers enqueued the same points at the same instant: run each once.
            taken.set_user_attr("duplicate", True)
            study.tell(taken, state=TrialState.FAIL)
            continue
        return taken
    return None


def suggest(trial, space: Space) -> dict[str, Any]:
    """The trial's settings: drawn from the dimensions, or its queued point."""
    if space.queue:
        index = trial.suggest_categorical(QUEUE_PARAM, list(range(len(space.queue))))
        return dict(space.queue[index])
    return {d.key: _suggest_one(trial, d) for d in space.dimensions}


def _suggest_one(trial, dimension: Dimension) -> Any:
    if dimension.form == "choices":
        encoded = [_encode_choice(v) for v in dimension.values]
        return _decode_choice(trial.suggest_categorical(dimension.key, encoded), dimension)
    log = dimension.form.startswith("log")
    if dimension.form in ("int", "log_int"):
        return trial.suggest_int(dimension.key, int(dimension.low), int(dimension.high), log=log,
                                 step=int(dimension.step or 1))
    return trial.suggest_float(dimension.key, dimension.low, dimension.high, log=log, step=dimension.step)


def _encode_choice(value: Any) -> Any:
    """Optuna's categorical values are scalars; lists (kernel sizes [3, 5]) travel as JSON."""
    return value if isinstance(value, SCALARS) else json.dumps(value)


def _decode_choice(value: Any, dimension: Dimension) -> Any:
    for original in dimension.values:
        if _encode_choice(original) == value:
            return original
    return value
