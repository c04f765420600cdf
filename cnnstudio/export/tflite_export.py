"""`export --format tflite`: convert one flavour, verify it in a fresh process, and measure
every flavour written against the float model on the run's validation images."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.export import deploy_data, tflite, tflite_report
from cnnstudio.export import verify as checks


def export_tflite(serving: Any, source: Any, shape: tuple[int, int, int], resize: str, out: Path,
                  card: dict[str, Any], samples: checks.Samples, report: Any, say, quantize: str,
                  calibration: int, threshold: float, io_type: str = "uint8") -> None:
    from cnnstudio.export.exporter import write_labels_and_card
    from cnnstudio.export.savedmodel import export_savedmodel

    images = deploy_data.find_deploy_images(source)
    if quantize == "int8" and (images is None or not images.train):
        raise ExportError(f"{source.path}: int8 export calibrates on the training images, but the model's dataset "
                          "folder is unknown or gone. Export from a run directory whose image folder still exists.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tflite-", dir=out.parent))
    try:
        say("writing an intermediate SavedModel")
        saved = export_savedmodel(serving, source.class_names, shape, resize, staging / "savedmodel", card)
        float_file = out if quantize == "none" else staging / "float32.tflite"
        say(f"converting to {float_file.name if quantize == 'none' else 'float32 (the size and accuracy baseline)'}")
        tflite.convert(saved, float_file, "none")
        calibration_info = None
        if quantize == "int8":
            sample, sample_labels = deploy_data.calibration_images(images, calibration, shape, resize)
            say(f"calibrating int8 on {len(sample)} training images (stratified by class"
                + (f"; the training split holds only {len(sample)})" if len(sample) < calibration else ")"))
            float_input = tflite.float_input_savedmodel(serving, shape, staging / "float_input")
            say(f"converting to {out} (full-integer int8, {io_type} input and output, built-in ops only)")
            tflite.convert(float_input, out, "int8", sample, io_type)
            calibration_info = {"images": len(sample), "from": f"training split of {images.folder}",
                                "stratified": True, "per_class": deploy_data.class_counts(sample_labels,
                                                                                         source.class_names)}
        elif quantize != "none":
            say(f"converting to {out} ({quantize})")
            tflite.convert(saved, out, quantize)
        card["tflite"] = {"quantize": quantize, "description": tflite.QUANTIZE_HELP[quantize],
                          **tflite.io_quantization(out), "calibration": calibration_info,
                          "ops": tflite.operator_names(out.read_bytes())}
        card["tflite"]["input"]["from_pixels"] = tflite.pixel_rule(card["tflite"]["input"])
        write_labels_and_card(out, source, card, report)
        say("measuring accuracy, agreement and latency on the validation images")
        report.deployment = _measure(serving, source, shape, resize, out, float_file, quantize, images, samples,
                                     threshold)
        report.deployment.calibration = calibration_info
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say("verifying with the TFLite interpreter in a fresh process")
    report.checks.append(checks.verify("tflite", out, serving, samples, source.class_names,
                                       quantized=quantize != "none"))


def _measure(serving, source, shape, resize, out, float_file, quantize, images, samples,
             threshold) -> tflite_report.DeployReport:
    flavours = {"float32": float_file} if quantize == "none" else {"float32": float_file, quantize: out}
    if images is not None and images.val:
        pixels, labels = deploy_data.load_labelled(images.val, shape, resize)
        origin = f"validation split of {images.folder}: {len(images.val)} of {images.val_total} images"
        report = tflite_report.measure(serving, flavours, float_file, pixels, labels, origin, threshold)
    else:  # no labelled validation images (a .keras file without its folder): agreement only
        report = tflite_report.measure(serving, flavours, float_file, np.asarray(samples.images), None,
                                       f"{samples.origin} (no labelled validation images)", threshold)
    if quantize != "none":
        report.rows[1].file = None  # the float32 baseline was converted for the comparison, not kept
    whitening = str(source.preprocessing.get("normalization", ""))
    if quantize == "int8" and whitening in ("pca", "zca") and report.warnings:
        # More calibration images do not help here: the whitening matrix multiplies int8 rounding errors.
        report.warnings.append(f"The model whitens its input ({whitening}), which amplifies int8 rounding: "
                               "full-integer int8 rarely keeps its accuracy; ship float16 or dynamic, or train "
                               "with per_channel normalisation for int8 targets.")
    return report
