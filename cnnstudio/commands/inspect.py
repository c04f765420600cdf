"""`cnnstudio inspect SOURCE IMAGE [--layer NAME]... -o OUT.png [--json]`: feature maps of layers."""

from __future__ import annotations

import argparse
import json
import os

from cnnstudio.errors import ExportError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="draw the feature maps a model computes for one image",
        description="Run one image through the model and draw the named layers' activations as grids of "
        "channels (all convolution layers when no --layer is given), with each layer's mean activation "
        "and fraction of dead units (channels never positive for the image).",
    )
    parser.add_argument("source", metavar="SOURCE", help="run directory, .keras file or project (untrained)")
    parser.add_argument("image", metavar="IMAGE", help="image file (PNG, JPEG, ...)")
    parser.add_argument("--layer", action="append", default=[], metavar="NAME",
                        help="a layer to show (repeat for several; default: every convolution)")
    parser.add_argument("-o", "--output", metavar="OUT.png", help="where to write the picture")
    parser.add_argument("--json", action="store_true",
                        help='print JSON: [{"name", "shape", "mean", "dead_fraction"}], one per layer')
    parser.add_argument("--checkpoint", choices=("best", "last"), default=None,
                        help="which checkpoint of a run directory (default: best)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.json:
        raise ExportError("say where the picture goes with -o OUT.png (or print statistics with --json).")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.inspect.features import feature_maps
    from cnnstudio.inspect.probe import open_probe
    from cnnstudio.inspect.render import layers_picture, save_png

    probe = open_probe(args.source, args.checkpoint)
    probe.layer_names()  # a SavedModel says here that it keeps no layers
    for name in args.layer:
        probe.layer(name)  # a bad name fails before the image is read
    images = probe.load_images([args.image])
    layers = feature_maps(probe, images, args.layer or None)
    if args.output:
        save_png(layers_picture(layers), args.output)
    if args.json:
        print(json.dumps([layer.summary() for layer in layers], indent=2))
    else:
        for layer in layers:
            print(f"{layer.name}: {'×'.join(map(str, layer.shape))}, mean {layer.mean:.4g}, "
                  f"dead {layer.dead_fraction:.0%}")
        print(f"wrote {args.output}")
    return 0
