"""Every catalogue entry, not a hand-kept list: its analysis agrees with Keras and it imports
back to the same node. Adding a layer type to graph/layers/ puts it under these checks."""

from __future__ import annotations

import pytest

from cnnstudio.graph import catalogue
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph
from tests.keras_agreement import assert_matches_keras


def _takes_padding(layer_type: catalogue.LayerType) -> bool:
    return any(spec.kind == "padding" for spec in layer_type.params)


def every_type_graph() -> Graph:
    """One branch per layer type off an 8×8×4 input, at its defaults; types with a padding P
    get a second branch with an explicit P=1 (a ZeroPadding2D in Keras, folded back on import)."""
    graph = Graph(name="every_type")
    source = graph.add_layer("Input", name="input", height=8, width=8, channels=4)
    outputs = []
    for name, layer_type in catalogue.layer_types().items():
        if name == "Input":
            continue
        inputs = [source] * max(1, layer_type.min_inputs)
        variants = [{}] + ([{"padding": 1}] if _takes_padding(layer_type) else [])
        for index, params in enumerate(variants):
            node = f"{name.lower()}_{index}"
            outputs.append(graph.add_layer(name, inputs, name=node, **params))
    graph.set_outputs(outputs)
    return graph


def test_the_graph_covers_every_layer_type_and_is_valid():
    graph = every_type_graph()
    assert {node.type for node in graph} == set(catalogue.layer_types())
    analysis = analyze(graph)
    assert analysis.valid, analysis.errors


@pytest.mark.slow
def test_every_layer_type_agrees_with_keras_and_imports_back():
    from cnnstudio.modeling.builder import build_model
    from cnnstudio.modeling.importer import graph_from_keras

    graph = every_type_graph()
    model = build_model(graph)
    assert_matches_keras(graph, model)
    back = graph_from_keras(model).graph
    original, imported = analyze(graph), analyze(back)
    assert back.outputs == graph.outputs
    for node in graph:
        twin = back[node.name]
        assert (twin.type, twin.inputs) == (node.type, node.inputs), node.name
        assert imported.nodes[node.name].params == original.nodes[node.name].params, node.name
        assert imported.nodes[node.name].output_shape == original.nodes[node.name].output_shape, node.name
    assert imported.total_params == original.total_params
