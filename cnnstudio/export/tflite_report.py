"""What a TFLite flavour costs and gains, measured on the run's validation images.

For the float model (the in-app Keras model) and each TFLite flavour: accuracy, top-1
agreement with the float model, file size (and its ratio to the float32 flatbuffer) and the
median CPU latency per image (interpreter with XNNPACK, threads stated). A flavour that
loses more than `threshold` points of accuracy (or, without labels, disagrees with the
float model on more than `threshold` % of images) gets a warning: it is shown, never hidden.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.export.tflite_options import DEFAULT_THRESHOLD  # accuracy points (one definition)

LATENCY_IMAGES = 50


@dataclass
class FlavourRow:
    flavour: str  # "keras float32", "tflite none", "tflite int8", ...
    file: str | None
    bytes: int | None
    size_ratio: float | None  # bytes / float32 TFLite bytes
    accuracy: float | None  # on the labelled images (None without labels)
    agreement: float  # share of images with the float model's top-1 class
    latency_ms: float | None  # median per image on this CPU

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeployReport:
    images: int
    origin: str  # "validation split: FOLDER (N of M images)" or "generated"
    labelled: bool
    threads: int
    runtime: str
    threshold: float
    rows: list[FlavourRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    calibration: dict[str, Any] | None = None  # int8: {"images", "from", "stratified", "per_class"}

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "rows"}, "rows": [r.to_dict() for r in self.rows]}


def _numpy(keras: Any, value: Any) -> np.ndarray:
    return value if isinstance(value, np.ndarray) else np.asarray(keras.ops.convert_to_numpy(value))


def _top1(probabilities: np.ndarray) -> np.ndarray:
    return np.argmax(probabilities, axis=-1)


def measure(reference: Any, flavours: dict[str, Path], float_tflite: Path, images: np.ndarray,
            labels: np.ndarray | None, origin: str, threshold: float = DEFAULT_THRESHOLD,
            threads: int | None = None) -> DeployReport:
    """Run the float Keras model and every flatbuffer in `flavours` on `images` and compare."""
    import keras

    from cnnstudio.export.tflite_runtime import TFLiteClassifier, default_threads, runtime_name

    threads = threads or default_threads()
    report = DeployReport(len(images), origin, labels is not None, threads, runtime_name(), threshold)
    batches = [_numpy(keras, reference(images[i:i + 64], training=False)) for i in range(0, len(images), 64)]
    float_top = _top1(np.concatenate(batches)) if batches else np.zeros(0, np.int64)
    reference_accuracy = None if labels is None else float(np.mean(float_top == labels))
    report.rows.append(FlavourRow("keras float32", None, None, None, reference_accuracy, 1.0, None))
    float_bytes = Path(float_tflite).stat().st_size
    for name, path in flavours.items():
        classifier = TFLiteClassifier(Path(path), threads)
        top = _top1(classifier(images))
        size = Path(path).stat().st_size
        accuracy = None if labels is None else float(np.mean(top == labels))
        agreement = float(np.mean(top == float_top)) if len(images) else 1.0
        latency = classifier.latency_ms(images[:LATENCY_IMAGES]) if len(images) else None
        report.rows.append(FlavourRow(f"tflite {name}", str(path), size, size / float_bytes, accuracy, agreement,
                                      latency))
        if accuracy is not None and reference_accuracy is not None:
            lost = (reference_accuracy - accuracy) * 100.0
            if lost > threshold:
                report.warnings.append(f"TFLite {name} loses {lost:.1f} accuracy points against the float model "
                                       f"({accuracy:.1%} vs {reference_accuracy:.1%} on {len(images)} validation "
                                       f"images; threshold {threshold:g}). Calibrate on more images "
                                       "(--calibration N) or ship float16/dynamic instead.")
        elif (1.0 - agreement) * 100.0 > threshold:
            report.warnings.append(f"TFLite {name} picks another class than the float model on "
                                   f"{1.0 - agreement:.1%} of {len(images)} images (threshold {threshold:g} %).")
    return report


def format_table(report: DeployReport) -> list[str]:
    """The report as text lines (the CLI's table)."""
    lines = [f"deployment report on {report.images} images ({report.origin}); latency: median per image, "
             f"{report.runtime} with XNNPACK, {report.threads} thread{'s' if report.threads != 1 else ''}"]
    lines.append(f"  {'flavour':<16} {'accuracy':>9} {'agreement':>10} {'size':>10} {'ratio':>6} {'latency':>10}")
    for row in report.rows:
        accuracy = "-" if row.accuracy is None else f"{row.accuracy:.1%}"
        size = "-" if row.bytes is None else _human(row.bytes)
        ratio = "-" if row.size_ratio is None else f"{row.size_ratio:.2f}"
        latency = "-" if row.latency_ms is None else f"{row.latency_ms:.3f} ms"
        lines.append(f"  {row.flavour:<16} {accuracy:>9} {row.agreement:>10.1%} {size:>10} {ratio:>6} {latency:>10}")
    if report.calibration:
        lines.append(f"  int8 calibrated on {calibration_text(report.calibration)}")
    lines += [f"  WARNING: {warning}" for warning in report.warnings]
    return lines


def calibration_text(calibration: dict[str, Any]) -> str:
    """'36 training images, stratified by class (red 12, green 12, blue 12)'."""
    per_class = ", ".join(f"{name} {count}" for name, count in (calibration.get("per_class") or {}).items())
    return (f"{calibration['images']} training images, stratified by class"
            + (f" ({per_class})" if per_class else ""))


def _human(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)
