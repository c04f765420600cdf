"""The trained model: preprocessing + augmentation (training only) + the architecture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import GraphError
from cnnstudio.graph import catalogue
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph


def _keeps_class_scores(node_type: str) -> bool:
    """A layer between the classifier and the output that keeps its meaning (the catalogue's flag)."""
    return catalogue.get(node_type).keeps_class_scores


@dataclass
class Assembled:
    model: Any
    from_logits: bool
    warnings: list[tuple[str, str]]  # (code, message)


def classifier_node(graph: Graph) -> str:
    """The node that makes the class scores: back from the single output through pass-throughs."""
    outputs = graph.outputs
    if len(outputs) != 1:
        raise GraphError(f"The architecture has {len(outputs)} outputs; a classifier needs exactly one.")
    name = outputs[0]
    # An Activation after the classifier (softmax) changes the scores' scale, not whose they are.
    while (graph[name].type == "Activation" or _keeps_class_scores(graph[name].type)) and graph[name].inputs:
        name = graph[name].inputs[0]
    return name


def adapt_classes(graph: Graph, num_classes: int) -> tuple[Graph, str | None]:
    """A copy of `graph` whose classifier has `num_classes` outputs, and a warning if changed."""
    graph = graph.copy()
    outputs = graph.outputs
    name = classifier_node(graph)
    node = graph[name]
    if node.type == "Dense":
        units = node.params.get("units", 10)
        if units != num_classes:
            node.params["units"] = num_classes
            return graph, (f"The classifier {name!r} had {units} outputs but the dataset has {num_classes} "
                           f"classes; it was changed to {num_classes} for this run (save the project to keep it).")
        return graph, None
    shape = analyze(graph).nodes[outputs[0]].output_shape
    if not shape or shape[-1] != num_classes:
        raise GraphError(
            f"The architecture ends in {node.type} {name!r} with {shape[-1] if shape else '?'} outputs, but the "
            f"dataset has {num_classes} classes. Make its last layer have {num_classes} units/filters.",
            node=name,
        )
    return graph, None


def ends_with_softmax(graph: Graph) -> bool:
    name = graph.outputs[0]
    while True:
        node = graph[name]
        if node.type == "Activation":
            return node.params.get("function") == "softmax"
        if node.type == "Dense":
            return node.params.get("activation") == "softmax"
        if _keeps_class_scores(node.type) and node.inputs:
            name = node.inputs[0]
            continue
        return False


def _as_list(layers: Any) -> list[Any]:
    if layers is None:
        return []
    if isinstance(layers, list | tuple):
        return list(layers)
    return [layers]


def _preprocessing(project, statistics) -> list[Any]:
    from cnnstudio.modeling.preprocessing import preprocessing_layers

    return _as_list(preprocessing_layers(statistics, project.preprocessing))


def _augmentation(project, seed: int) -> list[Any]:
    from cnnstudio.modeling.augmentation import augmentation_layers

    return _as_list(augmentation_layers(project.augmentation, seed))


def assemble(project, class_names: list[str], image_shape: tuple[int, int, int], statistics: Any,
             seed: int, build: Callable | None = None, augment: bool = True) -> Assembled:
    """Build the full model; call inside the strategy's scope."""
    import keras

    from cnnstudio.modeling.builder import build_model
    from cnnstudio.project.schema import weight_defaults

    training = project.training
    graph, warning = adapt_classes(project.graph, len(class_names))
    warnings: list[tuple[str, str]] = [("classes_adapted", warning)] if warning else []
    architecture = (build or build_model)(graph, weight_defaults(training))
    pre = _preprocessing(project, statistics)
    augmentation = _augmentation(project, seed) if augment else []
    inputs = keras.Input(shape=tuple(image_shape), dtype="uint8", name="image")
    value = inputs
    # Augmentation works on uint8-range images and is active only when training=True.
    for layer in augmentation + pre:
        value = layer(value)
    value = architecture(value)
    # Mixed precision computes in float16; the loss wants float32 outputs.
    value = keras.layers.Activation("linear", dtype="float32", name="output")(value)
    model = keras.Model(inputs, value, name=architecture.name)
    return Assembled(model, not ends_with_softmax(graph), warnings)
