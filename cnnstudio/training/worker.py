"""The worker process: ``python -m cnnstudio.training.worker JOB.json``.

Reads the job (see job.py), trains, and writes the events of events.py as JSON lines on
its standard output; everything else it or TensorFlow prints goes to standard error.
SIGINT/SIGTERM or RUN_DIR/STOP stop it gracefully (finish the step, checkpoint, exit 0);
a second signal ends it at once. Exit status: 0 completed or stopped, 1 failed, 2 bad job.

``python -m cnnstudio.training.worker --serve`` runs job after job in one process (TensorFlow
imported once): job file paths arrive on standard input, one per line; each job's events are
followed by the line ``served STATUS`` (not an event), its output goes to RUN_DIR/worker.log,
and Keras starts each job from a cleared session. A job that was stopped or did not succeed
ends the process with its status (its state may be damaged); end of input ends it with 0.
"""

from __future__ import annotations

import copy
import importlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any

from cnnstudio.errors import StudioError, TrainingError
from cnnstudio.training import checkpoints as ckpt
from cnnstudio.training.events import PROTOCOL_REVISION, EventWriter
from cnnstudio.training.job import Job, load_job
from cnnstudio.training.rundir import RunDirectory


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _load_project(job: Job, rundir: RunDirectory):
    """The project to train: the run's snapshot when resuming, else the project file."""
    import json

    from cnnstudio.project import Project, load_project
    from cnnstudio.project.schema import check_section

    if job.mode == "resume" and rundir.config_file.exists():
        try:
            snapshot = json.loads(rundir.config_file.read_text(encoding="utf-8"))
            project = Project.from_dict(snapshot["project"], where=str(rundir.config_file))
        except (OSError, ValueError, KeyError) as exc:
            raise TrainingError(f"{rundir.config_file}: the run's configuration snapshot cannot be read "
                                f"({exc}); this run cannot be resumed.") from None
        return project
    project = load_project(job.project)
    if job.data:
        project.dataset["folder"] = str(Path(job.data).expanduser().resolve())
    elif project.dataset_folder() is not None:
        project.dataset["folder"] = str(project.dataset_folder().resolve())
    if job.recipe:  # before the explicit values below, which win over the recipe's
        from cnnstudio.project.recipes import apply, recipe_changes

        apply(project, recipe_changes(job.recipe, project))
    sections = {name: dict(project.section(name)) for name in ("preprocessing", "augmentation", "training")}
    for key, value in copy.deepcopy(job.overrides).items():  # "ema" is training.ema
        section, _, name = key.rpartition(".")
        if (section or "training") not in sections:
            raise TrainingError(f"job {rundir.job_file}: override {key!r} names no settings section; use "
                                f"{', '.join(sections)} (e.g. augmentation.rotation).")
        sections[section or "training"][name] = value
    if job.epochs:
        sections["training"]["epochs"] = job.epochs
    if job.batch_size:
        sections["training"]["batch_size"] = job.batch_size
    for name, values in sections.items():
        setattr(project, name, check_section(name, values, f"job {rundir.job_file}"))
    return project


def _load_data(job: Job, project):
    from cnnstudio.training.data_source import load_project_data

    if job.data_source:
        module, _, name = job.data_source.partition(":")
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise TrainingError(f"job data_source {job.data_source!r} cannot be imported ({exc}).") from None
        return factory(project)
    return load_project_data(project)


def run_job(job: Job, stream: IO[str] | None, stop=None, inspect=None) -> int:
    """Run one job, emitting events on `stream`; returns the process exit status.

    `inspect(trainer)`, if given, is called after a successful run (tests look inside).
    """
    from cnnstudio.training.strategy import cluster_from_env

    started_at = time.time()
    workers, index = cluster_from_env()
    rundir = RunDirectory(job.run_dir, writer=index == 0)
    if job.mode == "resume":
        if not rundir.job_file.exists():
            raise TrainingError(f"{rundir.path}: not a run directory (no job.json). Give the folder a run was "
                                "started in.")
        if rundir.read_run().get("status") == "completed":
            raise TrainingError(f"{rundir.path}: this run already completed all its epochs.")
        original = load_job(rundir.job_file)
        job = Job(**{**original.to_dict(), "mode": "resume", "stop_after_steps": job.stop_after_steps})
    rundir.create()
    log = rundir.events_log()
    events = EventWriter(stream, log)
    try:
        return _run(job, rundir, events, stop, workers, index, started_at, inspect)
    except BaseException as exc:  # every failure becomes an error event, then status 1
        from cnnstudio.training.failures import classify

        batch = None
        try:
            batch = int(job.batch_size or 0) or None
        except (TypeError, ValueError):
            pass
        category, message, detail = classify(exc, batch)
        events.emit("error", category=category, message=message, detail=detail)
        state = rundir.read_run() if rundir.writer else {}
        rundir.write_run(status="failed", error=message)
        events.emit("finished", status="failed", epochs_completed=state.get("epochs_completed", 0),
                    best_metric=state.get("best_metric"), best_epoch=state.get("best_epoch"), model_path=None,
                    seconds=round(time.time() - started_at, 3))
        return 1
    finally:
        if log is not None:
            log.close()


def _run(job: Job, rundir: RunDirectory, events: EventWriter, stop, workers: int, index: int,
         started_at: float, inspect=None) -> int:
    _quiet_tensorflow()
    from cnnstudio.training import probes
    from cnnstudio.training.loop import StopRequested, Trainer
    from cnnstudio.training.strategy import choose_strategy

    if job.mode == "train" and rundir.writer:
        job.save(rundir.job_file)
    project = _load_project(job, rundir)
    training = project.training
    placement = choose_strategy(training.get("device", "auto"))
    # Exact resume on CPU costs nothing; XLA has no deterministic pooling gradients, so
    # XLA runs trade bit-exact resume for speed.
    if not placement.devices[0].upper().count("GPU") and not training.get("xla"):
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    data = _load_data(job, project)
    stop = stop or StopRequested(rundir, job.stop_after_steps)
    stop.rundir, stop.after_steps = rundir, job.stop_after_steps
    rundir.clear_stop()
    trainer = Trainer(project, data, placement, rundir, events, int(training["epochs"]), int(training["batch_size"]),
                      stop)
    trainer.build()
    if job.initial_weights:  # fine-tuning: start from saved weights (a resume's checkpoint overrides them)
        from cnnstudio.training.initial_weights import apply_initial_weights

        apply_initial_weights(trainer.model, trainer.optimizer, job.initial_weights)
    checkpoint = ckpt.load_checkpoint(rundir.checkpoints) if job.mode == "resume" else None
    ckpt.cleanup_temporaries(rundir.checkpoints)
    if checkpoint is not None:
        trainer.restore(checkpoint)
    if job.mode in ("train", "resume") and rundir.writer:
        if job.mode == "train" or not rundir.config_file.exists():
            project.split = getattr(data, "split", None) or project.split
            rundir.write_config(_snapshot(project, job, data))
        rundir.write_metrics(trainer.progress.rows)  # exactly the checkpoint's epochs
        rundir.truncate_batches(trainer.progress.global_step)
        rundir.write_run(status="running", epochs=trainer.epochs, epochs_completed=trainer.progress.epochs_done,
                         best_metric=trainer.progress.best_metric, best_epoch=trainer.progress.best_epoch,
                         error=None)
    for message in getattr(data, "warnings", []) or []:
        events.emit("warning", code="dataset", message=message)
    for path, reason in (getattr(data, "skipped", []) or [])[:20]:
        events.emit("warning", code="skipped_file", message=f"{path}: {reason}; left out of training.")
    events.emit(
        "started", run_dir=str(rundir.path), mode=job.mode, strategy=placement.name, replicas=placement.replicas,
        devices=placement.devices, workers=workers, worker_index=index,
        total_params=int(trainer.model.count_params()),
        trainable_params=int(sum(int(_size(v)) for v in trainer.model.trainable_variables)),
        epochs=trainer.epochs, start_epoch=trainer.progress.epochs_done + 1,
        steps_per_epoch=trainer.steps_per_epoch, batch_size=trainer.batch_size,
        class_names=list(data.class_names), train_examples=data.train_count, val_examples=data.val_count,
        protocol_revision=PROTOCOL_REVISION,
    )
    finish = {"epochs_completed": 0, "best_metric": None, "best_epoch": None, "model_path": None}
    if job.mode == "lr_find":
        result = probes.lr_find(trainer, steps=job.max_steps or 100)
        events.emit("lr_find", **result)
        status = "completed"
    elif job.mode == "dry_run":
        events.emit("dry_run", **probes.dry_run(trainer, steps=job.max_steps or 10))
        status = "completed"
    else:
        status = trainer.run()
        progress = trainer.progress
        finish.update(epochs_completed=progress.epochs_done, best_metric=progress.best_metric,
                      best_epoch=progress.best_epoch)
        if status == "completed":
            finish["model_path"] = trainer.save_model()
            if not rundir.writer:
                _save_worker_weights(trainer, rundir, index)
        rundir.write_run(status=status, **{k: v for k, v in finish.items() if k != "model_path"})
    events.emit("finished", status=status, seconds=round(time.time() - started_at, 3), **finish)
    if inspect is not None:
        inspect(trainer)
    return 0


def _size(variable) -> int:
    total = 1
    for dim in variable.shape:
        total *= int(dim)
    return total


def _save_worker_weights(trainer, rundir: RunDirectory, index: int) -> None:
    """Non-chief workers keep only their final weights, in RUN_DIR/worker-N/ (for checks)."""
    folder = rundir.path / f"worker-{index}"
    ckpt.save_checkpoint(folder, "final", trainer.snapshot())


def _snapshot(project, job: Job, data) -> dict[str, Any]:
    return {
        "project": project.to_dict(),
        "job": job.to_dict(),
        "seed": project.training["seed"],
        "training": project.training,
        "class_names": list(data.class_names),
        "image_shape": list(data.image_shape),
        "train_examples": data.train_count,
        "val_examples": data.val_count,
        "split": project.split,
    }


SERVED = "served"  # --serve: the line after each job's events is "served STATUS"


def serve(stream: IO[str]) -> int:
    """The --serve loop (see the module docstring)."""
    from cnnstudio.training.loop import StopRequested
    from cnnstudio.training.strategy import cluster_from_env

    try:
        if cluster_from_env()[0] > 1:  # a multi-worker strategy can be made once per process
            raise TrainingError("--serve runs single-process jobs; unset TF_CONFIG (multi-worker training "
                                "needs one worker process per job).")
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    current: list[StopRequested] = []  # the running job's flag; empty between jobs

    def on_signal(signum, frame):
        if not current:
            raise SystemExit(0)  # idle: nothing to checkpoint
        current[0].set()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    standard_error = os.dup(2)
    policy = None
    while line := sys.stdin.readline():
        if not line.strip():
            continue
        policy = _fresh_session(policy)
        stop = StopRequested()
        current.append(stop)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            status = _serve_job(line.strip(), stream, stop, standard_error)
        finally:
            current.clear()
        try:
            stream.write(f"{SERVED} {status}\n")
            stream.flush()
        except OSError:
            return status  # the client went away
        if status != 0 or stop.flag:
            return status
    return 0


def _fresh_session(policy: str | None) -> str:
    """Between served jobs: the global state a new process starts with (Keras session, dtype
    policy, op determinism); the job's own seed is set when its model is built."""
    _quiet_tensorflow()
    import keras
    from tensorflow.python.framework import config as tensorflow_config

    policy = policy or keras.mixed_precision.global_policy().name  # the first job's: a new process's
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(policy)
    tensorflow_config.disable_op_determinism()
    return policy


def _serve_job(job_file: str, stream: IO[str], stop, standard_error: int) -> int:
    try:
        job = load_job(job_file)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        Path(job.run_dir).mkdir(parents=True, exist_ok=True)
        log = os.open(Path(job.run_dir) / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        print(f"error: {job.run_dir}: cannot write the run's worker.log ({exc}).", file=sys.stderr, flush=True)
        return 2
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    try:
        return run_job(job, stream, stop)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(standard_error, 1)
        os.dup2(standard_error, 2)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Events own the real stdout; fd 1 (Python prints, TensorFlow's C++ logs) goes to stderr.
    events_fd = os.dup(1)
    os.dup2(2, 1)
    stream = os.fdopen(events_fd, "w", encoding="utf-8", buffering=1)
    if argv == ["--serve"]:
        return serve(stream)
    if len(argv) != 1:
        print("usage: python -m cnnstudio.training.worker JOB.json", file=sys.stderr)
        return 2
    from cnnstudio.training.loop import StopRequested

    stop = StopRequested()

    def on_signal(signum, frame):
        stop.set()
        # A second signal ends the process at once (the client's "terminate").
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        job = load_job(argv[0])
        return run_job(job, stream, stop)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
