"""`cnnstudio embed RUN_DIR [--method pca|tsne|umap] [--split val|test] -o OUT.png [--json]`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from cnnstudio.errors import ExportError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "embed", help="map a run's validation/test images by what the network sees in them",
        description="Take the features just before the classifier for every image of the run's validation "
        "(or test) split and lay them out in 2-D: one colour per true class, mistakes drawn as crosses. "
        "Features and maps are cached in RUN_DIR/inspect/.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a training run directory")
    parser.add_argument("--method", choices=("pca", "tsne", "umap"), default="pca",
                        help="pca (instant), tsne, or umap (needs the umap-learn package)")
    parser.add_argument("--split", choices=("val", "test"), default="val", help="which images (default val)")
    parser.add_argument("-o", "--output", metavar="OUT.png", help="where to write the scatter plot")
    parser.add_argument("--json", action="store_true",
                        help='print JSON: [{"image", "true", "predicted", "x", "y"}]')
    parser.add_argument("--checkpoint", choices=("best", "last"), default=None,
                        help="which checkpoint (default: best)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.json:
        raise ExportError("say where the picture goes with -o OUT.png (or print the points with --json).")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.inspect.embedding import embed
    from cnnstudio.inspect.render import save_png, scatter

    def progress(fraction: float, message: str) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{fraction:4.0%} {message[:60]:60}", end="", file=sys.stderr, flush=True)

    embedding = embed(args.run_dir, args.method, args.split, args.checkpoint, progress)
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.output:
        save_png(scatter(embedding), args.output)
    if args.json:
        print(json.dumps(embedding.rows(), indent=2))
    else:
        wrong = int(embedding.mistakes.sum())
        print(f"{len(embedding.images)} {args.split} images, {wrong} mistakes; wrote {args.output}")
    return 0
