"""TFLite export: float32, dynamic-range, float16 and full-integer int8 flatbuffers.

TFLite has no string outputs or image decoders among its built-in ops, so the flatbuffer
takes images already resized to the input size and returns probabilities (one image per
call). Preprocessing (normalisation) is inside, as in the SavedModel's serving_default.

- none / dynamic / float16 convert the SavedModel's numeric `probabilities` signature:
  uint8 images in, float32 probabilities out.
- int8 is full-integer: built-in int8 kernels only (TFLITE_BUILTINS_INT8, no Flex ops),
  calibrated on the project's own training images. Input and output are uint8 or int8 as
  chosen (`io_type`): the input's calibrated range is the pixels' own 0..255, so raw pixels go
  in through its quantisation parameters (uint8: scale 1, zero point 0, the pixels as they
  are; int8: scale 1, zero point -128, pixel - 128); probabilities come out on a 1/256 grid.
  It is converted from a float-input copy of the model, so normalisation is its first op.

Class names, preprocessing and the input/output quantisation travel in the side files
OUT.labels.txt and OUT.model_card.json (read by `cnnstudio predict`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.export.tflite_options import IO_TYPE, QUANTIZE, QUANTIZE_HELP, QUANTIZE_MODES  # noqa: F401 (re-exported)
from cnnstudio.fileio import write_bytes_atomic

SIGNATURE = "probabilities"

def check_mode(quantize: str) -> str:
    return QUANTIZE.check(quantize, quantize)


def float_input_savedmodel(serving: Any, shape: tuple[int, int, int], folder: Path) -> Path:
    """A SavedModel whose `probabilities` signature takes float32 pixels 0..255 (batch 1).

    The uint8 model casts its input; a full-integer converter would keep that cast in float.
    Cloning onto a float32 Input (same layers, same weights) leaves the normalisation as the
    first op, which quantises like any other.
    """
    import keras
    import tensorflow as tf

    from cnnstudio.export.savedmodel import quiet_tensorflow

    images = keras.Input(shape, dtype="float32", name="images")
    model = keras.models.clone_model(serving, input_tensors=images, clone_function=lambda layer: layer)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE, lambda images: {"probabilities": tf.cast(model(images, training=False),
                                                                             tf.float32)},
                         [tf.TensorSpec((1, *shape), tf.float32, name="images")])
    with quiet_tensorflow():
        archive.write_out(str(folder), verbose=False)
    return folder


def _representative(images: np.ndarray):
    """Calibration batches of one image; the first also holds a 0 and a 255 pixel, so the
    input's calibrated range is exactly 0..255 (uint8 input = raw pixels, scale 1)."""
    samples = images.astype(np.float32)
    samples[0].reshape(-1)[0] = 0.0
    samples[0].reshape(-1)[-1] = 255.0

    def generate():
        for index in range(len(samples)):
            yield {"images": samples[index:index + 1]}

    return generate


def convert(saved_model: Path, out: Path, quantize: str = "none", calibration: np.ndarray | None = None,
            io_type: str = "uint8") -> Path:
    """Write OUT.tflite from `saved_model`'s `probabilities` signature, quantised as asked.

    For int8, `saved_model` is float_input_savedmodel()'s, `calibration` holds uint8
    training images [N,H,W,C] and `io_type` (uint8 or int8) is the integer input and output type.
    """
    import tensorflow as tf

    from cnnstudio.export.savedmodel import quiet_tensorflow

    check_mode(quantize)
    IO_TYPE.check(io_type, "int8")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=[SIGNATURE])
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if calibration is None or not len(calibration):
            raise ExportError("int8 export needs calibration images from the training split.")
        converter.representative_dataset = _representative(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        integer = {"uint8": tf.uint8, "int8": tf.int8}[io_type]
        converter.inference_input_type = integer
        converter.inference_output_type = integer
    try:
        with quiet_tensorflow(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the calibrator's tf.lite.Interpreter deprecation notice
            data = converter.convert()
    except Exception as exc:  # the converter raises ConverterError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (" A layer has no built-in int8 kernel; export float16 or dynamic instead."
                if quantize == "int8" else " A layer may use an op TFLite lacks.")
        raise ExportError(f"TFLite conversion ({quantize}) failed: {first}.{hint}") from None
    check_builtin_ops(data, out)
    write_bytes_atomic(out, data)
    return out


def operator_names(data: bytes) -> list[str]:
    """The flatbuffer's operator codes (builtin names; Flex/custom ops by their custom name)."""
    from cnnstudio.export.tflite_runtime import make_interpreter

    interpreter = make_interpreter(model_content=data)
    return sorted({detail["op_name"] for detail in interpreter._get_ops_details()})


def check_builtin_ops(data: bytes, out: Path) -> None:
    foreign = [name for name in operator_names(data) if name.startswith("Flex") or name == "CUSTOM"]
    if foreign:
        raise ExportError(f"{out}: the converted model needs non-builtin ops ({', '.join(foreign)}), which "
                          "stock TFLite runtimes lack. Replace the layer that uses them.")


def io_quantization(path_or_data: Path | bytes) -> dict[str, Any]:
    """{"input": {"dtype", "scale", "zero_point"}, "output": {...}} of the one signature."""
    from cnnstudio.export.tflite_runtime import make_interpreter

    interpreter = (make_interpreter(model_content=path_or_data) if isinstance(path_or_data, bytes)
                   else make_interpreter(model_path=str(path_or_data)))
    runner = interpreter.get_signature_runner(SIGNATURE)
    out = {}
    for key, details in (("input", runner.get_input_details()["images"]),
                         ("output", runner.get_output_details()["probabilities"])):
        scale, zero_point = details["quantization"]
        out[key] = {"dtype": np.dtype(details["dtype"]).name, "shape": [int(d) for d in details["shape"]],
                    "scale": float(scale), "zero_point": int(zero_point)}
    return out


def pixel_rule(details: dict[str, Any]) -> str:
    """How a raw 0..255 pixel becomes the input tensor's value, in words a deployer can code."""
    scale, zero_point = details["scale"], details["zero_point"]
    if details["dtype"].startswith("float") or not scale:  # not quantised: the values themselves
        return f"{details['dtype']}: pixel as it is, 0..255 (normalisation is inside)"
    if scale == 1.0:
        shift = "" if zero_point == 0 else f" {'+' if zero_point > 0 else '-'} {abs(zero_point)}"
        return f"{details['dtype']}: pixel{shift} (scale 1, zero point {zero_point}; normalisation is inside)"
    return (f"{details['dtype']}: round(pixel / {scale:g}) + {zero_point} (the input's quantisation; "
            "normalisation is inside)")
