"""`cnnstudio analyze PROJECT [--json]`: the per-layer table and totals."""

from __future__ import annotations

import argparse
import json
import sys

from cnnstudio.graph.analysis import Analysis, analyze, human_bytes, human_count, training_memory
from cnnstudio.graph.catalogue import format_shape
from cnnstudio.project import load_project


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="print the per-layer table (shapes, params, MACs, memory) of a project",
        description="Print each layer's output shape, parameters, multiply-adds and activation memory, "
        "like the tutorial's VGG table, with totals and any problems found.",
    )
    parser.add_argument("project", help="project file (.cnnproj / .json)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--batch-size", type=int, default=None, help="batch for the training-memory estimate")
    parser.set_defaults(func=run)


def analysis_to_json(analysis: Analysis) -> dict:
    layers = []
    for name in analysis.order:
        node = analysis.nodes[name]
        layers.append(
            {
                "name": name,
                "type": node.type,
                "output_shape": None if node.output_shape is None else list(node.output_shape),
                "params": node.param_count,
                "trainable_params": node.trainable_params,
                "macs": node.macs,
                "activation_memory": node.activation_bytes,
                "activation_elements": node.activation_elements,
                "receptive_field": None if node.receptive_field is None else list(node.receptive_field),
            }
        )
    return {
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,
        "non_trainable_params": analysis.non_trainable_params,
        "macs": analysis.macs,
        "activation_memory": analysis.activation_bytes,
        "layers": layers,
        "diagnostics": [d.to_dict() for d in analysis.diagnostics],
    }


def format_table(analysis: Analysis) -> str:
    rows = [("name", "type", "output shape", "params", "MACs", "memory", "RF")]
    for name in analysis.order:
        node = analysis.nodes[name]
        rf = "all" if node.receptive_field is None else "×".join(map(str, sorted(set(node.receptive_field))))
        rows.append(
            (
                name,
                node.type,
                format_shape(node.output_shape),
                f"{node.param_count:,}",
                human_count(node.macs),
                human_count(node.activation_elements),
                rf,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {3, 4, 5, 6}
    lines = []
    for i, row in enumerate(rows):
        cells = [c.rjust(widths[j]) if j in right else c.ljust(widths[j]) for j, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    analysis = analyze(project.graph)
    if args.json:
        print(json.dumps(analysis_to_json(analysis), indent=2))
        if not analysis.valid:
            print(f"error: {analysis.errors[0].message}", file=sys.stderr)
            return 2
        return 0
    print(format_table(analysis))
    print()
    print(f"Total params: {analysis.total_params:,} (trainable {analysis.trainable_params:,}, "
          f"non-trainable {analysis.non_trainable_params:,})")
    print(f"Multiply-adds: {human_count(analysis.macs)}")
    elements = analysis.activation_elements
    print(f"Activation memory: {human_count(elements)} values × 4 bytes ≈ "
          f"{human_bytes(analysis.activation_bytes)} / image (forward only; ~×2 for backward)")
    batch = args.batch_size or project.training["batch_size"]
    memory = training_memory(analysis, batch, project.training["optimizer"])
    print(f"Training memory at batch {batch}: ≈ {human_bytes(memory['total'])}")
    for d in analysis.diagnostics:
        where = f"{d.node}: " if d.node else ""
        print(f"{d.severity}: {where}{d.message}")
    if not analysis.valid:
        print(f"error: the architecture has {len(analysis.errors)} problem(s); see above.", file=sys.stderr)
        return 2
    return 0
