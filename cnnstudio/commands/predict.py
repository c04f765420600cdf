"""`cnnstudio predict MODEL IMAGE... [--top-k K] [--json]`."""

from __future__ import annotations

import argparse
import json
import os


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify image files with a trained model",
        description="Classify images with a SavedModel or TFLite export (any quantisation), a .keras file or a run "
        "directory. Images are "
        "decoded and resized exactly as in training.",
    )
    parser.add_argument("model", metavar="MODEL", help="SavedModel folder, .tflite file, .keras file or run directory")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--top-k", type=int, default=3, metavar="K", help="classes listed per image (default 3)")
    parser.add_argument("--json", action="store_true",
                        help='print JSON: [{"image", "top": [{"class", "probability"}]}]')
    parser.add_argument("--checkpoint", choices=("best", "last"), default=None,
                        help="which checkpoint of a run directory (default: best)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.export.predict import load_predictor, predict_files

    predictor = load_predictor(args.model, args.checkpoint)
    results = predict_files(predictor, args.images, args.top_k)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for result in results:
        best = ", ".join(f"{t['class']} {t['probability']:.1%}" for t in result["top"])
        print(f"{result['image']}: {best}")
    return 0
