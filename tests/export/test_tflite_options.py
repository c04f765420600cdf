"""The TFLite option table (one definition for the CLI and the GUI) and the stratified
calibration sample. Pure: no TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.errors import ExportError
from cnnstudio.export import deploy_data
from cnnstudio.export.tflite_options import OPTIONS, check_options, cli_arguments


def test_defaults_and_refusals_name_the_flag():
    assert check_options({}) == {"quantize": "none", "io_type": "uint8", "calibration": 200, "threshold": 1.0}
    assert check_options({"quantize": "int8", "io_type": "int8", "calibration": 50})["io_type"] == "int8"
    refusals = [({"quantize": "int4"}, "--quantize must be one of none, dynamic, float16, int8"),
                ({"quantize": "float16", "io_type": "int8"}, "--io applies to --quantize int8 only"),
                ({"quantize": "dynamic", "calibration": 10}, "--calibration applies to --quantize int8 only"),
                ({"quantize": "int8", "calibration": 0}, "--calibration must be at least 1. Received: 0"),
                ({"quantize": "int8", "io_type": "int16"}, "--io must be one of uint8, int8"),
                ({"threshold": -1.0}, "--max-accuracy-loss must be at least 0")]
    for values, message in refusals:
        with pytest.raises(ExportError, match=message):
            check_options(values)


def test_cli_arguments_round_trip_through_the_parser():
    from cnnstudio.cli import build_parser

    values = {"quantize": "int8", "io_type": "int8", "calibration": 64, "threshold": 2.5}
    args = build_parser().parse_args(["export", "run", "--format", "tflite", "-o", "m.tflite",
                                      *cli_arguments(values)])
    assert {option.key: getattr(args, option.key) for option in OPTIONS} == values
    # Options the quantisation does not use are left out, not sent to be refused.
    assert cli_arguments({"quantize": "float16", "io_type": "int8", "calibration": 9}) == ["--quantize", "float16"]


def test_calibration_sample_is_stratified_by_class():
    # 3 classes of 60 / 30 / 10 files: a sample keeps their proportions and every class.
    files = [(f"a{i}", 0) for i in range(60)] + [(f"b{i}", 1) for i in range(30)] + [(f"c{i}", 2) for i in range(10)]
    rng = np.random.default_rng(3)
    files = [files[i] for i in rng.permutation(len(files))]
    for count, expected in ((2, [1, 1, 0]), (3, [1, 1, 1]), (30, [18, 9, 3]), (71, [43, 21, 7]), (100, [60, 30, 10])):
        sample = deploy_data.stratified_sample(files, count, seed=1)
        labels = np.array([label for _, label in sample])
        assert len(sample) == count and len(set(sample)) == count
        assert np.bincount(labels, minlength=3).tolist() == expected, count
        assert all(item in files for item in sample)
    assert deploy_data.stratified_sample(files, 30, seed=1) == deploy_data.stratified_sample(files, 30, seed=1)
    assert deploy_data.stratified_sample(files, 30, seed=1) != deploy_data.stratified_sample(files, 30, seed=2)
    counts = deploy_data.class_counts(np.array([0, 0, 2]), ["a", "b", "c"])
    assert counts == {"a": 2, "b": 0, "c": 1}


def test_litert_interpreter_is_preferred_when_importable(monkeypatch):
    """With ai_edge_litert importable, the report, predict and the ops check run on its interpreter."""
    import sys
    import types

    from cnnstudio.export import tflite_runtime

    made = []

    class Interpreter:
        def __init__(self, model_path=None, model_content=None, num_threads=None):
            made.append((model_path, num_threads))

    package = types.ModuleType("ai_edge_litert")
    module = types.ModuleType("ai_edge_litert.interpreter")
    module.Interpreter = Interpreter
    package.interpreter = module
    monkeypatch.setitem(sys.modules, "ai_edge_litert", package)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", module)
    assert tflite_runtime.runtime_name() == "ai_edge_litert"
    assert isinstance(tflite_runtime.make_interpreter(model_path="m.tflite", num_threads=2), Interpreter)
    assert made == [("m.tflite", 2)]
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # not installed: TensorFlow's interpreter
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    assert tflite_runtime.runtime_name() == "tensorflow.lite"


def test_cli_prints_each_accuracy_warning_as_a_warning_line(monkeypatch, capsys):
    from cnnstudio.cli import main
    from cnnstudio.export import exporter
    from cnnstudio.export.tflite_report import DeployReport, FlavourRow

    deployment = DeployReport(40, "validation split", True, 2, "tensorflow.lite", 1.0,
                              [FlavourRow("keras float32", None, None, None, 0.9, 1.0, None),
                               FlavourRow("tflite int8", "m.tflite", 900, 0.3, 0.8, 0.85, 0.2)],
                              ["TFLite int8 loses 10.0 accuracy points against the float model"])
    received = {}

    def export(source, fmt, out, **options):
        received.update(options)
        return exporter.ExportReport(fmt, {"path": source}, [out], deployment=deployment)

    monkeypatch.setattr(exporter, "export", export)
    assert main(["export", "run", "--format", "tflite", "--quantize", "int8", "--io", "int8",
                 "--max-accuracy-loss", "0.5", "-o", "m.tflite"]) == 0
    printed = capsys.readouterr()
    assert "warning: TFLite int8 loses 10.0 accuracy points against the float model" in printed.err.splitlines()
    assert "  WARNING: TFLite int8 loses 10.0 accuracy points against the float model" in printed.out
    assert "2 threads" in printed.out and "tflite int8" in printed.out
    assert (received["quantize"], received["io_type"], received["threshold"]) == ("int8", "int8", 0.5)
    assert main(["export", "run", "--format", "tflite", "--quantize", "int8", "--json", "-o", "m.tflite"]) == 0
    printed = capsys.readouterr()
    assert "warning: TFLite int8" in printed.err and '"warnings": [' in printed.out
