"""Python source export: standalone Keras code that rebuilds the same architecture."""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest

from cnnstudio import zoo
from cnnstudio.cli import main
from cnnstudio.errors import GraphError
from cnnstudio.export.python_source import check_source, graph_to_source
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph
from cnnstudio.modeling.builder import build_model
from cnnstudio.modeling.importer import graph_from_keras
from cnnstudio.project import Project, save_project


def _build_from_source(text: str) -> keras.Model:
    registry = keras.saving.get_custom_objects()
    saved = dict(registry)
    try:
        namespace: dict = {"__name__": "exported"}
        exec(compile(text, "model.py", "exec"), namespace)
        return namespace["build_model"]()
    finally:
        registry.clear()
        registry.update(saved)


@pytest.mark.parametrize("name, size, knobs", [
    ("lenet5", (32, 32), {}),
    ("alexnet", (227, 227), {"two_tower": True, "fc_units": 128}),  # LRN inlined, groups
    ("nin", (32, 32), {}),
    ("vgg", (32, 32), {"depth": 11, "batch_norm": True, "fc_units": 64}),
    ("googlenet", (96, 96), {"aux_heads": True}),  # three outputs
    ("resnet", (32, 32), {"depth": 20, "preact": True}),
    ("wrn", (32, 32), {"depth": 10, "widen": 1, "dropout": 0.2}),
    ("resnext", (32, 32), {"depth": 11, "cardinality": 4, "width": 2}),
    ("densenet", (32, 32), {"depth": 40, "growth": 6}),
    ("dpn", (64, 64), {"depth": 92}),
])
def test_exec_rebuilds_the_same_model(name, size, knobs):
    graph = zoo.create(name, size, 3, 7, **knobs)
    text = graph_to_source(graph)
    assert "cnnstudio" not in text.split("PACKAGE = ")[0].replace("CNN Studio", "")
    model = _build_from_source(text)
    reference = build_model(graph)
    assert model.count_params() == reference.count_params() == analyze(graph).total_params
    assert [layer.name for layer in model.layers] == [layer.name for layer in reference.layers] or \
        sorted(layer.name for layer in model.layers) == sorted(layer.name for layer in reference.layers)
    # Same weights -> same outputs: the code is the same network, not just the same size.
    for layer in reference.layers:
        model.get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).random((1, *size, 3), dtype=np.float32)
    ours, theirs = model(x), reference(x)
    ours = ours if isinstance(ours, list) else [ours]
    theirs = theirs if isinstance(theirs, list) else [theirs]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_imported_custom_layers_and_frozen_nodes():
    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv", trainable=False)(inputs)
    y = keras.layers.Conv2D(8, 1, name="branch")(x)
    graph = graph_from_keras(keras.Model(inputs, keras.layers.Add(name="sum")([x, y]))).graph
    graph.add_layer("ScaledAdd", ["conv", "branch"], name="scaled", scale=0.2)
    graph.add_layer("ChannelScale", ["scaled"], name="gamma", init_values=0.5)
    graph.set_outputs(["sum", "gamma"])
    text = graph_to_source(graph)
    assert "class ScaledAdd" in text and "class ChannelScale" in text and "trainable=False" in text
    model = _build_from_source(text)
    assert model.count_params() == analyze(graph).total_params
    assert not model.get_layer("conv").trainable


def test_names_that_are_not_identifiers():
    graph = Graph(name="odd")
    graph.add_layer("Input", name="input", height=8, width=8, channels=1)
    graph.add_layer("Conv2D", ["input"], name="conv-3x3.a", filters=2, kernel_size=3)
    graph.add_layer("Flatten", ["conv-3x3.a"], name="lambda")
    text = graph_to_source(graph)
    assert "input_ = keras.Input" in text and "lambda_ = layers.Flatten" in text
    assert "name='conv-3x3.a'" in text
    assert check_source(text, analyze(graph).total_params) == analyze(graph).total_params


def test_invalid_graph_is_refused():
    graph = Graph()
    graph.add_layer("Input", name="input", height=4, width=4, channels=1)
    graph.add_layer("Conv2D", ["input"], name="conv", filters=2, kernel_size=7)
    with pytest.raises(GraphError, match="conv"):
        graph_to_source(graph)


def test_cli_export_python_runs_standalone(tmp_path):
    project_path = tmp_path / "net.cnnproj"
    save_project(Project(graph=zoo.create("alexnet", (227, 227), 3, 4, fc_units=32)), project_path)
    out = tmp_path / "model.py"
    assert main(["export", str(project_path), "--format", "python", "-o", str(out)]) == 0
    # A fresh interpreter where cnnstudio cannot be imported at all.
    code = (f"import sys; sys.modules['cnnstudio'] = None; sys.argv = ['model.py']; "
            f"ns = {{'__name__': 'm'}}; exec(open({str(out)!r}).read(), ns); "
            "print(ns['build_model']().count_params())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = analyze(zoo.create("alexnet", (227, 227), 3, 4, fc_units=32)).total_params
    assert result.stdout.strip().splitlines()[-1] == str(expected)


def test_cli_export_python_errors(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.cnnproj"), "--format", "python",
                 "-o", str(tmp_path / "m.py")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
