"""Run an exported artefact in a fresh process, as a user would: no CNN Studio code involved.

Invoked by path (`python verify_child.py REQUEST.json`) so nothing of cnnstudio is imported,
except for the .keras format, whose custom layers must be registered (that is the promise:
"loads in plain Keras once cnnstudio is importable"). Reads images from an .npz file and
writes the artefact's outputs to another .npz file.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _full_float32() -> None:
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)  # as the exporter's reference run


def run_savedmodel(path: str, images, encoded) -> dict:
    import tensorflow as tf

    _full_float32()

    loaded = tf.saved_model.load(path)
    out = {}
    result = loaded.signatures["serving_default"](images=tf.constant(images))
    out["probabilities"] = result["probabilities"].numpy()
    out["class_index"] = result["class_index"].numpy()
    out["class_name"] = [name.decode("utf-8") for name in result["class_name"].numpy()]
    if encoded is not None and len(encoded):
        result = loaded.signatures["serving_bytes"](image_bytes=tf.constant(list(encoded)))
        out["bytes_probabilities"] = result["probabilities"].numpy()
        out["bytes_class_name"] = [name.decode("utf-8") for name in result["class_name"].numpy()]
    return out


def run_keras(path: str, images, encoded) -> dict:
    import importlib

    import keras

    _full_float32()
    for name in ("cnnstudio.modeling.custom_layers", "cnnstudio.modeling.preprocessing",
                 "cnnstudio.modeling.augmentation"):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return {"outputs": keras.ops.convert_to_numpy(model(images, training=False))}


def run_tflite(path: str, images, encoded) -> dict:
    import warnings

    import numpy as np

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = Interpreter(model_path=path)
    runner = interpreter.get_signature_runner("probabilities")
    source = runner.get_input_details()["images"]
    target = runner.get_output_details()["probabilities"]
    scale, zero_point = source["quantization"]
    if np.dtype(source["dtype"]).kind != "f" and scale:  # full-integer: pixels through the input's parameters
        info = np.iinfo(source["dtype"])
        images = np.clip(np.round(images / scale + zero_point), info.min, info.max)
    images = images.astype(source["dtype"])
    # One image at a time: the signature's batch dimension is fixed at conversion.
    rows = np.concatenate([runner(images=images[i:i + 1])["probabilities"] for i in range(len(images))])
    scale, zero_point = target["quantization"]
    if np.dtype(target["dtype"]).kind != "f" and scale:
        rows = (rows.astype(np.float32) - zero_point) * scale
    return {"probabilities": rows.astype(np.float32)}


def run_onnx(path: str, images, encoded) -> dict:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return {"probabilities": session.run(None, {name: images})[0]}


RUNNERS = {"savedmodel": run_savedmodel, "keras": run_keras, "tflite": run_tflite, "onnx": run_onnx}


def main(request_path: str) -> int:
    import numpy as np

    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    with np.load(request["inputs"], allow_pickle=False) as data:
        images = data["images"]
        encoded = [bytes(data[f"encoded_{i}"]) for i in range(int(data["encoded_count"]))]
    result = RUNNERS[request["format"]](request["artefact"], images, encoded)
    arrays = {k: np.asarray(v) for k, v in result.items() if not isinstance(v, list)}
    names = {k: v for k, v in result.items() if isinstance(v, list)}
    np.savez(request["outputs"], **arrays)
    with open(request["outputs"] + ".json", "w", encoding="utf-8") as handle:
        json.dump(names, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
