"""The scheduler: owns the study (ask/tell), runs one trial worker per slot, feeds the pruner
the per-epoch validation metric, records every trial, and continues a killed sweep.

Only the scheduler's own thread touches the study; one reader thread per worker turns its
JSON-lines events into queue items. A trial interrupted by a kill (of the scheduler or of
its worker) stays RUNNING in the study with its run directory; `resume` continues it from
its checkpoint with the engine's exact resume. A trial that completed leaves its worker
process idle for the next trial of a slot with the same devices (experiments.serving).
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnstudio.errors import StudioError
from cnnstudio.experiments.devices import Slot, plan_slots
from cnnstudio.experiments.results import trial_rows
from cnnstudio.experiments.space import Space, parse_space
from cnnstudio.experiments.study import (
    enqueue_points,
    open_study,
    pop_waiting,
    queued_points,
    suggest,
)
from cnnstudio.experiments.sweep_file import OBJECTIVES, SweepDir, SweepError
from cnnstudio.experiments.trial_runs import (
    TrialWorker,
    metric_of,
    new_job,
    read_outcome,
    resume_job,
    reuse_worker,
    start_worker,
    stop_orphan,
)
from cnnstudio.fileio import write_json_atomic

MAX_RESTARTS = 2  # a trial whose worker dies is resumed from its checkpoint this many times


class Scheduler:
    def __init__(self, sweep_dir: str | Path, say: Callable[[str], None] | None = None):
        self.dir = SweepDir(sweep_dir)
        self.config = self.dir.read_config()
        from cnnstudio.project import load_project

        self.base = load_project(self.dir.project_file)
        self.space: Space = parse_space(self.config.space, self.base)
        self.direction = OBJECTIVES[self.config.objective]
        self.say = say or (lambda text: None)
        self.events: queue.Queue = queue.Queue()
        self.running: dict[int, TrialWorker] = {}
        self.stop_requested = threading.Event()
        self.study: Any = None
        self._snapshot_at = 0.0
        self._restart: dict[int, Any] = {}  # trials whose worker died, to resume in the next free slot
        self.exiting: dict[int, TrialWorker] = {}  # finished trials whose process is still ending
        self.idle: list[Any] = []  # serving.ServingWorker processes waiting for their slot's next trial

    # ---- control ------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the sweep: running trials checkpoint and stay resumable; a second call ends them."""
        again = self.stop_requested.is_set()
        self.stop_requested.set()
        for trial in list(self.running.values()):
            trial.stopping = True
            trial.stop()
        if not again:
            self.say(f"stopping: running trials checkpoint; continue with: cnnstudio sweep resume {self.dir.path}")

    def run(self) -> dict[str, int]:
        """Run until the budget is spent, the queue is empty or a stop; returns counts by status."""
        with _SchedulerLock(self.dir):
            identity = f"{socket.gethostname()}:{self.dir.path}:{time.time()}"
            self.study = open_study(self.config, self.dir.storage_url(self.config), create=True,
                                    seed=self.config.seed + zlib.crc32(identity.encode()) % 100_000)
            added = enqueue_points(self.study, self.space, queued_points(self.space, self.config))
            if added:
                self.say(f"queued {added} trial(s)")
            pending = self._interrupted()
            if pending:
                self.say(f"resuming {len(pending)} interrupted trial(s)")
            deadline = time.monotonic() + self.config.time_limit if self.config.time_limit else None
            free: list[Slot] = plan_slots(self.config.parallel, self.config.gpus_per_trial)
            self.dir.stop_file.unlink(missing_ok=True)
            try:
                self._loop(pending, free, deadline)
            finally:
                for trial in list(self.exiting.values()):
                    with contextlib.suppress(Exception):
                        trial.worker.wait(60)
                for trial in [*self.running.values(), *self.exiting.values()]:
                    trial.close()
                for server in self.idle:
                    server.close()
                self._write_snapshot(force=True)
        return self.counts()

    def _loop(self, pending: list[Any], free: list[Slot], deadline: float | None) -> None:
        while True:
            if self.dir.stop_file.exists() and not self.stop_requested.is_set():
                self.stop()
            while free and not self.stop_requested.is_set() and (deadline is None or time.monotonic() < deadline):
                if not self._start_next(pending, free[0]):
                    break
                free.pop(0)
            if not self.running and not self.exiting:
                return
            try:
                number, event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            slot = self._on_event(number, event)
            if slot is not None:
                if number in self._restart:
                    pending.insert(0, self._restart.pop(number))
                free.append(slot)
            self._write_snapshot()

    # ---- starting trials ----------------------------------------------------------------
    def _interrupted(self) -> list[Any]:
        """RUNNING trials of this sweep folder left by a killed scheduler, oldest first."""
        from optuna.trial import TrialState

        embedded = self.config.storage is None
        mine = str(self.dir.path)
        return [t for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                if t.user_attrs.get("sweep_dir") == mine or (embedded and "sweep_dir" not in t.user_attrs)]

    def _budget_left(self) -> bool:
        from optuna.trial import TrialState

        if self.space.queue or self.config.sampler == "grid":
            return True  # the queue is the budget (cut to --trials when it was made)
        if not self.config.trials:
            return True  # time-limited only
        started = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.COMPLETE,
                                                                TrialState.PRUNED, TrialState.FAIL))
        return len(started) < self.config.trials

    def _start_next(self, pending: list[Any], slot: Slot) -> bool:
        """Start one trial in `slot`; False when nothing is left to start."""
        import optuna

        while True:
            if pending:
                frozen = pending.pop(0)
                trial = optuna.Trial(self.study, frozen._trial_id)  # noqa: SLF001
                if self._continue(trial, frozen.user_attrs, slot):
                    return True
                continue
            if not self._budget_left():
                return False
            if self.space.queue or self.config.sampler == "grid":
                trial = pop_waiting(self.study)
                if trial is None:
                    return False
            else:
                trial = self.study.ask()
            trial.set_user_attr("sweep_dir", str(self.dir.path))
            if self._begin(trial, slot):
                return True

    def _begin(self, trial, slot: Slot) -> bool:
        """A new trial: its project, its run directory, its worker. False if it failed at once."""
        from cnnstudio.experiments.trial_project import apply_settings
        from cnnstudio.graph.analysis import analyze
        from cnnstudio.project import save_project

        settings = suggest(trial, self.space)
        run_dir = self.dir.trial_dir(trial.number)
        trial.set_user_attr("settings", settings)
        trial.set_user_attr("run_dir", str(run_dir))
        try:
            project = apply_settings(self.base, settings)
            analysis = analyze(project.graph)
            if analysis.errors:
                raise StudioError(f"the architecture is not valid with these settings: {analysis.errors[0].message}")
        except StudioError as exc:
            self._fail(trial, "invalid_architecture" if "architecture" in str(exc) else "bad_settings", str(exc))
            return False
        trial.set_user_attr("params", int(analysis.total_params))
        trial.set_user_attr("macs", int(analysis.macs or 0))
        run_dir.mkdir(parents=True, exist_ok=True)
        project.name = f"{self.base.name} · trial {trial.number}"
        project_file = save_project(project, run_dir / "project.cnnproj")
        self._launch(trial.number, new_job(project_file.resolve(), run_dir, self.config.epochs), slot, settings)
        return True

    def _continue(self, trial, attrs: dict[str, Any], slot: Slot) -> bool:
        """An interrupted trial: finish its record, or resume its run from the checkpoint."""
        run_dir = Path(attrs["run_dir"]) if attrs.get("run_dir") else None
        if run_dir is None or not (run_dir / "job.json").exists():
            if trial.user_attrs.get("settings") is None:
                trial.set_user_attr("sweep_dir", str(self.dir.path))
            return self._begin(trial, slot)  # killed before its worker started
        stop_orphan(run_dir)
        outcome = read_outcome(run_dir, self.config.objective, self.direction)
        if outcome.status == "completed":
            self._finish(trial.number, trial, run_dir, seconds=0.0)
            return False
        if attrs.get("pruning") and outcome.status in ("stopped", "failed"):
            self._prune(trial, run_dir, 0.0)
            return False
        if outcome.status == "failed" and outcome.error:
            self._fail(trial, outcome.error.get("category", "other"), outcome.error.get("message", ""))
            return False
        self._launch(trial.number, resume_job(run_dir), slot, attrs.get("settings") or {})
        return True

    def _launch(self, number: int, job, slot: Slot, settings: dict[str, Any]) -> None:
        import optuna

        from cnnstudio.experiments.trial_project import settings_label

        frozen = self._frozen(number)
        worker = None
        while worker is None and self.idle:
            server = self._idle_for(slot)
            if server is None:
                break
            worker = reuse_worker(server, number, job, slot, self.events)
        worker = worker or start_worker(number, job, slot, self.events)
        worker.trial = optuna.Trial(self.study, frozen._trial_id)  # noqa: SLF001
        worker.reported = set(frozen.intermediate_values)
        self.running[number] = worker
        verb = "resumed" if job.mode == "resume" else "started"
        self.say(f"trial {number} {verb} on {slot.name}: {settings_label(settings)}")

    def _idle_for(self, slot: Slot):
        """An idle worker started with this slot's environment (same devices and threads)."""
        from cnnstudio.experiments.serving import slot_key

        for server in self.idle:
            if server.key == slot_key(slot.env):
                self.idle.remove(server)
                if server.alive():
                    return server
                server.close()
                return self._idle_for(slot)
        return None

    def _frozen(self, number: int):
        for candidate in self.study.get_trials(deepcopy=False):
            if candidate.number == number:
                return candidate
        raise SweepError(f"trial {number} is not in study {self.config.study_name!r}.")

    # ---- events -------------------------------------------------------------------------
    def _on_event(self, number: int, event: dict[str, Any] | None) -> Slot | None:
        """Handle one event; returns the slot freed when the trial's worker ended."""
        worker = self.running.get(number)
        if worker is None:
            exiting = self.exiting.pop(number, None)
            if exiting is not None and event is None:
                exiting.worker.wait()  # its job is over: the process is ending, or idle
                server = exiting.release()
                if server is not None:
                    self.idle.append(server)
                return exiting.slot if exiting.serving else None
            return None
        trial = worker.trial
        if event is None:  # the worker ended without a `finished` event: killed or crashed
            worker.worker.wait()
            worker.close()
            return self._ended(worker, trial)
        kind = event["event"]
        if kind == "finished":
            # The run directory is complete: settle the trial and free the slot now, while the
            # process tears TensorFlow down (seconds) and is reaped when its output closes.
            # A persistent worker keeps the slot until its job is over (milliseconds), then takes the
            # slot's next trial.
            worker.finished = event
            self.exiting[number] = worker
            slot = self._ended(worker, trial)
            return None if worker.serving else slot
        if kind == "error":
            worker.error = event
        elif kind == "epoch" and len(self.config.directions) == 1 and not worker.pruning:
            value = metric_of(event, self.config.objective)
            epoch = int(event["epoch"])
            if value is not None and epoch not in worker.reported:
                worker.reported.add(epoch)
                trial.report(float(value), epoch)
                if trial.should_prune():
                    worker.pruning = True
                    trial.set_user_attr("pruning", True)
                    self.say(f"trial {number} pruned at epoch {event['epoch']} ({self.config.objective} {value:.4f})")
                    worker.stop()
        return None

    def _ended(self, worker: TrialWorker, trial) -> Slot:
        seconds = time.monotonic() - worker.started_at
        del self.running[worker.number]
        status = (worker.finished or {}).get("status")
        if status == "completed":
            self._finish(worker.number, trial, worker.run_dir, seconds)
        elif worker.pruning:
            self._prune(trial, worker.run_dir, seconds)
        elif status == "failed":
            error = worker.error or {}
            self._add_seconds(trial, seconds)
            self._fail(trial, error.get("category", "other"), error.get("message", "the trial failed"))
        elif status == "stopped" and worker.stopping:
            self._add_seconds(trial, seconds)  # left RUNNING: `sweep resume` continues it
        else:
            self._add_seconds(trial, seconds)
            restarts = int(trial.user_attrs.get("restarts", 0)) + 1
            trial.set_user_attr("restarts", restarts)
            if restarts <= MAX_RESTARTS and not self.stop_requested.is_set():
                self.say(f"trial {worker.number}: its worker ended without finishing; resuming it from its checkpoint")
                self._restart[worker.number] = self._frozen(worker.number)
            else:
                self._fail(trial, "crashed", f"the training worker ended {restarts} times without finishing; "
                           f"see {worker.run_dir / 'worker.log'}")
        return worker.slot

    # ---- telling the study --------------------------------------------------------------
    def _add_seconds(self, trial, seconds: float) -> None:
        trial.set_user_attr("seconds", round(float(trial.user_attrs.get("seconds") or 0.0) + seconds, 3))

    def _record(self, trial, run_dir: Path, seconds: float):
        outcome = read_outcome(run_dir, self.config.objective, self.direction)
        self._add_seconds(trial, seconds)
        trial.set_user_attr("value", outcome.value)
        trial.set_user_attr("best_epoch", outcome.best_epoch)
        trial.set_user_attr("epochs_completed", outcome.epochs_completed)
        trial.set_user_attr("images_per_second", outcome.images_per_second)
        trial.set_user_attr("curve", outcome.curve)  # two-objective studies keep no intermediate values
        return outcome

    def _finish(self, number: int, trial, run_dir: Path, seconds: float) -> None:
        outcome = self._record(trial, run_dir, seconds)
        if outcome.value is None:
            self._fail(trial, "other", f"the run has no {self.config.objective} (no validation images?)")
            return
        values = [outcome.value]
        second = self.config.second_objective
        if second:
            values.append(float({"macs": trial.user_attrs.get("macs"), "params": trial.user_attrs.get("params"),
                                 "images_per_second": outcome.images_per_second}[second] or 0.0))
        self.study.tell(trial, values)
        self.say(f"trial {number} completed: {self.config.objective} {outcome.value:.4f} at epoch "
                 f"{outcome.best_epoch}")

    def _prune(self, trial, run_dir: Path, seconds: float) -> None:
        from optuna.trial import TrialState

        self._record(trial, run_dir, seconds)
        self.study.tell(trial, state=TrialState.PRUNED)

    def _fail(self, trial, category: str, message: str) -> None:
        from optuna.trial import TrialState

        trial.set_user_attr("failure", category)
        trial.set_user_attr("message", message[:500])
        self.study.tell(trial, state=TrialState.FAIL)
        self.say(f"trial {trial.number} failed ({category}): {message}")

    # ---- reporting ----------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in trial_rows(self.study.get_trials(deepcopy=False), self.config.directions):
            out[row.status] = out.get(row.status, 0) + 1
        return out

    def _write_snapshot(self, force: bool = False) -> None:
        """SWEEP_DIR/status.json: the rows as of now, for the GUI (at most twice a second)."""
        now = time.monotonic()
        if not force and now - self._snapshot_at < 0.5:
            return
        self._snapshot_at = now
        rows = trial_rows(self.study.get_trials(deepcopy=False), self.config.directions)
        with contextlib.suppress(OSError):
            write_json_atomic(self.dir.path / "status.json", {
                "running": sorted(self.running), "pid": os.getpid(),
                "trials": [{**row.to_json(), "curve": row.curve} for row in rows]})


class _SchedulerLock:
    """One scheduler per sweep folder (an OS lock: released by the kernel if the holder is killed)."""

    def __init__(self, sweep: SweepDir):
        self.path = sweep.lock_file
        self.handle = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; one scheduler per folder is on the user
            return self
        self.handle = self.path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise SweepError(f"{self.path.parent}: another scheduler is working on this sweep. Stop it first "
                             f"(`cnnstudio sweep stop {self.path.parent}`), or wait for it to finish.") from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self.handle is not None:
            self.handle.close()
