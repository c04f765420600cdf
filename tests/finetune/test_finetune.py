"""Fine-tune a model trained in the test on a second, different dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.errors import TrainingError
from cnnstudio.export.sources import load_run
from cnnstudio.finetune.plan import Options, frozen_nodes
from cnnstudio.finetune.start import head_layer
from cnnstudio.project import load_project
from cnnstudio.training.initial_weights import (
    architecture_of,
    scale_learning_rates,
    weights_by_layer,
)
from tests.export.helpers import tiny_graph


def _weights(run_dir, slot="last"):
    return weights_by_layer(load_run(run_dir, slot).model)


def test_two_phase_finetune_keeps_frozen_layers_and_replaces_the_head(source_run, bars, tmp_path, capsys):
    out = tmp_path / "ft"
    code = main(["finetune", str(source_run), "--data", str(bars), "-o", str(out), "--freeze", "bn1",
                 "--head-epochs", "2", "--epochs", "2", "--backbone-lr", "0.1", "--checkpoint", "last", "--json"])
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["phase"] for r in results] == ["head", "all"]
    assert all(r["status"] == "completed" for r in results)
    source = _weights(source_run)
    head_run, all_run = (out / "head-run", out / "all-run")
    after_head, after_all = _weights(head_run), _weights(all_run)
    # The classifier was replaced: 3 colour classes -> 2 bar orientations.
    assert source["classifier"][0].shape == (8, 3) and after_all["classifier"][0].shape == (8, 2)
    assert load_run(all_run, "last").class_names == ["horizontal", "vertical"]
    # Phase "head": the whole backbone stays as it was, BatchNorm statistics included.
    for name in ("conv1", "bn1", "conv2"):
        for a, b in zip(source[name], after_head[name], strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(after_head["classifier"][0], after_all["classifier"][0])
    # Phase "all": conv1 and bn1 frozen (BN moving mean/variance untouched: inference mode), conv2 learns.
    for name in ("conv1", "bn1"):
        for a, b in zip(after_head[name], after_all[name], strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(after_head["conv2"][0], after_all["conv2"][0])
    project = load_project(out / "all.cnnproj")
    assert [n.name for n in project.graph if not n.trainable] == ["conv1", "bn1"]
    assert project.graph["classifier"].params["units"] == 2
    assert project.dataset["folder"] == str(bars.resolve())
    # A second fine-tuning into the same folder is refused rather than mixed with the first.
    assert main(["finetune", str(source_run), "--data", str(bars), "-o", str(out)]) == 2
    assert "already holds a fine-tuning" in capsys.readouterr().err


def test_backbone_learning_rate_is_lower(source_run):
    """One Adam step moves a layer with factor 0.1 a tenth as far as a layer at the full rate."""
    import keras

    model = load_run(source_run, "last").model
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    trainable = model.trainable_variables
    optimizer.build(trainable)
    scale_learning_rates(optimizer, model, {"conv1": 0.1})
    layers = {layer.name: layer for layer in architecture_of(model).layers}
    before = {n: layers[n].kernel.numpy().copy() for n in ("conv1", "conv2")}
    optimizer.apply_gradients([(keras.ops.ones_like(v), v) for v in trainable])
    moved = {n: float(np.abs(layers[n].kernel.numpy() - before[n]).max()) for n in before}
    assert moved["conv2"] == pytest.approx(0.01, rel=1e-3)
    assert moved["conv1"] == pytest.approx(0.001, rel=1e-3)


def test_freeze_by_group_and_errors(tmp_path, bars):
    graph = tiny_graph()
    assert frozen_nodes(graph, "backbone") == ["conv1", "bn1", "conv2"]
    assert frozen_nodes(graph, "conv1") == ["conv1"]
    assert head_layer(graph) == "classifier"
    with pytest.raises(TrainingError, match="no layer or group"):
        frozen_nodes(graph, "nothing")


def test_cli_errors_are_clear(source_run, bars, tmp_path, capsys):
    missing = tmp_path / "mobilenet_v2_notop.h5"
    assert main(["finetune", "keras.applications.MobileNetV2", "--weights", str(missing), "--data", str(bars),
                 "-o", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["finetune", "keras.applications.MobileNetV2", "--data", str(bars), "-o", str(tmp_path / "o")]) == 2
    assert "--weights" in capsys.readouterr().err
    assert main(["finetune", str(source_run), "--data", str(bars), "-o", str(tmp_path / "o"),
                 "--freeze", "classifier"]) == 2
    assert "would freeze the classifier" in capsys.readouterr().err
    assert main(["finetune", str(tmp_path / "nope"), "--data", str(bars), "-o", str(tmp_path / "o")]) == 2


def test_finetune_from_exported_keras_file(source_run, bars, tmp_path):
    from cnnstudio.export.exporter import export
    from cnnstudio.finetune.plan import finetune

    export(source_run, "keras", tmp_path / "source.keras")
    results = finetune(tmp_path / "source.keras", Options(data=bars, out=tmp_path / "ft", epochs=1,
                                                          freeze="backbone"))
    assert results[0]["status"] == "completed"
    after = _weights(tmp_path / "ft" / "finetune-run")
    for a, b in zip(_weights(source_run, "best")["conv2"], after["conv2"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_keras_application_with_local_weights(bars, tmp_path):
    """keras.applications.MobileNetV2 from a weights file on disk (built here: nothing is downloaded)."""
    import keras

    original = keras.applications.MobileNetV2(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    weights = tmp_path / "mobilenet_v2_notop.weights.h5"
    original.save_weights(str(weights))
    assert main(["finetune", "keras.applications.MobileNetV2", "--weights", str(weights), "--input-size", "32",
                 "--data", str(bars), "-o", str(tmp_path / "ft"), "--epochs", "1", "--freeze", "block_12_add",
                 "--batch-size", "8"]) == 0
    project = load_project(tmp_path / "ft" / "finetune.cnnproj")
    assert not project.graph["Conv1"].trainable and project.graph["classifier"].trainable
    # MobileNetV2 wants pixels in [-1, 1]: a Rescaling node does it, the project's normalisation is off.
    assert project.graph["input_scaling"].params["scale"] == pytest.approx(1 / 127.5)
    assert project.graph["Conv1"].inputs == ["input_scaling"]
    assert project.preprocessing["normalization"] == "none"
    tuned = architecture_of(load_run(tmp_path / "ft" / "finetune-run", "last").model)
    # Frozen layers still hold the file's weights: they were loaded, then kept fixed.
    np.testing.assert_array_equal(tuned.get_layer("Conv1").kernel.numpy(), original.get_layer("Conv1").kernel.numpy())
    bn = tuned.get_layer("bn_Conv1")
    np.testing.assert_array_equal(bn.moving_mean.numpy(), original.get_layer("bn_Conv1").moving_mean.numpy())
    assert tuned.get_layer("classifier").kernel.shape[-1] == 2


def test_imported_keras_model_project(source_run, bars, tmp_path):
    """A foreign Keras model, imported as a project + weights file, fine-tunes like a run."""
    import keras

    from cnnstudio.finetune.plan import finetune
    from cnnstudio.modeling.importer import graph_from_keras, save_weights, weights_path_for
    from cnnstudio.project import Project, save_project

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="features")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    foreign = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="old_head")(x))
    imported = graph_from_keras(foreign)
    path = save_project(Project(graph=imported.graph, name="foreign"), tmp_path / "foreign.cnnproj")
    save_weights(imported.weights, weights_path_for(path))
    results = finetune(path, Options(data=bars, out=tmp_path / "ft", epochs=1, freeze="features"))
    assert results[0]["status"] == "completed"
    tuned = architecture_of(load_run(tmp_path / "ft" / "finetune-run", "last").model)
    np.testing.assert_array_equal(tuned.get_layer("features").kernel.numpy(), foreign.get_layer("features").kernel.numpy())
    assert tuned.get_layer("old_head").kernel.shape == (6, 2)
    # The model rescales by itself, so it is fed raw pixels (not rescaled twice).
    assert load_project(tmp_path / "ft" / "finetune.cnnproj").preprocessing["normalization"] == "none"
    with pytest.raises(TrainingError, match="no weights beside it"):
        finetune(source_run.parent / "tiny.cnnproj", Options(data=bars, out=tmp_path / "x"))
