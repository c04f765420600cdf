"""One export: load the source, write the artefact(s), verify each in a fresh process, report.

The report (printed by the CLI) is also saved as JSON next to the artefact:
OUT/verification.json for a SavedModel folder, OUT.verification.json for a file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.errors import ExportError
from cnnstudio.export import tta as export_tta
from cnnstudio.export import verify as checks
from cnnstudio.export.inference import inference_model, input_spec
from cnnstudio.export.sources import ModelSource, load_source
from cnnstudio.fileio import save_keras_atomic, write_json_atomic, write_text_atomic

FORMATS = ("savedmodel", "keras", "tflite", "onnx", "python")
UNTRAINED_FORMATS = ("keras", "python")
SUFFIXES = {"keras": ".keras", "tflite": ".tflite", "onnx": ".onnx"}
LOADING = {
    "savedmodel": "tf.saved_model.load(path).signatures['serving_default'](images=uint8 [N,H,W,C]); "
                  "'serving_bytes'(image_bytes=string [N]) takes encoded JPEG/PNG files",
    "keras": "import cnnstudio.modeling; keras.saving.load_model(path) (safe_mode stays on)",
    "tflite": "ai_edge_litert / tf.lite Interpreter(path).get_signature_runner('probabilities')"
              "(images=[1,H,W,C] raw pixels in the input's dtype, through its quantisation when integer: "
              "model_card.json 'tflite' input.from_pixels says how); class names in the .labels.txt file",
    "onnx": "onnxruntime.InferenceSession(path).run(None, {input: uint8 [N,H,W,C]}); class names in the "
            ".labels.txt file",
    "python": "",
}


@dataclass
class ExportReport:
    format: str
    source: dict[str, Any]
    artefacts: list[str]
    checks: list[checks.Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    report_file: str | None = None
    deployment: Any = None  # tflite_report.DeployReport for TFLite exports

    @property
    def warnings(self) -> list[str]:
        return list(self.deployment.warnings) if self.deployment is not None else []

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "source": self.source, "artefacts": self.artefacts,
                "verification": [c.to_dict() for c in self.checks], "passed": self.passed,
                "notes": self.notes, "seconds": round(self.seconds, 2),
                **({"deployment": self.deployment.to_dict()} if self.deployment is not None else {}),
                "warnings": self.warnings}


def model_card(source: ModelSource, shape: tuple[int, int, int], dtype: str, fmt: str) -> dict[str, Any]:
    from cnnstudio import __version__

    return {
        "format": fmt,
        "input": {"shape": [None, *shape], "dtype": dtype, "layout": "NHWC",
                  "description": "raw images, values 0-255; resizing and normalisation are inside the model"
                  if dtype == "uint8" else "the architecture's input (no preprocessing inside)"},
        "outputs": {"probabilities": "[N, classes] softmax", "class_index": "[N] int32",
                    "class_name": "[N] string (SavedModel only)"},
        "classes": list(source.class_names),
        "preprocessing": dict(source.preprocessing),
        "metrics": dict(source.metrics),
        "source": source.describe(),
        "trained": source.trained,
        "dataset_folder": str(source.dataset_folder) if source.dataset_folder else None,
        "cnnstudio_version": __version__,
        # The architecture and settings, so a .keras export can be fine-tuned or retrained as a project.
        "project": source.project,
        "how_to_load": LOADING[fmt],
    }


def _sidecar(out: Path, name: str) -> Path:
    return out.with_name(f"{out.stem}.{name}")


def export(source_path: str | Path, fmt: str, out: str | Path, checkpoint: str | None = None,
           log=None, quantize: str = "none", calibration: int | None = None,
           threshold: float | None = None, tta: str = "none", io_type: str | None = None) -> ExportReport:
    """Export `source_path` to `out` in `fmt` and verify it. Raises ExportError for user errors.

    TFLite only (cnnstudio.export.tflite_options): `quantize` (none, dynamic, float16, int8),
    `calibration` (training images int8 calibrates on), `io_type` (int8's uint8 or int8 input
    and output) and `threshold` (accuracy points a flavour may lose without a warning).
    SavedModel only: `tta` bakes test-time augmentation in (cnnstudio.export.tta).
    """
    started = time.monotonic()
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}. Received: {fmt!r}")
    out = Path(out)
    say = log or (lambda message: None)
    if fmt != "tflite" and (quantize != "none" or calibration is not None or io_type is not None
                            or threshold is not None):
        raise ExportError("--quantize, --io, --calibration and --max-accuracy-loss apply to --format tflite only. "
                          f"Received: --format {fmt}")
    from cnnstudio.export.tflite_options import check_options

    tflite_options = check_options({"quantize": quantize, "calibration": calibration, "threshold": threshold,
                                    "io_type": io_type})
    _full_float32()
    source = load_source(source_path, checkpoint)  # progress starts after: errors come first, alone
    say(f"loaded {source.kind} {source.path}" + (f" ({source.checkpoint} checkpoint)" if source.checkpoint else ""))
    tta = export_tta.resolve(tta, fmt, source)
    if not source.trained and fmt not in UNTRAINED_FORMATS:
        raise ExportError(f"{source.path} is a project (an untrained architecture); it exports to "
                          f"{' and '.join(UNTRAINED_FORMATS)} only. Export {fmt} from a run directory or a "
                          ".keras file.")
    if fmt in SUFFIXES and out.suffix != SUFFIXES[fmt]:
        out = out.with_name(out.name + SUFFIXES[fmt]) if out.suffix == "" else out
        if out.suffix != SUFFIXES[fmt]:
            raise ExportError(f"-o {out}: a {fmt} export is a file ending in {SUFFIXES[fmt]}.")
    report = ExportReport(fmt, source.describe(), [], notes=list(source.notes))
    if fmt == "python":
        _export_python(source, out, report)
        report.seconds = time.monotonic() - started
        return report
    shape, dtype = input_spec(source.model)
    resize = str(source.preprocessing.get("resize", "stretch"))
    card = model_card(source, shape, dtype, fmt)
    samples = checks.make_samples(shape, dtype, resize, source.dataset_folder)
    if fmt == "keras":
        say(f"writing {out}")
        save_keras_atomic(source.model, out)
        write_json_atomic(_sidecar(out, "model_card.json"), card)
        report.artefacts += [str(out), str(_sidecar(out, "model_card.json"))]
        say("verifying in a fresh process")
        report.checks.append(checks.verify("keras", out, source.model, samples, source.class_names))
    else:
        from cnnstudio.export.inference import uses_mixed_precision

        if uses_mixed_precision(source.model):
            report.notes.append("Trained with mixed precision: the export computes in float32 (TFLite and "
                                "other runtimes lack float16 kernels on CPU); verified against float32.")
        serving = export_tta.bake(inference_model(source.model, source.from_logits), tta, card, report.notes)
        if fmt == "savedmodel":
            _export_savedmodel(serving, source, shape, resize, out, card, samples, report, say)
        elif fmt == "tflite":
            from cnnstudio.export.tflite_export import export_tflite

            export_tflite(serving, source, shape, resize, out, card, samples, report, say, **tflite_options)
        else:
            from cnnstudio.export.onnx_export import export_onnx

            say(f"writing {out}")
            export_onnx(serving, out)
            write_labels_and_card(out, source, card, report)
            say("verifying with onnxruntime in a fresh process")
            report.checks.append(checks.verify("onnx", out, serving, samples, source.class_names))
    report.seconds = time.monotonic() - started
    target = out / "verification.json" if fmt == "savedmodel" else _sidecar(out, "verification.json")
    write_json_atomic(target, report.to_dict())
    report.report_file = str(target)
    return report


def _full_float32() -> None:
    # On Ampere+ GPUs TensorFlow computes float32 matmuls/convs in TF32 (10-bit mantissa),
    # which alone moves probabilities past the 1e-4 tolerance against CPU runtimes.
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)


def write_labels_and_card(out: Path, source: ModelSource, card: dict[str, Any], report: ExportReport) -> None:
    labels = _sidecar(out, "labels.txt")
    write_text_atomic(labels, "".join(name + "\n" for name in source.class_names))
    write_json_atomic(_sidecar(out, "model_card.json"), card)
    report.artefacts += [str(out), str(labels), str(_sidecar(out, "model_card.json"))]


def _export_savedmodel(serving, source, shape, resize, out, card, samples, report, say) -> None:
    from cnnstudio.export.savedmodel import export_savedmodel

    say(f"writing SavedModel {out}")
    export_savedmodel(serving, source.class_names, shape, resize, out, card)
    report.artefacts.append(str(out))
    say("verifying with plain TensorFlow in a fresh process")
    report.checks.append(checks.verify("savedmodel", out, serving, samples, source.class_names))


def _export_python(source: ModelSource, out: Path, report: ExportReport) -> None:
    """Delegate to cnnstudio.export.python_source (it checks the code by building it)."""
    try:
        from cnnstudio.export.python_source import export_python
    except ImportError:
        raise ExportError("Python source export is not available in this installation.") from None
    target: Any = source
    if source.kind != "project" and source.project:
        # A run's model also holds preprocessing and augmentation; the source is the architecture.
        from cnnstudio.project.file import Project

        target = Project.from_dict(source.project, where=str(source.path)).graph
    export_python(target, out)
    report.artefacts.append(str(out))
    report.notes.append("Python source rebuilds the architecture only (no weights, no preprocessing); it was "
                        "checked by building it and comparing the parameter count.")
