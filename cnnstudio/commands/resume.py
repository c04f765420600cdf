"""`cnnstudio resume RUN_DIR`: continue a stopped, failed or killed run from its last checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnstudio.errors import TrainingError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="continue a run from its last checkpoint",
        description="Continue a run from its last checkpoint (weights, optimizer state, learning-rate "
        "schedule position, best metric and data order restored) until it has all the epochs it was "
        "started with.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory")
    parser.add_argument("--events", action="store_true", help="write JSON-lines events to stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cnnstudio.training.console import run_worker
    from cnnstudio.training.job import Job, load_job

    run_dir = Path(args.run_dir).resolve()
    if not (run_dir / "job.json").is_file() or not (run_dir / "checkpoints").is_dir():
        raise TrainingError(f"{run_dir}: not a run directory (no job.json). Give the folder a run was started in.")
    from cnnstudio.training.rundir import RunDirectory

    status = RunDirectory(run_dir).read_run().get("status")
    if status == "completed":
        raise TrainingError(f"{run_dir}: this run already completed all its epochs; start a new one with "
                            "`cnnstudio train`.")
    original = load_job(run_dir / "job.json")
    job = Job(project=original.project, run_dir=str(run_dir), mode="resume")
    return run_worker(job, args.events)
