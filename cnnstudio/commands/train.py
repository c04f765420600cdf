"""`cnnstudio train PROJECT [--recipe NAME] [--set KEY=VALUE] [--data FOLDER] [--epochs N] [--batch-size N]
[--run-dir DIR] [--events]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnstudio.errors import TrainingError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a project in a worker process (progress bar, or JSON-lines events with --events)",
        description="Train the project's architecture on its image folder in a separate worker process. "
        "Shows a progress bar with ETA and live metrics; --events prints the worker's JSON-lines events "
        "instead (protocol: cnnstudio/training/events.py). Ctrl-C stops after the current step with a "
        "checkpoint; continue with `cnnstudio resume RUN_DIR`.",
    )
    parser.add_argument("project", help="project file (.cnnproj / .json)")
    parser.add_argument("--data", metavar="FOLDER", help="image folder (overrides the project's)")
    parser.add_argument("--epochs", type=int, metavar="N", help="number of epochs (overrides the project's)")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per step (overrides the project's)")
    parser.add_argument("--recipe", metavar="NAME",
                        help="apply a recipe to this run's settings (see `cnnstudio recipes`); --epochs, "
                        "--batch-size and --set win over it; the project file is not changed")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting for this run (repeatable): a training setting by name "
                        "(--set ema=true) or SECTION.KEY (--set augmentation.rotation=10)")
    parser.add_argument("--run-dir", metavar="DIR", help="run directory (default: runs/NAME-DATE beside the project; "
                        "the bundled sample's in the user's data folder)")
    parser.add_argument("--events", action="store_true", help="write JSON-lines events to stdout")
    parser.add_argument("--dry-run", action="store_true",
                        help="run a few steps only and report step time and peak memory")
    parser.add_argument("--steps", type=int, default=10, metavar="N", help="steps of the dry run (default 10)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cnnstudio.project import load_project
    from cnnstudio.training.console import default_run_dir, run_worker
    from cnnstudio.training.job import Job

    for name in ("epochs", "batch_size", "steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise TrainingError(f"--{name.replace('_', '-')} must be at least 1. Received: {value}")
    project = load_project(args.project)  # fail fast, in this process, on a bad project file
    overrides = check_overrides(project, args.settings)
    if args.recipe is not None:
        from cnnstudio.project.recipes import get_recipe

        get_recipe(args.recipe)
    if args.data and not Path(args.data).is_dir():
        raise TrainingError(f"--data {args.data}: no such folder.")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(args.project)
    if not args.dry_run and (run_dir / "job.json").exists():
        raise TrainingError(f"{run_dir} already holds a run; continue it with `cnnstudio resume {run_dir}` "
                            "or choose another --run-dir.")
    job = Job(
        project=str(Path(args.project).resolve()),
        run_dir=str(run_dir.resolve()),
        mode="dry_run" if args.dry_run else "train",
        data=str(Path(args.data).resolve()) if args.data else None,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_steps=args.steps if args.dry_run else None,
        overrides=overrides,
        recipe=args.recipe,
    )
    return run_worker(job, args.events)


def check_overrides(project, items: list[str]) -> dict[str, object]:
    """--set KEY=VALUE items checked against the schema: {"ema": True, "augmentation.rotation": 10.0}."""
    from cnnstudio.commands.zoo import parse_settings
    from cnnstudio.errors import ParameterError, StudioError
    from cnnstudio.project import schema

    out: dict[str, object] = {}
    for key, text in parse_settings(items).items():
        section, _, name = key.rpartition(".")
        section = section or "training"
        specs = {spec.name: spec for spec in schema.SECTIONS.get(section, ())}
        if section not in ("preprocessing", "augmentation", "training") or name not in specs:
            raise StudioError(f"--set {key}: no such setting. Training settings: "
                              f"{', '.join(s.name for s in schema.TRAINING)}; other sections as "
                              "augmentation.KEY or preprocessing.KEY.")
        value: object = text
        if specs[name].kind == "initializer":
            import json

            try:
                value = json.loads(text)
            except ValueError:
                value = {"name": text}
        if specs[name].optional and text == "":
            value = None  # KEY= clears an optional setting (its default)
        try:
            out[key] = specs[name].check(value, "--set")
        except ParameterError:
            raise StudioError(f"--set {key}={text}: {specs[name].title} must be {schema.allowed(specs[name])}. "
                              f"Received: {text!r}") from None
    return out
