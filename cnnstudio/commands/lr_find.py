"""`cnnstudio lr-find PROJECT`: the learning-rate range test."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnstudio.errors import TrainingError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lr-find",
        aliases=["lr_find"],
        help="learning-rate range test: sweep the rate, print the loss curve and a suggested rate",
        description="Train a few steps while the learning rate rises from 1e-7 to 10, print the loss at "
        "each rate and suggest the rate where the loss falls fastest. The model is not kept.",
    )
    parser.add_argument("project", help="project file (.cnnproj / .json)")
    parser.add_argument("--data", metavar="FOLDER", help="image folder (overrides the project's)")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per step")
    parser.add_argument("--steps", type=int, default=100, metavar="N", help="steps of the sweep (default 100)")
    parser.add_argument("--run-dir", metavar="DIR", help="where the sweep's events go (default: runs/)")
    parser.add_argument("--events", action="store_true", help="write JSON-lines events to stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cnnstudio.project import load_project
    from cnnstudio.training.console import default_run_dir, run_worker
    from cnnstudio.training.job import Job

    if args.steps < 5:
        raise TrainingError(f"--steps must be at least 5 for a useful curve. Received: {args.steps}")
    load_project(args.project)
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(args.project).with_name(
        default_run_dir(args.project).name + "-lr-find")
    job = Job(project=str(Path(args.project).resolve()), run_dir=str(run_dir.resolve()), mode="lr_find",
              data=str(Path(args.data).resolve()) if args.data else None, batch_size=args.batch_size,
              max_steps=args.steps)
    return run_worker(job, args.events)
