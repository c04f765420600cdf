"""The project's runs as an observable store (pure Python: no Qt, no TensorFlow).

One store per open project. Whoever starts, finishes or deletes a run tells the store; every
view (Runs, Export, Training, Experiments) subscribes and redraws from `runs`. Views never
scan the disk on their own occasions: the store reads it when a project opens, when a run
changes, and when the user asks for a refresh.

    store = RunStore()
    store.subscribe(lambda change: ...)      # RunChange(kind, path)
    store.open(project.path)                 # "reloaded"
    store.run_started(run_dir)               # "started": listed at once, marked live
    store.run_finished(run_dir)              # "finished": its summary re-read
    store.delete([run_dir])                  # "deleted" (the live run is refused)
    store.include(trial_run_dir)             # "included": a run kept elsewhere (a sweep's trial)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cnnstudio.errors import StudioError
from cnnstudio.paths import RUNS_FOLDER, runs_folder  # noqa: F401  (where runs live: one place)
from cnnstudio.training.run_records import RunSummary, is_run, list_runs, read_batches, summarize
from cnnstudio.training.rundir import RunDirectory

# A "running" run whose event log has not moved for this long has no worker any more (killed,
# machine off): it is shown as interrupted, and Resume continues it. A worker left training in
# the background after the window closed writes its log every second or so.
SILENT_S = 120.0


def is_active(path: Path, now: float | None = None) -> bool:
    """True when the run's worker wrote its event log recently (it trains, perhaps in the background)."""
    import time

    try:
        modified = max((Path(path) / name).stat().st_mtime for name in ("events.jsonl", "run.json")
                       if (Path(path) / name).exists())
    except ValueError:
        return False
    return (now if now is not None else time.time()) - modified < SILENT_S


def made_progress(path: Path) -> bool:
    """True when the run trained at least one step (checkpoints, epochs or batches on disk)."""
    checkpoints = Path(path) / "checkpoints"
    if checkpoints.is_dir() and any(checkpoints.iterdir()):
        return True
    if read_batches(path, limit=1):
        return True
    try:
        return bool(RunDirectory(path, writer=False).read_metrics())
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class RunChange:
    """kind: "reloaded" (another project, or a refresh), "started", "progressed" (an epoch ended),
    "finished", "deleted", "included" (a run directory outside the runs folder is listed now)."""

    kind: str
    paths: tuple[Path, ...] = ()


class RunStore:
    def __init__(self, project_path: str | Path | None = None):
        self.folder: Path | None = None
        self.runs: list[RunSummary] = []
        self.live: Path | None = None  # the run a worker of this window is writing
        self.included: list[Path] = []  # run directories kept outside the folder (sweep trials)
        self._listeners: list[Callable[[RunChange], None]] = []
        if project_path is not None:
            self.open(project_path)

    def subscribe(self, callback: Callable[[RunChange], None]) -> Callable[[], None]:
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _tell(self, change: RunChange) -> None:
        for callback in list(self._listeners):
            callback(change)

    # ---- reading -------------------------------------------------------------------------------
    @property
    def latest(self) -> RunSummary | None:
        return self.runs[0] if self.runs else None

    def get(self, path: str | Path | None) -> RunSummary | None:
        if path is None:
            return None
        key = Path(path).resolve()
        return next((run for run in self.runs if run.path.resolve() == key), None)

    def is_included(self, path: str | Path) -> bool:
        """True for a run listed from outside the runs folder (`include`: a sweep's trial)."""
        key = Path(path).resolve()
        return any(key == kept.resolve() for kept in self.included)

    def is_live(self, path: str | Path) -> bool:
        return self.live is not None and Path(path).resolve() == self.live.resolve()

    # ---- changes -------------------------------------------------------------------------------
    def open(self, project_path: str | Path | None) -> None:
        """Another project (or the same one saved somewhere else): read its runs folder."""
        self.folder = runs_folder(project_path)
        self.included = []  # another project's trials are not this one's
        self.runs = self._read()
        self._tell(RunChange("reloaded"))

    def refresh(self) -> None:
        """Re-read the folder (the user's Refresh, or runs made by another program)."""
        self.runs = self._read()
        self._tell(RunChange("reloaded"))

    def include(self, path: str | Path) -> RunSummary:
        """List a run directory kept outside the runs folder (a sweep's trial) with the project's
        runs, until another project opens; a refresh keeps it while it is on disk."""
        path = Path(path)
        if not is_run(path):
            raise StudioError(f"{path} is not a run directory (no job.json or run.json): the trial has not started "
                              "yet or its folder was moved.")
        if all(path.resolve() != kept.resolve() for kept in self.included):
            self.included.append(path)
        summary = self._update(path)
        self._tell(RunChange("included", (path,)))
        return summary

    def _read(self) -> list[RunSummary]:
        """The folder's runs and the included ones still on disk, newest first (a run in both once)."""
        runs = list_runs(self.folder)
        seen = {run.path.resolve() for run in runs}
        runs += [summarize(path) for path in self.included if is_run(path) and path.resolve() not in seen]
        runs.sort(key=lambda r: (r.started or datetime.min, r.name), reverse=True)
        return [self._checked(run) for run in runs]

    def _checked(self, summary: RunSummary) -> RunSummary:
        """A run that says "running" but whose worker is gone is "interrupted" (resumable)."""
        if summary.status == "running" and not self.is_live(summary.path) and not is_active(summary.path):
            summary.status = "interrupted"
        return summary

    def _update(self, path: Path) -> RunSummary | None:
        path = Path(path)
        self.runs = [run for run in self.runs if run.path.resolve() != path.resolve()]
        if not is_run(path):
            return None
        summary = self._checked(summarize(path))
        if self.live is not None and path.resolve() == self.live.resolve():
            summary.status = "running"
        self.runs.insert(0, summary)
        self.runs.sort(key=lambda r: (r.started or datetime.min, r.name), reverse=True)
        return summary

    def run_started(self, path: str | Path) -> None:
        self.live = Path(path)
        self._update(self.live)
        self._tell(RunChange("started", (Path(path),)))

    def run_progressed(self, path: str | Path) -> None:
        """An epoch ended in the live run: its row (epochs, best) is re-read."""
        self._update(Path(path))
        self._tell(RunChange("progressed", (Path(path),)))

    def run_finished(self, path: str | Path, keep: bool = True) -> None:
        """The worker ended. `keep=False` removes a run that never made a step (nothing to show)."""
        path = Path(path)
        if self.is_live(path):
            self.live = None
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
            self.runs = [run for run in self.runs if run.path.resolve() != path.resolve()]
            self._tell(RunChange("deleted", (path,)))
            return
        self._update(path)
        self._tell(RunChange("finished", (path,)))

    def delete(self, paths: Iterable[str | Path]) -> list[Path]:
        """Delete run folders from disk (the caller asked the user); the live run is refused."""
        chosen = [Path(p) for p in paths]
        live = [p for p in chosen if self.is_live(p)]
        if live:
            raise StudioError(f"Run {live[0].name} is training: stop it before deleting it.")
        for path in chosen:
            shutil.rmtree(path, ignore_errors=True)
        gone = {p.resolve() for p in chosen}
        self.runs = [run for run in self.runs if run.path.resolve() not in gone]
        self.included = [path for path in self.included if path.resolve() not in gone]
        self._tell(RunChange("deleted", tuple(chosen)))
        return chosen
