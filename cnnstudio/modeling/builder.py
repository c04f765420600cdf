"""Graph -> keras.Model (functional), generated from the catalogue's Keras mappings."""

from __future__ import annotations

from typing import Any

import keras

from cnnstudio.errors import GraphError
from cnnstudio.graph import catalogue
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph
from cnnstudio.modeling.custom_layers import CUSTOM_OBJECTS


def layer_class(call: catalogue.KerasCall):
    """The Keras layer class a catalogue KerasCall names (cnnstudio's own for custom calls)."""
    if call.custom:
        return CUSTOM_OBJECTS[call.class_name]
    return getattr(keras.layers, call.class_name)


def build_model(graph: Graph, defaults: dict[str, Any] | None = None, name: str | None = None) -> keras.Model:
    """A functional Keras model whose layer names are the node names.

    `defaults` may hold "initializer" and "regularizer" (project-wide values) for weighted
    layers whose own fields are empty. Raises GraphError if the graph is invalid.
    """
    analysis = analyze(graph)
    if analysis.errors:
        first = analysis.errors[0]
        more = f" (and {len(analysis.errors) - 1} more problems)" if len(analysis.errors) > 1 else ""
        raise GraphError(first.message + more, node=first.node)
    tensors: dict[str, Any] = {}
    for node_name in analysis.order:
        node = graph[node_name]
        layer_type = catalogue.get(node.type)
        params = layer_type.with_weight_defaults(analysis.nodes[node_name].params or {}, defaults)
        calls = layer_type.keras(params)
        if node.type == "Input":
            tensors[node_name] = keras.Input(shape=calls[0].kwargs["shape"], name=node_name)
            continue
        inputs = [tensors[s] for s in node.inputs]
        value: Any = inputs if layer_type.max_inputs != 1 else inputs[0]
        for call in calls:
            layer = layer_class(call)(name=node_name + call.suffix, **call.kwargs)
            if not node.trainable:
                layer.trainable = False
            value = layer(value)
        tensors[node_name] = value
    inputs = [tensors[n] for n in graph.inputs()]
    outputs = [tensors[n] for n in analysis.outputs]
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=_model_name(name or graph.name),
    )


def _model_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return cleaned or "model"
