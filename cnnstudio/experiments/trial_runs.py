"""Start and read one trial's training worker, and sum up a finished trial from its run directory.

A trial is an ordinary run: the same job file and worker as `cnnstudio train` and
`cnnstudio resume` (cnnstudio.training.job / process), with the sweep's data source. The
worker runs in --serve mode (experiments.serving), so a slot's next trial can reuse it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cnnstudio.experiments.devices import Slot
from cnnstudio.experiments.results import macro_f1
from cnnstudio.experiments.serving import ServedJob, ServingWorker
from cnnstudio.training.job import Job, load_job
from cnnstudio.training.rundir import RunDirectory

DATA_SOURCE = "cnnstudio.experiments.trial_data:load"
PID_FILE = "worker.pid"


@dataclass
class TrialWorker:
    """A running trial: its worker process, the slot it holds and what its events said."""

    number: int
    run_dir: Path
    slot: Slot
    worker: Any  # ServedJob (or any object with pid, wait, signal, kill)
    log: IO[str]
    mode: str
    started_at: float = field(default_factory=time.monotonic)
    finished: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    pruning: bool = False
    stopping: bool = False
    trial: Any = None  # the optuna.Trial the scheduler reports to
    reported: set[int] = field(default_factory=set)  # epochs already reported (a resume repeats none)

    def stop(self) -> None:
        """Graceful: the worker finishes its step, checkpoints and exits (a second call ends it)."""
        self.worker.signal(signal.SIGINT)

    def close(self) -> None:
        self.worker.kill()
        self.log.close()
        (self.run_dir / PID_FILE).unlink(missing_ok=True)

    @property
    def serving(self) -> bool:
        """Runs in a persistent worker, which stays alive after the trial's `finished` event."""
        return isinstance(self.worker, ServedJob)

    def release(self) -> ServingWorker | None:
        """End the trial: its worker process if it may run the next one, else None (it is ended)."""
        if not self.serving or not self.worker.reusable(self.finished):
            self.close()
            return None
        self.log.close()
        (self.run_dir / PID_FILE).unlink(missing_ok=True)
        return self.worker.server


def new_job(project_file: Path, run_dir: Path, epochs: int | None) -> Job:
    return Job(project=str(project_file), run_dir=str(run_dir), mode="train", epochs=epochs,
               data_source=DATA_SOURCE)


def resume_job(run_dir: Path) -> Job:
    """As `cnnstudio resume` builds it: the original job's project, mode resume."""
    original = load_job(run_dir / "job.json")
    return Job(project=original.project, run_dir=str(run_dir), mode="resume")


def start_worker(number: int, job: Job, slot: Slot, events: queue.Queue) -> TrialWorker:
    """Start a worker for `job` in `slot`; its events go to `events` as (number, event), then (number, None)."""
    run_dir, job_file = _write_job(job)
    log = (run_dir / "worker.log").open("a", encoding="utf-8")
    server = ServingWorker(slot.env, stderr=log)  # its own session: a terminal's Ctrl-C is ours
    worker = server.submit(number, job_file, events)
    if worker is None:  # ended before its first job (cannot start Python?): reported as a crash
        events.put((number, None))
        worker = ServedJob(server)
    return _trial(number, job, slot, worker, job_file, log)


def reuse_worker(server: ServingWorker, number: int, job: Job, slot: Slot, events: queue.Queue) -> TrialWorker | None:
    """Run `job` on a worker left idle by its slot's last trial; None if it has ended meanwhile."""
    run_dir, job_file = _write_job(job)
    worker = server.submit(number, job_file, events)
    if worker is None:
        return None
    return _trial(number, job, slot, worker, job_file, (run_dir / "worker.log").open("a", encoding="utf-8"))


def _write_job(job: Job) -> tuple[Path, Path]:
    run_dir = Path(job.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    # The same job file names as cnnstudio.training.console.run_worker.
    job_file = run_dir / ("resume-job.json" if job.mode == "resume" else "job.json")
    job.save(job_file)
    return run_dir, job_file


def _trial(number: int, job: Job, slot: Slot, worker: ServedJob, job_file: Path, log: IO[str]) -> TrialWorker:
    run_dir = Path(job.run_dir)
    (run_dir / PID_FILE).write_text(f"{worker.pid}\n{job_file}\n", encoding="utf-8")
    return TrialWorker(number, run_dir, slot, worker, log, job.mode)


def stop_orphan(run_dir: Path, grace: float = 60.0) -> None:
    """A worker left running by a killed scheduler: stop it gracefully (it checkpoints) before
    the trial is resumed, so two workers never write one run directory."""
    pid_file = run_dir / PID_FILE
    try:
        pid_text, job_file = pid_file.read_text(encoding="utf-8").splitlines()[:2]
        pid = int(pid_text)
    except (OSError, ValueError):
        return
    if not _is_worker(pid, job_file):
        pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _is_worker(pid, job_file):
        time.sleep(0.2)
    if _is_worker(pid, job_file):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def _is_worker(pid: int, job_file: str) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid file
    # A persistent worker (--serve) names no job file: the pid file says which job it runs.
    return job_file.encode() in command or b"cnnstudio.training.worker" in command and b"--serve" in command


@dataclass
class TrialOutcome:
    """What a finished (or stopped) run achieved, read back from its run directory."""

    status: str | None  # run.json status: completed, stopped, failed, running, or None
    value: float | None
    best_epoch: int | None
    epochs_completed: int
    curve: list[float | None]
    images_per_second: float | None
    error: dict[str, Any] | None = None  # the run's last error event


def metric_of(event: dict[str, Any], objective: str) -> float | None:
    if objective == "macro_f1":
        return macro_f1(event.get("confusion_matrix") or [])
    return event.get(objective)


def read_outcome(run_dir: Path, objective: str, direction: str) -> TrialOutcome:
    """The best objective over the run's epochs (each epoch's last record wins after a resume)."""
    epochs: dict[int, dict[str, Any]] = {}
    train_examples = None
    error = None
    events_file = RunDirectory(run_dir).events_file
    if events_file.exists():
        for line in events_file.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if event.get("event") == "epoch":
                epochs[int(event["epoch"])] = event
            elif event.get("event") == "started":
                train_examples = event.get("train_examples")
            elif event.get("event") == "error":
                error = event
    status = RunDirectory(run_dir).read_run().get("status")
    curve = [metric_of(epochs[e], objective) for e in sorted(epochs)]
    scored = [(v, e) for v, e in zip(curve, sorted(epochs), strict=True) if v is not None]
    value, best_epoch = None, None
    if scored:
        pick = max if direction == "maximize" else min
        value, best_epoch = pick(scored, key=lambda item: (item[0], -item[1]))
    speeds = sorted(train_examples / e["seconds"] for e in epochs.values() if train_examples and e.get("seconds"))
    return TrialOutcome(status, value, best_epoch, len(epochs), curve, speeds[len(speeds) // 2] if speeds else None,
                        error)
