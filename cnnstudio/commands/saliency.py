"""`cnnstudio saliency SOURCE IMAGE --method gradcam|occlusion|smoothgrad|ig [--class NAME] -o OUT.png`."""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from cnnstudio.errors import ExportError

METHODS = ("gradcam", "occlusion", "smoothgrad", "ig")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "saliency", help="show which pixels of an image matter for a class",
        description="Explain one image: Grad-CAM, occlusion sensitivity, SmoothGrad or Integrated Gradients "
        "for the predicted class or the one named. Writes the image, the heat map and their overlay.",
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="run directory, .keras file, project, or an exported SavedModel (occlusion)")
    parser.add_argument("image", metavar="IMAGE", help="image file (PNG, JPEG, ...)")
    parser.add_argument("--method", choices=METHODS, required=True, help="saliency method")
    parser.add_argument("--class", dest="class_name", metavar="NAME", default=None,
                        help="class to explain (default: the predicted one)")
    parser.add_argument("--layer", metavar="NAME", default=None, help="Grad-CAM's layer (default: last spatial)")
    parser.add_argument("-o", "--output", metavar="OUT.png", required=True, help="where to write the picture")
    parser.add_argument("--json", action="store_true", help='also print {"method", "class", "probability"}')
    parser.add_argument("--checkpoint", choices=("best", "last"), default=None,
                        help="which checkpoint of a run directory (default: best)")
    parser.set_defaults(func=run)


def picture(image: np.ndarray, heat: np.ndarray, caption: str) -> np.ndarray:
    """Image | heat map | overlay, enlarged (nearest) so small inputs stay visible."""
    from cnnstudio.inspect.gradcam import colormap, overlay
    from cnnstudio.inspect.render import captioned

    scale = max(1, 192 // max(image.shape[:2]))
    base = image if image.shape[-1] == 3 else np.repeat(image[..., :1], 3, axis=-1)
    parts = [base, colormap(heat), overlay(image, heat)]
    parts = [np.repeat(np.repeat(p, scale, axis=0), scale, axis=1) for p in parts]
    gap = np.zeros((parts[0].shape[0], 6, 3), np.uint8)
    return captioned(np.concatenate([parts[0], gap, parts[1], gap, parts[2]], axis=1), caption)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.inspect.probe import open_probe
    from cnnstudio.inspect.render import save_png
    from cnnstudio.inspect.saliency import saliency

    probe = open_probe(args.source, args.checkpoint)
    if args.method != "occlusion" and probe.network is None:
        raise ExportError(f"{args.source}: --method {args.method} needs the model's layers; a SavedModel keeps "
                          "none. Use --method occlusion, or the run directory / .keras file it came from.")
    class_index = probe.class_index(args.class_name)
    if args.layer is not None and args.method != "gradcam":
        raise ExportError("--layer applies to --method gradcam only.")
    image = probe.load_images([args.image])[0]
    result = saliency(probe, image, args.method, class_index, layer=args.layer)
    probability = float(probe.probabilities(image[None])[0, result.class_index])
    caption = f"{args.method}: {result.class_name} ({probability:.1%})"
    save_png(picture(image, result.heat, caption), args.output)
    if args.json:
        print(json.dumps({"method": args.method, "class": result.class_name, "probability": round(probability, 6),
                          "output": args.output}, indent=2))
    else:
        print(f"{caption}; wrote {args.output}")
    return 0
