"""`cnnstudio zoo list [--json]` and `cnnstudio zoo create NAME ... -o PROJECT`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cnnstudio.errors import StudioError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "zoo",
        help="list the classic architectures or create a project from one",
        description="The architecture zoo: LeNet-5, AlexNet, NiN, VGG, GoogLeNet, ResNet, Wide "
        "ResNet, ResNeXt, DenseNet and DPN, each with its knobs.",
    )
    actions = parser.add_subparsers(dest="zoo_command", metavar="ACTION")
    listing = actions.add_parser("list", help="list the families and their settings")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)
    create = actions.add_parser(
        "create",
        help="write a project whose architecture is a zoo model",
        description="Example: cnnstudio zoo create resnext --set depth=29 --set cardinality=8 "
        "--set width=64 --input 32x32x3 --classes 10 -o r.json",
    )
    create.add_argument("name", help="family name, e.g. resnet (see `cnnstudio zoo list`)")
    create.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting of the family (repeatable), e.g. --set depth=50")
    create.add_argument("--input", help="image size HxWxC, e.g. 32x32x3 (default: the family's)")
    create.add_argument("--classes", type=int, help="number of classes (default: the family's)")
    create.add_argument("-o", "--output", required=True, metavar="PROJECT", help="project file to write")
    create.set_defaults(func=run_create)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


def _spec_to_json(spec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec.name, "kind": spec.kind, "default": spec.default,
                           "help": spec.help}
    if spec.choices:
        out["choices"] = list(spec.choices)
    if spec.minimum is not None:
        out["minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    return out


def run_list(args: argparse.Namespace) -> int:
    from cnnstudio import zoo

    if args.json:
        print(json.dumps([
            {"name": f.name, "title": f.title, "summary": f.summary, "reference": f.reference,
             "input": list(f.input_shape), "classes": f.classes,
             "knobs": [_spec_to_json(s) for s in f.knobs]}
            for f in zoo.families()
        ], indent=2))
        return 0
    for family in zoo.families():
        knobs = ", ".join(f"{s.name}={s.default}" for s in family.knobs) or "no settings"
        h, w, c = family.input_shape
        print(f"{family.name:<10} {family.title}: {family.summary}")
        print(f"{'':<10} settings: {knobs}; default input {h}x{w}x{c}, {family.classes} classes")
    return 0


def parse_input(text: str) -> tuple[int, int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 2:
        values.append(3)
    if len(values) != 3 or min(values) < 1:
        raise StudioError(f"--input must look like HxWxC, e.g. 32x32x3. Received: {text!r}")
    return values[0], values[1], values[2]


def parse_settings(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise StudioError(f"--set needs KEY=VALUE, e.g. --set depth=50. Received: {item!r}")
        out[key.strip()] = value.strip()
    return out


def run_create(args: argparse.Namespace) -> int:
    from cnnstudio import zoo
    from cnnstudio.graph.analysis import analyze, human_count
    from cnnstudio.project import Project, save_project

    family = zoo.describe(args.name)
    knobs = parse_settings(args.settings)
    h, w, c = parse_input(args.input) if args.input else family.input_shape
    if args.classes is not None and args.classes < 1:
        raise StudioError(f"--classes must be at least 1. Received: {args.classes}")
    graph = zoo.create(family.name, (h, w), c, args.classes, **knobs)
    analysis = analyze(graph)
    if not analysis.valid:
        raise StudioError(f"{family.name} with these settings is not a valid network: "
                          f"{analysis.errors[0].message}")
    project = Project(graph=graph, name=graph.name)
    settings = ", ".join(f"{k}={v}" for k, v in zoo.check_knobs(family.name, knobs).items())
    project.notes = f"Created from the zoo: {family.title} ({settings}). {family.reference}."
    path = save_project(project, args.output)
    print(f"wrote {path}: {graph.name}, {len(graph)} nodes, {analysis.total_params:,} parameters, "
          f"{human_count(analysis.macs)} multiply-adds")
    return 0
