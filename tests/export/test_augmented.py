"""Augmentation is removed and whitening/resize policy kept in every exported format."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.export.exporter import export
from cnnstudio.export.inference import inference_model, is_augmentation, strip_augmentation
from cnnstudio.export.sources import load_source


def _all_layers(model):
    import keras

    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def test_strip_augmentation_keeps_weights_and_outputs(augmented_run):
    model = load_source(augmented_run).model
    assert any(is_augmentation(layer) for layer in _all_layers(model))
    stripped = strip_augmentation(model)
    assert not any(is_augmentation(layer) for layer in _all_layers(stripped))
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype(np.uint8)
    np.testing.assert_allclose(stripped(images).numpy(), model(images, training=False).numpy(), atol=1e-6)
    # The same variables, not copies: fine-tuning the source would change the export too.
    assert {id(v) for v in stripped.weights} <= {id(v) for v in model.weights}


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_formats_from_an_augmented_whitened_run(augmented_run, tmp_path, fmt):
    out = tmp_path / {"savedmodel": "model", "tflite": "model.tflite", "onnx": "model.onnx"}[fmt]
    report = export(augmented_run, fmt, out)
    assert report.passed, report.to_dict()
    assert report.checks[0].max_abs_diff < 1e-4 and report.checks[0].sample_origin.startswith("dataset")
    card_file = out / "model_card.json" if fmt == "savedmodel" else tmp_path / "model.model_card.json"
    card = json.loads(card_file.read_text())
    assert card["preprocessing"]["normalization"] == "zca" and card["preprocessing"]["resize"] == "center_crop"


def test_inference_model_adds_softmax_to_logits():
    import keras

    inputs = keras.Input((4, 4, 1), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(3)(x)
    model = keras.Model(inputs, logits)
    probabilities = inference_model(model)(np.ones((2, 4, 4, 1), np.uint8)).numpy()
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-6)
    softmax = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    assert inference_model(softmax) is softmax


def test_stopped_run_without_model_file_exports_from_its_checkpoint(tmp_path):
    """A run stopped early has checkpoints but no model.keras: the model is rebuilt from config.json."""
    from cnnstudio.project import load_project, save_project
    from tests.export.helpers import make_project, train, write_dataset

    path = make_project(tmp_path, write_dataset(tmp_path / "colours", per_class=8), epochs=3)
    project = load_project(path)
    project.preprocessing["normalization"] = "per_channel"
    project.augmentation["flip_horizontal"] = True
    save_project(project, path)
    run = train(path, tmp_path / "run", stop_after_steps=4)
    assert not (run / "model.keras").exists() and (run / "checkpoints" / "last.npz").exists()
    source = load_source(run, "last")
    assert source.checkpoint == "last"
    layer = source.model.get_layer("input_normalization")
    assert np.abs(layer.mean.numpy()).max() > 0  # the real statistics came back from the checkpoint
    report = export(run, "savedmodel", tmp_path / "model", checkpoint="last")
    assert report.passed


def test_mixed_precision_run_exports_in_float32(tmp_path):
    import keras

    from tests.export.helpers import make_project, train, write_dataset

    path = make_project(tmp_path, write_dataset(tmp_path / "colours", per_class=8), epochs=1, mixed_precision=True)
    try:
        run = train(path, tmp_path / "run")
    finally:
        keras.mixed_precision.set_global_policy("float32")  # the engine set it for this process
    report = export(run, "tflite", tmp_path / "model.tflite")
    assert report.passed, report.to_dict()
    assert any("mixed precision" in note for note in report.notes)
    assert report.checks[0].max_abs_diff < 1e-4


def test_int8_from_a_whitened_run_states_its_loss(augmented_run, tmp_path):
    """Full-integer int8 with ZCA whitening (a 768x768 matrix product) as its first ops: built-in
    int8 ops only, raw pixels in; whatever accuracy it loses is reported against the threshold."""
    out = tmp_path / "model.tflite"
    report = export(augmented_run, "tflite", out, quantize="int8", calibration=12, io_type="int8")
    assert report.passed, report.to_dict()  # quantised: verified by running, its difference reported
    card = json.loads((tmp_path / "model.model_card.json").read_text())
    assert card["tflite"]["input"]["dtype"] == "int8" and card["tflite"]["input"]["zero_point"] == -128
    assert "FULLY_CONNECTED" in card["tflite"]["ops"]  # the whitening matrix, in int8
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in card["tflite"]["ops"])
    rows = {row.flavour: row for row in report.deployment.rows}
    lost = (rows["keras float32"].accuracy - rows["tflite int8"].accuracy) * 100
    warned = [w for w in report.warnings if w.startswith("TFLite int8 loses")]
    assert bool(warned) == (lost > 1.0), (lost, report.warnings)
    assert any("whitens its input (zca)" in w for w in report.warnings) == bool(warned)
