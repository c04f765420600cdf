"""TFLite flavours: full-integer int8 calibrated on the run's images, float16, the deployment
report (accuracy, agreement, size, latency, loss warnings) and `cnnstudio predict` on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.export import tflite_report
from cnnstudio.export.tflite_runtime import TFLiteClassifier

BUILTIN_INT8_OPS = {"CONV_2D", "FULLY_CONNECTED", "MEAN", "SOFTMAX", "ADD", "MUL", "SUB", "QUANTIZE",
                    "DEQUANTIZE", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE", "RELU"}


def operators(path) -> set[str]:
    """The flatbuffer's operators as an interpreter (LiteRT's when installed, else TensorFlow's) reads them."""
    from cnnstudio.export.tflite_runtime import make_interpreter

    interpreter = make_interpreter(model_path=str(path))
    return {detail["op_name"] for detail in interpreter._get_ops_details()}


@pytest.fixture(scope="module")
def int8_export(trained_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("int8") / "model.tflite"
    code = main(["export", str(trained_run), "--format", "tflite", "--quantize", "int8", "--calibration", "12",
                 "-o", str(out)])
    assert code == 0
    return out


def test_int8_is_full_integer_with_raw_pixels_in(int8_export):
    card = json.loads(int8_export.with_name("model.model_card.json").read_text())
    info = card["tflite"]
    assert info["quantize"] == "int8" and info["calibration"]["images"] == 12
    # Raw pixels in: uint8 with scale 1 and zero point 0; probabilities out on a 1/256 grid.
    assert {key: info["input"][key] for key in ("dtype", "shape", "scale", "zero_point")} == {
        "dtype": "uint8", "shape": [1, 16, 16, 3], "scale": 1.0, "zero_point": 0}
    assert info["output"]["dtype"] == "uint8" and info["output"]["scale"] == pytest.approx(1 / 256)
    assert info["input"]["from_pixels"].startswith("uint8: pixel (scale 1, zero point 0")
    assert "CONV_2D" in info["ops"] and set(info["ops"]) <= BUILTIN_INT8_OPS, info["ops"]
    # The operators as the interpreter reads them from the flatbuffer: builtin only, no Flex/custom op.
    ops = operators(int8_export)
    assert ops == set(info["ops"]) and not any(op.startswith("Flex") or op == "CUSTOM" for op in ops), ops
    # Calibrated on a sample stratified by class: 12 training images of 3 balanced classes -> 4 each.
    assert info["calibration"]["per_class"] == {"red": 4, "green": 4, "blue": 4}
    classifier = TFLiteClassifier(int8_export, threads=1)
    # Every tensor, input to output, is integer (int32 biases): no float kernel hides inside.
    dtypes = {np.dtype(d["dtype"]).name for d in classifier.interpreter.get_tensor_details()}
    assert dtypes <= {"uint8", "int8", "int32"}, dtypes


def test_report_states_every_figure_for_each_flavour(int8_export, capsys):
    saved = json.loads(int8_export.with_name("model.verification.json").read_text())
    deployment = saved["deployment"]
    assert deployment["labelled"] and deployment["images"] > 0 and deployment["threads"] >= 1
    assert deployment["origin"].startswith("validation split of")
    rows = {row["flavour"]: row for row in deployment["rows"]}
    assert set(rows) == {"keras float32", "tflite float32", "tflite int8"}
    assert rows["tflite float32"]["size_ratio"] == 1.0 and 0 < rows["tflite int8"]["size_ratio"] < 1.0
    for name in ("tflite float32", "tflite int8"):
        assert 0 <= rows[name]["accuracy"] <= 1 and rows[name]["latency_ms"] > 0 and rows[name]["bytes"] > 0
    # The float flatbuffer computes what the Keras model computes.
    assert rows["tflite float32"]["agreement"] == 1.0
    assert rows["tflite float32"]["accuracy"] == rows["keras float32"]["accuracy"]
    assert saved["warnings"] == deployment["warnings"]
    assert deployment["calibration"]["images"] == 12 and deployment["calibration"]["stratified"]
    table = "\n".join(tflite_report.format_table(tflite_report.DeployReport(**{
        **deployment, "rows": [tflite_report.FlavourRow(**row) for row in deployment["rows"]]})))
    assert "int8 calibrated on 12 training images, stratified by class (" in table


def test_loss_beyond_the_threshold_is_a_warning(int8_export):
    images = np.random.default_rng(0).integers(0, 256, (12, 16, 16, 3), dtype=np.uint8)
    top = TFLiteClassifier(int8_export, threads=1)(images).argmax(-1)

    def oracle(labels):  # a "float model" that is always right about `labels`
        return lambda batch, training=False: np.eye(3, dtype=np.float32)[labels[:len(batch)]]

    flavours = {"int8": int8_export}
    same = tflite_report.measure(oracle(top), flavours, int8_export, images, top, "test", threshold=1.0)
    assert same.warnings == [] and same.rows[1].accuracy == 1.0
    wrong = (top + 1) % 3  # the quantised model now misses every label the float model gets
    worse = tflite_report.measure(oracle(wrong), flavours, int8_export, images, wrong, "test", threshold=1.0)
    assert len(worse.warnings) == 1 and "loses 100.0 accuracy points" in worse.warnings[0]
    unlabelled = tflite_report.measure(oracle(wrong), flavours, int8_export, images, None, "test", threshold=1.0)
    assert "another class than the float model on 100.0%" in unlabelled.warnings[0]
    assert any("WARNING" in line for line in tflite_report.format_table(worse))


def test_predict_runs_float16_and_int8_with_the_same_json(trained_run, int8_export, tmp_path, capsys):
    out = tmp_path / "half.tflite"
    assert main(["export", str(trained_run), "--format", "tflite", "--quantize", "float16", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tflite float16" in printed and "verification PASSED" in printed
    images = sorted((trained_run.parent / "colours" / "green").glob("*.png"))[:3]
    results = {}
    for model in (out, int8_export, trained_run):
        assert main(["predict", str(model), *map(str, images), "--json", "--top-k", "3"]) == 0
        results[model] = json.loads(capsys.readouterr().out)
    reference = results[trained_run]
    for model in (out, int8_export):
        got = results[model]
        assert [r["image"] for r in got] == [r["image"] for r in reference]
        assert [set(t) for r in got for t in r["top"]] == [{"class", "probability"}] * 9
        for row, expected in zip(got, reference, strict=True):
            total = sum(t["probability"] for t in row["top"])
            assert abs(total - 1.0) < 0.02
            expected_probability = {t["class"]: t["probability"] for t in expected["top"]}
            for entry in row["top"]:  # float16 within rounding, int8 within a few quantisation steps
                assert abs(entry["probability"] - expected_probability[entry["class"]]) < 0.05


def test_quantize_options_are_checked(trained_run, tmp_path, capsys):
    assert main(["export", str(trained_run), "--format", "savedmodel", "--quantize", "int8",
                 "-o", str(tmp_path / "m")]) == 2
    assert "--format tflite only" in capsys.readouterr().err
    assert main(["export", str(trained_run), "--format", "tflite", "--quantize", "int8", "--calibration", "0",
                 "-o", str(tmp_path / "m.tflite")]) == 2
    assert "--calibration must be at least 1" in capsys.readouterr().err
    assert main(["export", str(trained_run), "--format", "tflite", "--calibration", "5",
                 "-o", str(tmp_path / "m.tflite")]) == 2
    assert "--quantize int8 only" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()


def test_int8_io_takes_pixels_minus_128_and_predict_answers_like_the_savedmodel(trained_run, tmp_path, capsys):
    out = tmp_path / "signed.tflite"
    assert main(["export", str(trained_run), "--format", "tflite", "--quantize", "int8", "--io", "int8",
                 "--calibration", "9", "-o", str(out)]) == 0
    capsys.readouterr()
    info = json.loads(out.with_name("signed.model_card.json").read_text())["tflite"]
    assert info["input"]["dtype"] == "int8" and (info["input"]["scale"], info["input"]["zero_point"]) == (1.0, -128)
    assert info["output"]["dtype"] == "int8" and info["output"]["zero_point"] == -128
    assert info["input"]["from_pixels"].startswith("int8: pixel - 128")
    assert not any(op.startswith("Flex") for op in operators(out)) and "CONV_2D" in operators(out)
    # Raw pixels through the quantisation parameters, by hand, as a deployer would feed the model.
    from PIL import Image

    images = np.stack([np.asarray(Image.open(p).convert("RGB").resize((16, 16)))
                       for p in sorted((trained_run.parent / "colours" / "red").glob("*.png"))[:3]])
    runner = TFLiteClassifier(out, threads=1).runner
    raw = np.concatenate([runner(images=(image.astype(np.int16) - 128).astype(np.int8)[None])["probabilities"]
                          for image in images])
    assert raw.dtype == np.int8
    via_classifier = TFLiteClassifier(out, threads=1)(images)
    np.testing.assert_allclose((raw.astype(np.float32) + 128) / 256, via_classifier, atol=1e-6)
    # `cnnstudio predict` names the classes from the side files, in the SavedModel's JSON.
    saved = tmp_path / "saved"
    assert main(["export", str(trained_run), "--format", "savedmodel", "-o", str(saved)]) == 0
    capsys.readouterr()
    files = [str(p) for p in sorted((trained_run.parent / "colours" / "blue").glob("*.png"))[:2]]
    answers = []
    for model in (saved, out):
        assert main(["predict", str(model), *files, "--json", "--top-k", "2"]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    for ours, reference in zip(answers[1], answers[0], strict=True):
        assert ours["image"] == reference["image"] and len(ours["top"]) == len(reference["top"]) == 2
        assert {t["class"] for t in ours["top"]} <= {"red", "green", "blue"}
        assert ours["top"][0]["class"] == reference["top"][0]["class"]


@pytest.mark.parametrize("quantize", ["none", "dynamic"])
def test_every_flavour_gets_the_report(trained_run, tmp_path, capsys, quantize):
    out = tmp_path / f"{quantize}.tflite"
    assert main(["export", str(trained_run), "--format", "tflite", "--quantize", quantize,
                 "--max-accuracy-loss", "0", "-o", str(out)]) == 0
    printed = capsys.readouterr()
    deployment = json.loads(out.with_name(f"{quantize}.verification.json").read_text())["deployment"]
    card = json.loads(out.with_name(f"{quantize}.model_card.json").read_text())["tflite"]
    assert card["input"]["dtype"] == "uint8" and card["input"]["scale"] == 0.0  # not quantised: pixels as they are
    assert card["input"]["from_pixels"] == "uint8: pixel as it is, 0..255 (normalisation is inside)"
    assert deployment["threshold"] == 0 and deployment["threads"] >= 1
    name = "tflite float32" if quantize == "none" else f"tflite {quantize}"
    rows = {row["flavour"]: row for row in deployment["rows"]}
    assert set(rows) == {"keras float32", "tflite float32", name}
    row = rows[name]
    assert row["bytes"] == out.stat().st_size and row["latency_ms"] > 0 and 0 <= row["accuracy"] <= 1
    assert row["size_ratio"] == pytest.approx(row["bytes"] / rows["tflite float32"]["bytes"])
    # Dynamic range quantises only large weight tensors: this tiny model shrinks little, never grows.
    assert row["size_ratio"] == 1.0 if quantize == "none" else row["size_ratio"] <= 1.0
    assert f"{deployment['threads']} thread" in printed.out and name in printed.out
    # Each warning (a threshold of 0 warns on any loss) is a stderr line and a report entry alike.
    warned = [line for line in printed.err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == len(deployment["warnings"])
    lost = (rows["keras float32"]["accuracy"] - row["accuracy"]) * 100
    assert bool(deployment["warnings"]) == (lost > 0)
