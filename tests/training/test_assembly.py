"""The trained model: classes adapted, softmax detected, project-wide initializer/regularizer defaults."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.errors import GraphError
from cnnstudio.graph.model import Graph
from cnnstudio.project import Project
from cnnstudio.training.assembly import adapt_classes, assemble, ends_with_softmax
from tests.training.fixtures import tiny_graph


def test_adapt_classes_changes_the_last_dense_through_activation_and_dropout():
    graph = tiny_graph(classes=5)
    graph.add_layer("Dropout", ["classifier"], name="drop_out", rate=0.1)
    graph.add_layer("Activation", ["drop_out"], name="softmax", function="softmax")
    adapted, warning = adapt_classes(graph, 3)
    assert adapted["classifier"].params["units"] == 3 and graph["classifier"].params["units"] == 5
    assert "5 outputs" in warning
    assert ends_with_softmax(adapted) and not ends_with_softmax(tiny_graph())
    same, none = adapt_classes(tiny_graph(classes=3), 3)
    assert none is None


def test_a_head_without_dense_must_match_or_fail():
    graph = Graph(name="gap")
    x = graph.add_layer("Input", name="input", height=8, width=8, channels=1)
    x = graph.add_layer("Conv2D", [x], name="conv", filters=4, kernel_size=1)
    graph.add_layer("GlobalAvgPool2D", [x], name="gap")
    assert adapt_classes(graph, 4)[1] is None
    with pytest.raises(GraphError, match="3 classes"):
        adapt_classes(graph, 3)


def test_project_defaults_reach_the_layers():
    project = Project(graph=tiny_graph())
    project.training.update({"default_l2": 0.01, "default_initializer": {"name": "zeros"}})
    built = assemble(project, ["a", "b", "c"], (8, 8, 1), None, seed=1)
    model = built.model
    assert built.from_logits
    assert len(model.losses) == 2  # L2 on the conv and the dense kernels
    kernels = [v for v in model.trainable_variables if "kernel" in v.path]
    assert kernels and all(not np.any(v.numpy()) for v in kernels)  # zeros initializer
    output = model(np.zeros((2, 8, 8, 1), np.uint8))
    assert tuple(output.shape) == (2, 3)


def test_an_imported_identity_output_still_finds_the_classifier():
    from cnnstudio.graph.model import Graph
    from cnnstudio.training.assembly import adapt_classes, classifier_node

    graph = Graph()
    x = graph.add_layer("Input", name="input", height=8, width=8, channels=1)
    x = graph.add_layer("Flatten", [x], name="flatten")
    x = graph.add_layer("Dense", [x], name="classifier", units=10, activation="softmax")
    graph.add_layer("Identity", [x], name="output")
    assert classifier_node(graph) == "classifier"
    adapted, warning = adapt_classes(graph, 3)
    assert adapted["classifier"].params["units"] == 3 and warning
