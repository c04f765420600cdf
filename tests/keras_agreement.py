"""Shared check: the pure analysis agrees with Keras on every node of a graph."""

from __future__ import annotations

from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph


def assert_matches_keras(graph: Graph, model=None) -> None:
    """Every node's output shape and parameter count equal those of its Keras layer."""
    from cnnstudio.modeling.builder import build_model

    analysis = analyze(graph)
    assert analysis.valid, analysis.errors
    model = model or build_model(graph)
    layers = {layer.name: layer for layer in model.layers}
    for name in analysis.order:
        node = analysis.nodes[name]
        layer = layers[name]
        keras_shape = tuple(layer.output.shape[1:])
        assert keras_shape == node.output_shape, f"{name}: keras {keras_shape} vs ours {node.output_shape}"
        params = layer.count_params() + (layers[name + "_pad"].count_params() if name + "_pad" in layers else 0)
        assert params == node.param_count, f"{name}: keras {params} params vs ours {node.param_count}"
        trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
        assert trainable == node.trainable_params, f"{name}: trainable {trainable} vs {node.trainable_params}"
    assert model.count_params() == analysis.total_params
