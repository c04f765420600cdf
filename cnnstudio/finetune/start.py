"""What a fine-tuning starts from (Start) and the classifier it replaces (head_layer).

Shared by plan.py (the phases) and sources.py (reading runs, .keras files, applications),
so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import TrainingError
from cnnstudio.graph.model import Graph
from cnnstudio.project import Project
from cnnstudio.training.assembly import classifier_node


@dataclass
class Start:
    """What a fine-tuning starts from: a project (architecture + settings) and weights by layer."""

    project: Project
    weights: dict[str, list[Any]]
    description: str


def head_layer(graph: Graph) -> str:
    """The classifier: the last Dense before the output (through dropout/activation/flatten)."""
    if len(graph.outputs) != 1:
        raise TrainingError(f"Fine-tuning needs a model with one output; this one has {len(graph.outputs)}.")
    name = classifier_node(graph)
    if graph[name].type != "Dense":
        raise TrainingError(f"Fine-tuning replaces the classifier, a Dense layer; the model ends in "
                            f"{graph[name].type} {name!r}.")
    return name
