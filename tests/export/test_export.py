"""Exports from a trained run, each verified in a fresh process by the exporter itself."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.errors import ExportError
from cnnstudio.export import verify
from cnnstudio.export.exporter import export
from cnnstudio.export.sources import load_source


def test_savedmodel_serves_raw_images_and_bytes_with_labels(trained_run, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["export", str(trained_run), "--format", "savedmodel", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "verification PASSED" in printed and "dataset:" in printed
    report = json.loads((out / "verification.json").read_text())
    assert report["passed"] and report["verification"][0]["max_abs_diff"] < 1e-4
    assert (out / "assets" / "class_names.txt").read_text().split() == ["blue", "green", "red"]
    card = json.loads((out / "model_card.json").read_text())
    assert card["classes"] == ["blue", "green", "red"] and card["input"]["dtype"] == "uint8"
    assert card["source"]["checkpoint"] == "best" and "val_accuracy" in card["metrics"]

    import tensorflow as tf

    loaded = tf.saved_model.load(str(out))
    assert {"serving_default", "serving_bytes", "probabilities"} <= set(loaded.signatures)
    files = sorted((trained_run.parent / "colours" / "red").glob("*.png"))[:4]
    by_bytes = loaded.signatures["serving_bytes"](image_bytes=tf.constant([f.read_bytes() for f in files]))
    source = load_source(trained_run)
    from cnnstudio.export.images import load_images
    from cnnstudio.export.inference import inference_model

    expected = inference_model(source.model)(load_images(files, (16, 16, 3), "stretch")).numpy()
    assert np.abs(by_bytes["probabilities"].numpy() - expected).max() < 1e-3
    names = [n.decode() for n in by_bytes["class_name"].numpy()]
    assert names == [source.class_names[i] for i in expected.argmax(-1)]


def test_keras_export_reloads_in_plain_keras(trained_run, tmp_path):
    report = export(trained_run, "keras", tmp_path / "model.keras", checkpoint="last")
    assert report.passed, report.to_dict()
    assert report.source["checkpoint"] == "last"
    card = json.loads((tmp_path / "model.model_card.json").read_text())
    assert card["classes"] == ["blue", "green", "red"]
    # A .keras export is itself a source: class names come back from the model card beside it.
    again = export(tmp_path / "model.keras", "savedmodel", tmp_path / "again")
    assert again.passed and json.loads((tmp_path / "again" / "model_card.json").read_text())["classes"][0] == "blue"


def test_tflite_float_by_default_and_dynamic_range(trained_run, tmp_path):
    report = export(trained_run, "tflite", tmp_path / "model.tflite")
    (float_check,) = report.checks
    assert float_check.passed and float_check.max_abs_diff < 1e-4 and float_check.tolerance == 1e-4
    assert (tmp_path / "model.labels.txt").read_text().split() == ["blue", "green", "red"]
    saved = json.loads((tmp_path / "model.verification.json").read_text())
    assert [c["artefact"].endswith("model.tflite") for c in saved["verification"]] == [True]
    assert [row["flavour"] for row in saved["deployment"]["rows"]] == ["keras float32", "tflite float32"]
    dynamic = export(trained_run, "tflite", tmp_path / "dynamic.tflite", quantize="dynamic")
    assert dynamic.checks[0].tolerance is None and np.isfinite(dynamic.checks[0].max_abs_diff)
    card = json.loads((tmp_path / "dynamic.model_card.json").read_text())
    assert card["tflite"]["quantize"] == "dynamic" and card["tflite"]["input"]["dtype"] == "uint8"
    assert [row.flavour for row in dynamic.deployment.rows][-1] == "tflite dynamic"


def test_onnx_export_runs_in_onnxruntime(trained_run, tmp_path):
    report = export(trained_run, "onnx", tmp_path / "model.onnx")
    assert report.passed and report.checks[0].max_abs_diff < 1e-4


def test_project_exports_keras_only(trained_run, tmp_path):
    project = trained_run.parent / "tiny.cnnproj"
    report = export(project, "keras", tmp_path / "arch.keras")
    assert report.passed and report.checks[0].sample_origin == "generated"
    with pytest.raises(ExportError, match="untrained architecture"):
        export(project, "tflite", tmp_path / "arch.tflite")
    assert main(["export", str(project), "--format", "onnx", "-o", str(tmp_path / "x.onnx")]) == 2


def test_verification_catches_a_different_model(trained_run, tmp_path):
    """The check can fail: an artefact compared with a model whose weights differ is rejected."""
    import keras

    export(trained_run, "keras", tmp_path / "model.keras")
    source = load_source(trained_run)
    other = keras.models.clone_model(source.model)  # same architecture, fresh weights
    samples = verify.make_samples((16, 16, 3), "uint8", "stretch", None)
    check = verify.verify("keras", tmp_path / "model.keras", other, samples, source.class_names)
    assert not check.passed and check.max_abs_diff > 1e-4
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    check = verify.verify("keras", broken, source.model, samples, source.class_names)
    assert not check.passed and "fresh process" in check.details[0]


def test_source_errors(tmp_path, trained_run):
    with pytest.raises(ExportError, match="no such file"):
        load_source(tmp_path / "missing.keras")
    with pytest.raises(ExportError, match="--checkpoint applies to run directories"):
        load_source(trained_run.parent / "tiny.cnnproj", checkpoint="best")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ExportError, match="neither a run directory"):
        load_source(tmp_path / "folder")


def test_cli_exits_1_when_verification_fails(trained_run, tmp_path, monkeypatch, capsys):
    from cnnstudio.export import exporter

    def failing(fmt, artefact, model, samples, class_names, quantized=False):
        return verify.Check(str(artefact), fmt, False, 8, samples.origin, 0.5, 0.3, 1e-4, ["FAILED: injected"])

    monkeypatch.setattr(exporter.checks, "verify", failing)
    assert main(["export", str(trained_run), "--format", "keras", "-o", str(tmp_path / "m.keras")]) == 1
    out = capsys.readouterr().out
    assert "verification FAILED" in out and "do not ship" in out
    saved = json.loads((tmp_path / "m.verification.json").read_text())
    assert saved["passed"] is False


def test_relative_output_path(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = export(trained_run, "savedmodel", "relative/model")
    assert report.passed, report.to_dict()
    assert (tmp_path / "relative" / "model" / "saved_model.pb").exists()


def test_onnx_without_its_packages_says_what_to_install(trained_run, tmp_path, monkeypatch, capsys):
    from cnnstudio.export import onnx_export

    monkeypatch.setattr(onnx_export, "missing_packages", lambda: ["tf2onnx"])
    assert main(["export", str(trained_run), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert "tf2onnx" in err and "pip install" in err and "Traceback" not in err
    assert not (tmp_path / "m.onnx").exists()


def test_python_format_from_a_run_with_json(trained_run, tmp_path, capsys):
    assert main(["export", str(trained_run), "--format", "python", "-o", str(tmp_path / "m.py"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] and report["artefacts"] == [str(tmp_path / "m.py")]
    text = (tmp_path / "m.py").read_text()
    assert "def build_model" in text and "conv1" in text and "augmentation" not in text
