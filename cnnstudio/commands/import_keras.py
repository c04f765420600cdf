"""`cnnstudio import-keras MODEL.keras -o PROJECT`: a Keras model becomes an editable project.

The weights are written next to the project as PROJECT.weights.npz (one array per node
weight, by node name) so fine-tuning can start from them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "import-keras",
        help="turn a .keras model into a project (weights kept next to it)",
        description="Import a functional or Sequential Keras model (nested sub-models are "
        "flattened into groups). The weights are saved next to the project as "
        "<project>.weights.npz for fine-tuning.",
    )
    parser.add_argument("model", metavar="MODEL.keras", help="Keras model file")
    parser.add_argument("-o", "--output", required=True, metavar="PROJECT", help="project file to write")
    parser.add_argument("--no-weights", action="store_true", help="import the architecture only")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cnnstudio.graph.analysis import analyze, human_count
    from cnnstudio.modeling.importer import (
        graph_from_keras,
        load_keras_model,
        save_weights,
        weights_path_for,
    )
    from cnnstudio.project import Project, save_project

    source = Path(args.model)
    model = load_keras_model(source)
    result = graph_from_keras(model, name=source.stem)
    output = Path(args.output)
    project = Project(graph=result.graph, name=source.stem)
    # A model trained by CNN Studio brings its augmentation and normalisation back as settings.
    known_augmentation = {k: v for k, v in result.augmentation.items() if k in project.augmentation}
    project.augmentation.update(known_augmentation)
    project.preprocessing.update({k: v for k, v in result.preprocessing.items() if k in project.preprocessing})
    lines = [f"Imported from {source.name} ({model.name})."]
    weights_file = None
    if result.weights and not args.no_weights:
        weights_file = weights_path_for(output)
        lines.append(f"Pretrained weights: {weights_file.name} (next to this project; arrays "
                     "named <node>/<index>).")
    project.notes = " ".join(lines + result.notes)
    if weights_file is not None:
        save_weights(result.weights, weights_file)
        project.weights = weights_file.name  # beside the project; save_project rebases it on "save as"
    path = save_project(project, output)
    analysis = analyze(result.graph)
    print(f"wrote {path}: {len(result.graph)} nodes, {analysis.total_params:,} parameters, "
          f"{human_count(analysis.macs)} multiply-adds")
    if weights_file is not None:
        print(f"wrote {weights_file}: weights of {len(result.weights)} layers")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
