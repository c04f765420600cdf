"""Regenerate the reference pages from their single sources of truth.

docs/cli.md from the argument parser, docs/layers.md from the layer catalogue,
docs/settings.md from the project schema. Run: python docs/make_docs.py
(tests/test_docs.py fails when a page is stale).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))


def _default(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return f"{value}"


def cli_reference() -> str:
    from cnnstudio.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: keep the page stable
    parser = build_parser()
    parser.prog = "cnnstudio"
    lines = ["# Command-line reference", "", "Generated from the argument parser by `docs/make_docs.py`.", ""]
    lines += ["```", parser.format_help().rstrip(), "```", ""]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        lines += [f"## `cnnstudio {name}`", "", "```", sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def layers_reference() -> str:
    from cnnstudio.graph.catalogue import by_category

    lines = [
        "# Layer catalogue",
        "",
        "Generated from `cnnstudio/graph/layers` by `docs/make_docs.py`. Every type here appears in the",
        "editor's palette, the inspector, the analysis, the Keras builder and the importer.",
        "",
    ]
    for category, types in by_category().items():
        if not types:
            continue
        lines += [f"## {category}", ""]
        for layer in types:
            keras = ", ".join(layer.keras_classes) or "—"
            lines += [f"### {layer.name} — {layer.label}", "", layer.help, "", f"Keras: {keras}", ""]
            if layer.params:
                lines += ["| parameter | kind | default | meaning |", "|---|---|---|---|"]
                for spec in layer.params:
                    lines.append(f"| `{spec.name}` | {spec.kind} | {_default(spec.default)} | {spec.help} |")
                lines.append("")
    return "\n".join(lines)


def settings_reference() -> str:
    from cnnstudio.project.file import FORMAT_VERSION
    from cnnstudio.project.schema import SECTIONS

    lines = [
        "# Project file format",
        "",
        f"A project is one UTF-8 JSON document (`*.cnnproj`), format version {FORMAT_VERSION}. It is saved",
        "atomically (temporary file, fsync, rename); older versions are migrated when opened; a file",
        "from a newer CNN Studio is refused with a message rather than misread.",
        "",
        "```json",
        "{",
        f'  "format_version": {FORMAT_VERSION},',
        '  "name": "LeNet-5 digits",',
        '  "architecture": {"name": "lenet5", "nodes": [',
        '    {"name": "input", "type": "Input", "params": {"height": 32, "width": 32, "channels": 1}},',
        '    {"name": "conv1", "type": "Conv2D", "inputs": ["input"], "group": "features",',
        '     "params": {"filters": 6, "kernel_size": 5, "activation": "tanh"}}',
        '  ], "outputs": []},',
        '  "dataset": {...}, "preprocessing": {...}, "augmentation": {...}, "training": {...},',
        '  "exclusions": ["cats/blurry.jpg"], "relabels": {"dogs/x.png": "cats"},',
        '  "split": {...}',
        "}",
        "```",
        "",
        "- `architecture.nodes[]`: `name`, `type` (a catalogue type, see layers.md), `params`",
        "  (missing ones take their defaults), `inputs` (node names), optional `group` (block path",
        "  such as `stage3/block2`, used to collapse blocks), `trainable` (false = frozen) and",
        "  `position` (canvas x, y). `outputs` lists the model outputs; empty = every unconsumed node.",
        "- `exclusions` and `relabels` curate the dataset without touching the folder on disk.",
        "- `split` is the stored train/validation/test assignment, so a run can be reproduced.",
        "",
        "The settings sections, generated from `cnnstudio/project/schema.py`:",
        "",
    ]
    for section, specs in SECTIONS.items():
        lines += [f"## `{section}`", "", "| field | kind | default | meaning |", "|---|---|---|---|"]
        for spec in specs:
            kind = spec.kind + (f" ({', '.join(map(str, spec.choices))})" if spec.choices else "")
            lines.append(f"| `{spec.name}` | {kind} | {_default(spec.default)} | {spec.help} |")
        lines.append("")
    return "\n".join(lines)


def events_reference() -> str:
    from cnnstudio.training import events

    lines = [
        "# Worker event protocol",
        "",
        f"Protocol version {events.PROTOCOL_VERSION}, revision {events.PROTOCOL_REVISION}. Generated from "
        "`cnnstudio/training/events.py` by",
        "`docs/make_docs.py`; the module's text is the specification.",
        "",
        (events.__doc__ or "").strip(),
        "",
        "## Fields per event",
        "",
        "| event | fields |",
        "|---|---|",
    ]
    for name in events.EVENTS:
        lines.append(f"| `{name}` | {', '.join(f'`{f}`' for f in events.fields_of(name))} |")
    lines += ["", f"Error categories: {', '.join(f'`{c}`' for c in events.ERROR_CATEGORIES)}.", ""]
    lines += [
        "## Example",
        "",
        "```",
        "$ cnnstudio train resources/sample/sample.cnnproj --events --epochs 1",
        '{"v": 1, "event": "started", "mode": "train", "strategy": "default", "replicas": 1, ...}',
        '{"v": 1, "event": "batch", "epoch": 1, "step": 4, "steps": 13, "loss": 2.21, "accuracy": 0.18, ...}',
        '{"v": 1, "event": "epoch", "epoch": 1, "epochs": 1, "val_accuracy": 0.62, "confusion_matrix": [[...]], ...}',
        '{"v": 1, "event": "checkpoint", "kind": "last", "path": ".../checkpoints/last.npz", "epoch": 1, ...}',
        '{"v": 1, "event": "finished", "status": "completed", "epochs_completed": 1, ...}',
        "```",
    ]
    return "\n".join(lines)


PAGES = {
    "cli.md": cli_reference,
    "layers.md": layers_reference,
    "project-format.md": settings_reference,
    "events.md": events_reference,
}


def main() -> None:
    for name, make in PAGES.items():
        (DOCS / name).write_text(make() + "\n", encoding="utf-8")
        print(f"docs/{name}")


if __name__ == "__main__":
    main()
