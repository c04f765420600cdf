"""`cnnstudio sweep PROJECT --space SPACE.json ... -o SWEEP_DIR`, `sweep resume|show|stop|export SWEEP_DIR`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from cnnstudio.errors import StudioError

USAGE = """cnnstudio sweep PROJECT --space SPACE.json [--data FOLDER] [--trials N] [--sampler grid|random|tpe]
                       [--pruner none|median|asha|hyperband] [--parallel K] [--epochs N] [--storage URL]
                       [--objective val_accuracy|val_loss|macro_f1] [--second-objective macs|params|images_per_second]
                       [--time-limit MINUTES] [--study NAME] [--gpus-per-trial G] -o SWEEP_DIR
       cnnstudio sweep resume SWEEP_DIR
       cnnstudio sweep show SWEEP_DIR [--json]
       cnnstudio sweep stop SWEEP_DIR
       cnnstudio sweep export SWEEP_DIR --format FORMAT -o OUT"""

ACTIONS = ("resume", "show", "stop", "export")
START_OPTIONS = ("space", "data", "trials", "sampler", "pruner", "parallel", "epochs", "storage", "objective",
                 "second_objective", "time_limit", "study", "gpus_per_trial", "seed")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep", usage=USAGE,
        help="search settings over many runs (grid, random, TPE; pruning; resumable; several GPUs or machines)",
        description="Run a sweep: many trials of the project, each an ordinary run directory under "
        "SWEEP_DIR/trials/, with the settings named in SPACE.json drawn by the sampler. Kill it at any "
        "moment: `sweep resume` keeps finished trials and resumes interrupted ones from their checkpoints. "
        "See docs/experiments.md.",
    )
    parser.add_argument("target", nargs="+", metavar="PROJECT | ACTION SWEEP_DIR",
                        help="a project file to start a sweep, or resume/show/stop/export and a sweep folder")
    parser.add_argument("--space", metavar="SPACE.json", help="the search space (settings and their ranges)")
    parser.add_argument("--data", metavar="FOLDER", help="image folder (overrides the project's)")
    parser.add_argument("--trials", type=int, metavar="N", help="at most N trials (a grid or list: its size)")
    parser.add_argument("--sampler", choices=("grid", "random", "tpe"), help="how settings are drawn (default tpe)")
    parser.add_argument("--pruner", choices=("none", "median", "asha", "hyperband"),
                        help="stop hopeless trials early from their per-epoch validation metric (default none)")
    parser.add_argument("--parallel", type=int, metavar="K",
                        help="trials at once (default: one per GPU, else 1; CPU cores are split between them)")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs per trial (overrides the project's)")
    parser.add_argument("--storage", metavar="URL", help="shared Optuna storage: sqlite:///F.db, postgresql://..., "
                        "journal:/shared/study.journal (default: a journal file inside SWEEP_DIR)")
    parser.add_argument("--objective", choices=("val_accuracy", "val_loss", "macro_f1"),
                        help="what a trial is judged by: its best epoch's value (default val_accuracy)")
    parser.add_argument("--second-objective", choices=("macs", "params", "images_per_second"),
                        help="a second objective: the sweep keeps a Pareto front")
    parser.add_argument("--time-limit", type=float, metavar="MINUTES",
                        help="start no new trial after this many minutes")
    parser.add_argument("--study", metavar="NAME", help="study name in the storage (default: from project and space)")
    parser.add_argument("--gpus-per-trial", type=int, metavar="G", help="GPUs per trial (MirroredStrategy); default 1")
    parser.add_argument("--seed", type=int, metavar="N", help="sampler seed (default 0)")
    parser.add_argument("-o", "--output", metavar="SWEEP_DIR|OUT", help="the sweep folder (export: what to write)")
    parser.add_argument("--json", action="store_true", help="show: print JSON for scripts")
    parser.add_argument("--format", "-f", choices=("savedmodel", "keras", "tflite", "onnx", "python"),
                        help="export: the format (as `cnnstudio export`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = args.target
    if target[0] in ACTIONS and not (len(target) == 1 and Path(target[0]).is_file()):
        if len(target) != 2:
            raise StudioError(f"usage: cnnstudio sweep {target[0]} SWEEP_DIR")
        given = [name for name in START_OPTIONS if getattr(args, name, None) is not None]
        if given:
            raise StudioError(f"--{given[0].replace('_', '-')} applies when starting a sweep (cnnstudio sweep "
                              f"PROJECT ...), not to `sweep {target[0]}`.")
        return {"resume": resume, "show": show, "stop": stop, "export": export}[target[0]](Path(target[1]), args)
    if len(target) != 1:
        raise StudioError(f"cnnstudio sweep takes one project file; received {' '.join(target)}. "
                          f"To act on a sweep folder: cnnstudio sweep {{{'|'.join(ACTIONS)}}} SWEEP_DIR.")
    return start(Path(target[0]), args)


def start(project: Path, args: argparse.Namespace) -> int:
    from cnnstudio.experiments.create import create_sweep

    if not args.space:
        raise StudioError("cnnstudio sweep PROJECT needs --space SPACE.json (the settings to vary).")
    if not args.output:
        raise StudioError("cnnstudio sweep PROJECT needs -o SWEEP_DIR (where the trials go).")
    if args.json or args.format:
        raise StudioError("--json and --format belong to `sweep show` and `sweep export`.")
    sweep = create_sweep(
        project, args.space, args.output, data=args.data, trials=args.trials, sampler=args.sampler or "tpe",
        pruner=args.pruner or "none", parallel=args.parallel, epochs=args.epochs, storage=args.storage,
        objective=args.objective or "val_accuracy", second_objective=args.second_objective,
        time_limit_minutes=args.time_limit, study_name=args.study, gpus_per_trial=args.gpus_per_trial or 1,
        seed=args.seed or 0,
    )
    print(f"sweep folder: {sweep.path}", file=sys.stderr)
    return _run_scheduler(sweep.path)


def resume(folder: Path, args: argparse.Namespace) -> int:
    return _run_scheduler(folder)


def _run_scheduler(folder: Path) -> int:
    from cnnstudio.experiments.scheduler import Scheduler

    scheduler = Scheduler(folder, say=lambda text: print(text, file=sys.stderr, flush=True))
    previous = {s: signal.signal(s, lambda signum, frame: scheduler.stop()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        counts = scheduler.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no trials"
    print(f"sweep: {summary}; see: cnnstudio sweep show {scheduler.dir.path}", file=sys.stderr)
    if scheduler.stop_requested.is_set():
        print(f"stopped; continue with: cnnstudio sweep resume {scheduler.dir.path}", file=sys.stderr)
    return 0


def load_rows(folder: Path):
    """(config, rows, best row) of a sweep folder, read from its study."""
    from cnnstudio.experiments.results import best_row, trial_rows
    from cnnstudio.experiments.study import open_study
    from cnnstudio.experiments.sweep_file import SweepDir

    sweep = SweepDir(folder)
    config = sweep.read_config()
    study = open_study(config, sweep.storage_url(config), create=False)
    rows = trial_rows(study.get_trials(deepcopy=False), config.directions)
    return config, rows, best_row(rows, config.directions[0])


def show(folder: Path, args: argparse.Namespace) -> int:
    from cnnstudio.experiments.results import format_table

    config, rows, best = load_rows(folder)
    if args.json:
        print(json.dumps({"trials": [row.to_json() for row in rows], "best": None if best is None else best.number,
                          "objective": config.objective, "second_objective": config.second_objective}, indent=2))
        return 0
    print(format_table(rows, config.objective, config.second_objective))
    if best is not None:
        print(f"best: trial {best.number} ({config.objective} {best.value:.4f}); run: {best.run_dir}")
    else:
        print("best: none yet (no completed trial)")
    return 0


def stop(folder: Path, args: argparse.Namespace) -> int:
    from cnnstudio.experiments.sweep_file import SweepDir

    sweep = SweepDir(folder)
    sweep.read_config()
    sweep.stop_file.touch()
    print(f"asked the scheduler of {sweep.path} to stop (running trials checkpoint)", file=sys.stderr)
    return 0


def export(folder: Path, args: argparse.Namespace) -> int:
    from cnnstudio.cli import build_parser

    if not args.format or not args.output:
        raise StudioError("cnnstudio sweep export SWEEP_DIR needs --format FORMAT and -o OUT.")
    _config, _rows, best = load_rows(folder)
    if best is None or not best.run_dir:
        raise StudioError(f"{folder}: no trial has completed yet; nothing to export.")
    print(f"exporting trial {best.number} ({best.run_dir})", file=sys.stderr)
    # Exactly `cnnstudio export RUN_DIR --format F -o OUT` (its parser fills every default).
    exported = build_parser().parse_args(["export", best.run_dir, "--format", args.format, "-o", args.output])
    return exported.func(exported)
