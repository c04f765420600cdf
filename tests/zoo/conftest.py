"""Helpers for the zoo tests: compare a Graph's analysis with the Keras model built from it."""

from __future__ import annotations

import numpy as np
import pytest


def compare_with_keras(graph, forward: bool = True):
    """Every node's output shape and parameter count must equal its Keras layer's."""
    from cnnstudio.graph.analysis import analyze
    from cnnstudio.modeling.builder import build_model

    analysis = analyze(graph)
    assert analysis.valid, analysis.errors
    model = build_model(graph)
    for name in analysis.order:
        node = analysis.nodes[name]
        layer = model.get_layer(name)
        keras_shape = tuple(layer.output.shape[1:])
        assert keras_shape == node.output_shape, (name, keras_shape, node.output_shape)
        helper_params = sum(
            model.get_layer(name + suffix).count_params()
            for suffix in ("_pad",)
            if any(lay.name == name + suffix for lay in model.layers)
        )
        assert layer.count_params() + helper_params == node.param_count, name
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        assert trainable == node.trainable_params, name
        if node.type == "Activation" and node.params["function"] == "relu":
            # A plain ReLU: negative inputs give exactly 0 (not a leaky slope).
            assert float(np.asarray(layer(-np.ones((1, 1), dtype=np.float32)))[0, 0]) == 0.0, name
    assert model.count_params() == analysis.total_params
    if forward:
        h, w, c = analysis.nodes[graph.inputs()[0]].output_shape
        result = model(np.random.default_rng(0).random((1, h, w, c), dtype=np.float32))
        results = result if isinstance(result, (list, tuple)) else [result]
        for name, tensor in zip(analysis.outputs, results, strict=True):
            assert tuple(tensor.shape[1:]) == analysis.nodes[name].output_shape
            assert np.all(np.isfinite(np.asarray(tensor)))
    return model, analysis


@pytest.fixture
def keras_compare():
    return compare_with_keras
