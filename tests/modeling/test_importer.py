"""keras.Model -> Graph: keras.applications, round trips, nested models, errors, the CLI."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnstudio import zoo
from cnnstudio.cli import main
from cnnstudio.errors import StudioError, UnsupportedLayerError
from cnnstudio.graph.analysis import analyze
from cnnstudio.modeling.builder import build_model
from cnnstudio.modeling.importer import (
    apply_weights,
    graph_from_keras,
    read_weights,
    weights_path_for,
)
from cnnstudio.project import load_project
from tests.keras_agreement import assert_matches_keras


def _same_outputs(original, rebuilt, shape, scale=1.0):
    x = np.random.default_rng(1).random((2, *shape), dtype=np.float32) * scale
    expected, actual = original(x), rebuilt(x)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    actual = actual if isinstance(actual, (list, tuple)) else [actual]
    for e, a in zip(expected, actual, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=1e-4, atol=1e-5)


# One of each keras.applications family, small inputs (NASNet needs 224 without weights).
APPLICATIONS = [
    ("VGG16", (32, 32, 3)),
    ("ResNet50", (64, 64, 3)),
    ("ResNet50V2", (64, 64, 3)),
    ("DenseNet121", (64, 64, 3)),
    ("InceptionV3", (75, 75, 3)),
    ("InceptionResNetV2", (75, 75, 3)),
    ("Xception", (71, 71, 3)),
    ("MobileNet", (64, 64, 3)),
    ("MobileNetV2", (64, 64, 3)),
    ("MobileNetV3Small", (64, 64, 3)),
    ("EfficientNetB0", (64, 64, 3)),
    ("EfficientNetV2B0", (64, 64, 3)),
    ("ConvNeXtTiny", (64, 64, 3)),
    pytest.param("NASNetMobile", (224, 224, 3), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("constructor, shape", APPLICATIONS)
def test_keras_applications_import_exactly(constructor, shape):
    original = getattr(keras.applications, constructor)(weights=None, input_shape=shape, classes=7)
    result = graph_from_keras(original)
    analysis = analyze(result.graph)
    assert analysis.valid and analysis.total_params == original.count_params()
    rebuilt = build_model(result.graph)
    assert_matches_keras(result.graph, rebuilt)
    assert apply_weights(rebuilt, result.weights) == []
    _same_outputs(original, rebuilt, shape, scale=255.0)


def test_nested_models_are_flattened_into_groups():
    inner = keras.Sequential([keras.Input((16, 16, 8)), keras.layers.Conv2D(8, 3, padding="same", name="c"),
                              keras.layers.BatchNormalization(name="bn")], name="stem")
    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(8, 1, name="c")(inputs)  # same name as the inner conv
    x = inner(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, keras.layers.Dense(4, name="out")(x))
    result = graph_from_keras(model)
    graph = result.graph
    assert graph["stem_c"].group == "stem" and graph["bn"].group == "stem"
    assert graph["stem_c"].inputs == ["c"] and graph.outputs == ["out"]
    assert {n.type for n in graph} >= {"Input", "Conv2D", "BatchNorm", "GlobalAvgPool2D", "Dense"}
    rebuilt = build_model(graph)
    assert apply_weights(rebuilt, result.weights) == []
    _same_outputs(model, rebuilt, (16, 16, 3))


def test_sequential_model_and_functional_ops():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.ReLU(6.0), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    result = graph_from_keras(model)
    assert [n.type for n in result.graph] == ["Input", "Conv2D", "Activation", "Flatten", "Dense"]
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(3, 1, name="a")(inputs)
    y = (a + inputs) * 0.5 + 3.0  # Keras ops, not layers
    ops_model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(y))
    ops_graph = graph_from_keras(ops_model).graph
    assert sorted(n.type for n in ops_graph) == sorted(
        ["Input", "Conv2D", "Add", "Rescaling", "Rescaling", "GlobalAvgPool2D"])
    rebuilt = build_model(ops_graph)
    apply_weights(rebuilt, graph_from_keras(ops_model).weights)
    _same_outputs(ops_model, rebuilt, (8, 8, 3))


@pytest.mark.parametrize("name, knobs, size", [
    ("resnet", {"depth": 20}, (32, 32)),
    ("googlenet", {"aux_heads": True}, (96, 96)),
    ("alexnet", {"fc_units": 64}, (227, 227)),
    ("dpn", {"depth": 92}, (64, 64)),
])
def test_zoo_models_round_trip_to_the_same_graph(name, knobs, size):
    graph = zoo.create(name, size, 3, 5, **knobs)
    model = build_model(graph)
    result = graph_from_keras(model)
    back = result.graph
    original, imported = analyze(graph), analyze(back)
    assert imported.total_params == original.total_params
    assert back.outputs == graph.outputs
    for node in graph:
        twin = back[node.name]  # explicit padding P folded back: same names
        assert twin.type == node.type and twin.inputs == node.inputs
        assert imported.nodes[node.name].output_shape == original.nodes[node.name].output_shape
        assert imported.nodes[node.name].params == original.nodes[node.name].params, node.name


def test_unsupported_layers_are_named():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2, name="doubler")(inputs)
    x = keras.layers.Conv2D(2, 3, name="conv")(x)
    x = keras.layers.UpSampling2D(name="up")(x)
    model = keras.Model(inputs, x)
    with pytest.raises(UnsupportedLayerError) as info:
        graph_from_keras(model)
    assert "Lambda ('doubler')" in str(info.value)


def test_non_image_inputs_are_refused():
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    with pytest.raises(UnsupportedLayerError, match="H×W×C"):
        graph_from_keras(model)


def test_shared_layers_become_separate_nodes_with_a_note():
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(3, 3, padding="same", name="shared")
    model = keras.Model(inputs, conv(conv(inputs)))
    result = graph_from_keras(model)
    assert [n.type for n in result.graph].count("Conv2D") == 2
    assert any("shared" in note for note in result.notes)


def test_cli_import_keeps_weights(tmp_path, capsys):
    model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=3,
                                           alpha=0.35)
    path = tmp_path / "mobile.keras"
    model.save(path)
    project_path = tmp_path / "mobile.cnnproj"
    assert main(["import-keras", str(path), "-o", str(project_path)]) == 0
    out = capsys.readouterr().out
    assert f"{model.count_params():,} parameters" in out
    project = load_project(project_path)
    weights = weights_path_for(project_path)
    assert weights.exists() and weights.name in project.notes
    rebuilt = build_model(project.graph)
    assert apply_weights(rebuilt, read_weights(weights)) == []
    _same_outputs(model, rebuilt, (32, 32, 3), scale=255.0)


def test_cli_errors(tmp_path, capsys):
    assert main(["import-keras", str(tmp_path / "missing.keras"), "-o", str(tmp_path / "p.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    inputs = keras.Input((8, 8, 3))
    bad = keras.Model(inputs, keras.layers.UpSampling2D(name="up")(inputs))
    bad.save(tmp_path / "bad.keras")
    assert main(["import-keras", str(tmp_path / "bad.keras"), "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "UpSampling2D ('up')" in err
    assert not (tmp_path / "p.json").exists()
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    assert main(["import-keras", str(tmp_path / "junk.keras"), "-o", str(tmp_path / "p.json")]) == 2
    assert "cannot be loaded" in capsys.readouterr().err


def test_unbuilt_model_is_a_clear_error():
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(StudioError, match="build"):
        graph_from_keras(model)


def test_layer_types_added_for_imports_agree_with_keras():
    from cnnstudio.graph import catalogue
    from cnnstudio.graph.model import Graph
    from cnnstudio.modeling.custom_layers import ChannelScale, ScaledAdd

    graph = Graph(name="extras")
    graph.add_layer("Input", name="input", height=6, width=5, channels=3)
    graph.add_layer("Normalization", ["input"], name="adapted")
    graph.add_layer("Normalization", ["adapted"], name="fixed", mean="0.5, 0.4, 0.3",
                    variance="0.25, 0.25, 1")
    graph.add_layer("Identity", ["fixed"], name="same")
    graph.add_layer("Conv2D", ["same"], name="conv", filters=3, kernel_size=1)
    graph.add_layer("ChannelScale", ["conv"], name="gamma", init_values=0.1)
    graph.add_layer("ScaledAdd", ["same", "gamma"], name="residual", scale=0.2)
    analysis = analyze(graph)
    assert analysis.nodes["adapted"].non_trainable_params == 2 * 3 + 1
    assert analysis.nodes["fixed"].param_count == 0
    assert analysis.nodes["gamma"].trainable_params == 3
    assert analysis.nodes["gamma"].macs == 6 * 5 * 3
    model = build_model(graph)
    assert_matches_keras(graph, model)
    x = np.random.default_rng(0).random((1, 6, 5, 3), dtype=np.float32)
    model.get_layer("adapted").set_weights([np.zeros(3), np.ones(3), np.array(1.0)])
    fixed = (x - np.array([0.5, 0.4, 0.3])) / np.sqrt([0.25, 0.25, 1.0])
    conv = np.asarray(model.get_layer("conv")(fixed.astype(np.float32)))
    np.testing.assert_allclose(np.asarray(model(x)), fixed + 0.2 * 0.1 * conv, rtol=1e-5, atol=1e-5)
    for layer in (ChannelScale(0.5, name="a"), ScaledAdd(0.3, name="b")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    for name in ("Identity", "Normalization", "ChannelScale", "ScaledAdd"):
        assert all(spec.help for spec in catalogue.get(name).params)


def test_normalization_values_are_checked():
    from cnnstudio.graph.model import Graph

    graph = Graph()
    graph.add_layer("Input", name="input", height=4, width=4, channels=3)
    graph.add_layer("Normalization", ["input"], name="norm", mean="1, 2", variance="1, 1")
    assert "one value per channel" in analyze(graph).errors[0].message
    graph.set_params("norm", {"mean": "1, 2, 3"})
    assert "both mean and variance" in analyze(graph).errors[0].message
    graph.set_params("norm", {"mean": "a, b", "variance": ""})
    assert "numbers separated by commas" in analyze(graph).errors[0].message


def test_channels_first_layers_are_refused():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, data_format="channels_first", name="cf")(inputs)
    with pytest.raises(UnsupportedLayerError, match="channels_first"):
        graph_from_keras(keras.Model(inputs, x))


def test_a_model_trained_by_cnn_studio_imports_with_its_settings(tmp_path):
    from cnnstudio.project import Project
    from cnnstudio.training.assembly import assemble

    graph = zoo.create("lenet5", (32, 32), 1, 10, variant="modern")
    project = Project(graph)
    project.augmentation.update(rotation=8.0, flip_horizontal=True)
    built = assemble(project, [str(i) for i in range(10)], (32, 32, 1), None, seed=0)
    path = tmp_path / "trained.keras"
    built.model.save(path)
    out = tmp_path / "again.cnnproj"
    assert main(["import-keras", str(path), "-o", str(out)]) == 0
    again = load_project(out)
    assert again.augmentation["rotation"] == 8.0 and again.augmentation["flip_horizontal"] is True
    assert again.preprocessing["normalization"] == project.preprocessing["normalization"]
    assert analyze(again.graph).total_params == analyze(graph).total_params
    assert again.weights_file().exists()
