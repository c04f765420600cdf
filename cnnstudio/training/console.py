"""Drive a worker from a terminal: a tqdm bar with ETA and live metrics, or raw events.

Used by `cnnstudio train`, `resume` and `lr-find`. The worker runs in its own session;
Ctrl-C (SIGINT) or SIGTERM here is forwarded to it once per signal: the first makes it
finish the step, write a checkpoint and stop; a second ends it at once.
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from cnnstudio.training.events import encode
from cnnstudio.training.job import Job
from cnnstudio.training.process import WorkerProcess


def default_run_dir(project_path: str | Path) -> Path:
    """A new run directory in the project's runs folder (paths.runs_folder: beside the project,
    or the user's data folder for the bundled sample)."""
    from cnnstudio.paths import runs_folder

    project_path = Path(project_path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return runs_folder(project_path) / f"{project_path.stem}-{stamp}"


def run_worker(job: Job, as_events: bool) -> int:
    """Start the worker for `job`, show its progress, return the CLI's exit status."""
    run_dir = Path(job.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    job_file = run_dir / ("job.json" if job.mode in ("train", "resume") else f"job-{job.mode}.json")
    if job.mode == "resume":
        job_file = run_dir / "resume-job.json"
    job.save(job_file)
    with (run_dir / "worker.log").open("a", encoding="utf-8") as log:
        worker = WorkerProcess(job_file, stderr=log, own_session=True)
        view = None if as_events else TerminalView(run_dir)

        def forward(signum, frame):
            # First Ctrl-C: the worker finishes the step and checkpoints; a second one ends it.
            worker.signal(signal.SIGINT)
            if view is not None:
                view.note("stopping after this step (Ctrl-C again to abort)…")

        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        finished: dict[str, Any] | None = None
        try:
            for event in worker.events():
                if as_events:
                    sys.stdout.write(encode(event) + "\n")
                    sys.stdout.flush()
                else:
                    view.show(event)
                if event["event"] == "finished":
                    finished = event
            code = worker.wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            worker.kill()
            if view is not None:
                view.close()
    if finished is None:
        lines = (run_dir / "worker.log").read_text(encoding="utf-8", errors="replace").splitlines()
        errors = [line for line in lines if line.startswith("error: ")]
        if errors:
            print(errors[-1], file=sys.stderr)
            return 2
        print(f"error: the training worker ended without finishing (exit status {code}); see "
              f"{run_dir / 'worker.log'}. Continue it with: cnnstudio resume {run_dir}", file=sys.stderr)
        return 1
    if not as_events and finished["status"] == "stopped":
        print(f"stopped; continue with: cnnstudio resume {run_dir}", file=sys.stderr)
    return 0 if finished["status"] in ("completed", "stopped") else 1


class TerminalView:
    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.bar = None
        self.epochs = 0
        self.steps = 1
        self.best_name = ""  # what the run's best_metric measures (epoch events, revision 2)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def _open_bar(self, event: dict[str, Any]) -> None:
        from tqdm import tqdm

        self.close()
        self.steps = event["steps_per_epoch"]
        done = (event["start_epoch"] - 1) * self.steps
        # One bar for the whole run, so its ETA is the run's.
        self.bar = tqdm(total=self.epochs * self.steps, initial=done, desc=f"epoch {event['start_epoch']}/"
                        f"{self.epochs}", unit="step", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def show(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "started":
            self.epochs = event["epochs"]
            print(f"training {event['train_examples']} images ({event['val_examples']} for validation), "
                  f"{len(event['class_names'])} classes, {event['total_params']:,} params on "
                  f"{event['strategy']} × {event['replicas']}; run: {event['run_dir']}", file=sys.stderr)
            if event["mode"] in ("train", "resume"):
                self._open_bar(event)
        elif kind == "batch" and self.bar is not None:
            position = (event["epoch"] - 1) * self.steps + event["step"]
            self.bar.set_description(f"epoch {event['epoch']}/{self.epochs}", refresh=False)
            self.bar.set_postfix(loss=f"{event['loss']:.4f}", acc=f"{event['accuracy']:.3f}",
                                 lr=f"{event['lr']:.2g}", img_s=f"{event['images_per_second'] or 0:.0f}",
                                 refresh=False)
            self.bar.update(max(0, position - self.bar.n))
        elif kind == "epoch":
            val = ""
            if event["val_loss"] is not None:
                val = f"  val_loss {event['val_loss']:.4f}  val_acc {event['val_accuracy']:.4f}"
                if event.get("val_macro_f1") is not None:  # protocol revision 2
                    val += f"  bal_acc {event['val_balanced_accuracy']:.4f}  macro_f1 {event['val_macro_f1']:.4f}"
            self.best_name = event.get("best_metric_name") or self.best_name
            mark = " *" if event["best"] else ""
            self.note(f"epoch {event['epoch']}/{event['epochs']}  loss {event['loss']:.4f}  acc {event['accuracy']:.4f}"
                  f"{val}  lr {event['lr']:.3g}  {event['seconds']:.1f}s{mark}")
        elif kind == "warning":
            self.note(f"warning: {event['message']}")
        elif kind == "error":
            self.close()
            print(f"error: {event['message']}", file=sys.stderr)
        elif kind == "lr_find":
            self.close()
            for rate, loss in zip(event["learning_rates"], event["losses"], strict=False):
                print(f"  lr {rate:10.3g}  loss {'nan' if loss is None else f'{loss:.4f}'}")
            suggested = event["suggested_lr"]
            print("suggested learning rate: " + ("none (the loss never fell)" if suggested is None
                                                 else f"{suggested:.3g}"))
        elif kind == "dry_run":
            memory = event["peak_memory_bytes"]
            print(f"dry run on {event['device']}: {event['step_seconds'] * 1000:.1f} ms/step, "
                  f"{event['images_per_second'] or 0:.0f} images/s, peak memory "
                  f"{(memory or 0) / 1024**2:.0f} MiB")
        elif kind == "finished":
            self.close()
            if event["status"] == "completed" and event["model_path"]:
                name = f" {self.best_name}" if self.best_name else ""
                print(f"done in {event['seconds']:.0f}s: best{name} {event['best_metric']:.4f} at epoch "
                      f"{event['best_epoch']}; model: {event['model_path']}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            time.sleep(0)
