"""TFLite export, converted from the SavedModel's numeric `probabilities` signature.

TFLite has no string outputs or image decoders among its built-in ops, so the flatbuffer
takes uint8 images and returns probabilities and class_index; the class names travel
beside it (OUT.labels.txt) and in the model card.
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.errors import ExportError
from cnnstudio.fileio import write_bytes_atomic

SIGNATURE = "probabilities"


def convert(saved_model: Path, out: Path, quantize: bool) -> Path:
    """Write OUT.tflite; `quantize` applies dynamic-range quantisation (int8 weights)."""
    import tensorflow as tf

    from cnnstudio.export.savedmodel import quiet_tensorflow

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=[SIGNATURE])
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        with quiet_tensorflow():
            data = converter.convert()
    except Exception as exc:  # the converter raises ConverterError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"TFLite conversion failed: {first}. A layer may use an op TFLite lacks.") from None
    write_bytes_atomic(out, data)
    return out


def quantized_path(out: Path) -> Path:
    return out.with_name(out.stem + ".dynamic_range" + (out.suffix or ".tflite"))
