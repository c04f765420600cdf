"""Sweep scheduler overhead, and trials/hour with several trials at once.

1. Overhead: a sequential sweep of tiny trials on the sample digits. Per trial, the time not
   spent inside the worker's epochs (process start and TensorFlow import for the slot's first
   trial only, since later trials reuse the persistent worker; data and model build; the
   scheduler's ask/tell and bookkeeping; the gap before the next trial), in seconds and as
   a fraction of the trial's wall time; then the fraction that fixed cost makes of a trial
   whose epochs take one minute (goal < 5%).
2. Parallel: the same sweep with --parallel 2 (CPU, cores split) or one trial per GPU, and
   the ratio of trials per hour against --parallel 1. Reported as measured: on 2 shared CPU
   cores TensorFlow already uses both cores for one trial, so expect little gain there.

Usage: python benchmarks/sweep_overhead.py [--trials 4] [--epochs 2] [--parallel 2]
The last line prints the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_project(folder: Path) -> Path:
    from cnnstudio.paths import sample_project
    from cnnstudio.project import load_project, save_project

    shutil.copytree(sample_project().parent, folder / "images", ignore=shutil.ignore_patterns("*.cnnproj", "runs"))
    project = load_project(sample_project())
    project.dataset["folder"] = str(folder / "images")
    return save_project(project, folder / "digits.cnnproj")


def run_sweep(project: Path, space: Path, out: Path, epochs: int, parallel: int, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "sweep", str(project), "--space", str(space),
                             "--epochs", str(epochs), "--parallel", str(parallel), "-o", str(out)],
                            cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"sweep failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def epoch_seconds(run_dir: Path) -> float:
    total = 0.0
    for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["event"] == "epoch":
            total += float(event["seconds"])
    return total


def breakdown(runs: list[Path]) -> dict[str, float]:
    """Seconds per trial: worker start-up (launch to `started`: Python, TensorFlow, data, model),
    after training (last epoch to `finished`: the final model save), and the scheduler's gap
    (one trial's `finished` to the next trial's launch: tell, bookkeeping, the next ask)."""
    parts = {"startup": 0.0, "finish": 0.0, "scheduler_gap": 0.0, "first_startup": 0.0, "later_startup": 0.0,
             "steady": 0.0}
    previous_finish = None
    for number, run in enumerate(runs):
        # Saved by the scheduler just before it hands the trial to a worker (a new run's worker
        # rewrites job.json after importing TensorFlow, so that file's time comes too late).
        launched = (run / "project.cnnproj").stat().st_mtime
        events = [json.loads(line) for line in (run / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        started = next(e["time"] for e in events if e["event"] == "started")
        last_epoch = [e["time"] for e in events if e["event"] == "epoch"][-1]
        finished = next(e["time"] for e in events if e["event"] == "finished")
        parts["startup"] += started - launched
        parts["first_startup" if number == 0 else "later_startup"] += (started - launched) * (
            len(runs) if number == 0 else len(runs) / max(1, len(runs) - 1))
        parts["finish"] += finished - last_epoch
        if previous_finish is not None:
            parts["scheduler_gap"] += max(0.0, launched - previous_finish)
            # Steady state: from one trial's end to the next one's, less the next one's epochs.
            parts["steady"] += (finished - previous_finish - epoch_seconds(run)) * len(runs) / max(1, len(runs) - 1)
        previous_finish = finished
    return {k: v / len(runs) for k, v in parts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    from cnnstudio.experiments.devices import local_gpu_count

    gpus = local_gpu_count()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as scratch:
        folder = Path(scratch)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO),
               "CNNSTUDIO_CACHE_DIR": str(folder / "cache")}
        project = make_project(folder)
        space = folder / "space.json"
        rates = [0.001 * (i + 1) for i in range(args.trials)]
        space.write_text(json.dumps({"list": [{"training.learning_rate": r} for r in rates]}))
        sequential = run_sweep(project, space, folder / "one", args.epochs, 1, env)
        runs = sorted((folder / "one" / "trials").iterdir())
        training = sum(epoch_seconds(run) for run in runs)
        overhead = (sequential - training) / len(runs)
        per_trial = sequential / len(runs)
        fraction = overhead / per_trial
        minute = overhead / (60.0 + overhead)
        print(f"sequential: {len(runs)} trials in {sequential:.1f}s, {training:.1f}s inside epochs; "
              f"overhead {overhead:.1f}s per trial = {fraction:.0%} of these {per_trial:.1f}s trials; "
              f"for trials with one minute of epochs: {minute:.1%} (goal < 5%)")
        parts = breakdown(runs)
        scheduler_only = parts["scheduler_gap"] / (60.0 + overhead)
        print(f"  per trial: worker start-up {parts['startup']:.1f}s (first trial {parts['first_startup']:.1f}s: "
              f"process, TensorFlow import, data, model; later trials on the persistent worker "
              f"{parts['later_startup']:.1f}s: data, model), final save "
              f"{parts['finish']:.1f}s, between trials (worker exit, scheduler tell/ask) {parts['scheduler_gap']:.2f}s "
              f"({scheduler_only:.2%} of a one-minute trial)")
        slots = args.parallel if not gpus else gpus
        parallel = run_sweep(project, space, folder / "many", args.epochs, slots, env)
        where = f"{gpus} GPU(s), one trial per GPU" if gpus else f"{os.cpu_count()} CPU cores, --parallel {slots}"
        ratio = sequential / parallel
        steady = parts["steady"] / (60.0 + parts["steady"])
        print(f"  steady state (each trial after the first, end of one to end of the next, less its epochs): "
              f"{parts['steady']:.1f}s per trial = {steady:.1%} of a one-minute trial; the rest of the overhead "
              f"above is paid once per sweep (scheduler start, the first worker's TensorFlow import)")
        print(f"{where}: {len(runs)} trials in {parallel:.1f}s vs {sequential:.1f}s sequential: "
              f"{ratio:.2f}x trials/hour" + (f" (goal >= {0.9 * gpus:.1f}x)" if gpus else " (reported, no goal)"))
        print(f"ratio: overhead_fraction_1min={minute:.3f} steady_fraction_1min={steady:.3f} "
              f"scheduler_fraction_1min={scheduler_only:.4f} "
              f"parallel_vs_sequential={ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
