"""`cnnstudio finetune SOURCE --data FOLDER -o OUT [--freeze LAYER|GROUP] [--head-epochs N] ...`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "finetune", help="fine-tune a trained model on a new image folder",
        description="Start from a run directory, a .keras file or keras.applications.NAME with --weights FILE "
        "(a local file: nothing is downloaded). The classifier is replaced for the new classes; layers up to "
        "--freeze stay fixed (BatchNorm in inference mode); the rest of the backbone learns at "
        "--backbone-lr times the rate. OUT receives a project per phase, its initial weights and its run.",
    )
    parser.add_argument("source", metavar="SOURCE", help="run directory, .keras file or keras.applications.NAME")
    parser.add_argument("--data", required=True, metavar="FOLDER", help="the new image folder")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="folder for projects, weights and runs")
    parser.add_argument("--freeze", metavar="LAYER|GROUP", help="freeze this layer (or group path) and all before it")
    parser.add_argument("--backbone-lr", type=float, default=0.1, metavar="F",
                        help="backbone learning rate as a fraction of the head's (default 0.1)")
    parser.add_argument("--learning-rate", type=float, metavar="LR", help="head learning rate (default: the source's)")
    parser.add_argument("--epochs", type=int, default=5, metavar="N", help="epochs of the main phase (default 5)")
    parser.add_argument("--head-epochs", type=int, default=0, metavar="N",
                        help="first train only the new classifier for N epochs (two phases)")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per step")
    parser.add_argument("--checkpoint", choices=("best", "last"), help="which checkpoint of a run (default best)")
    parser.add_argument("--weights", metavar="FILE", help="local weights file for keras.applications.NAME")
    parser.add_argument("--input-size", type=int, metavar="PIXELS",
                        help="input side for keras.applications.NAME (default 224)")
    parser.add_argument("--json", action="store_true", help="print the phases' results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.errors import TrainingError
    from cnnstudio.finetune.plan import Options, finetune

    for name in ("epochs", "head_epochs", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "head_epochs" else 1):
            raise TrainingError(f"--{name.replace('_', '-')} must be at least {0 if name == 'head_epochs' else 1}.")
    if not 0 < args.backbone_lr <= 1:
        raise TrainingError(f"--backbone-lr must be in (0, 1]. Received: {args.backbone_lr}")
    options = Options(data=Path(args.data), out=Path(args.output), freeze=args.freeze, backbone_lr=args.backbone_lr,
                      learning_rate=args.learning_rate, epochs=args.epochs, head_epochs=args.head_epochs,
                      batch_size=args.batch_size, checkpoint=args.checkpoint,
                      weights=Path(args.weights) if args.weights else None, input_size=args.input_size)
    log = None if args.json else (lambda message: print(message, file=sys.stderr))
    results = finetune(args.source, options, log)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            metric = result.get("best_metric")
            print(f"phase {result['phase']}: {result['status']}, {result['epochs_completed']} epochs, best "
                  f"val accuracy {metric if metric is None else f'{metric:.3f}'} -> {result['run_dir']}")
        print(f"export the result with: cnnstudio export {results[-1]['run_dir']} --format savedmodel -o MODEL")
    return 0
