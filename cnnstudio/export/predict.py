"""Classify image files with a SavedModel or TFLite export, a .keras file or a run directory.

Images are read by the training loader (same decoding and resize policy as training), so
a prediction here matches what the model saw while it learned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.export.images import load_images


@dataclass
class Predictor:
    classify: Any  # uint8 [N,H,W,C] -> probabilities [N,K]
    class_names: list[str]
    shape: tuple[int, int, int]
    resize: str
    model: Any = None  # the Keras inference model (None for a SavedModel), for Grad-CAM


def load_predictor(path: str | Path, checkpoint: str | None = None) -> Predictor:
    from cnnstudio.export.sources import load_source, source_kind

    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path}: no such model file or folder.")
    if path.suffix == ".tflite" and path.is_file():
        return _tflite_predictor(path)
    if source_kind(path) == "savedmodel":
        return _savedmodel_predictor(path)
    from cnnstudio.export.inference import inference_model, input_spec

    source = load_source(path, checkpoint)
    if not source.trained:
        raise ExportError(f"{path}: a project is not a trained model; give a run directory, a .keras file "
                          "or a SavedModel.")
    model = inference_model(source.model, source.from_logits)
    shape, dtype = input_spec(model)
    if dtype != "uint8":
        raise ExportError(f"{path}: the model takes {dtype} input, not raw images; it has no preprocessing "
                          "inside. Predict with a run directory or a model exported by CNN Studio.")

    def classify(images: np.ndarray) -> np.ndarray:
        import keras

        return np.asarray(keras.ops.convert_to_numpy(model(images, training=False)), dtype=np.float32)

    return Predictor(classify, source.class_names, shape, str(source.preprocessing.get("resize", "stretch")),
                     model)


def _savedmodel_predictor(path: Path) -> Predictor:
    import tensorflow as tf

    card_file = path / "model_card.json"
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise ExportError(f"{path}: no readable model_card.json; is this a CNN Studio export?") from None
    try:
        loaded = tf.saved_model.load(str(path))
        signature = loaded.signatures["serving_default"]
    except (KeyError, OSError, ValueError) as exc:
        raise ExportError(f"{path}: cannot be loaded as a SavedModel ({exc}).") from None
    shape = tuple(int(d) for d in card["input"]["shape"][1:])

    def classify(images: np.ndarray) -> np.ndarray:
        return signature(images=tf.constant(images))["probabilities"].numpy()

    return Predictor(classify, list(card.get("classes") or []), shape,  # type: ignore[arg-type]
                     str((card.get("preprocessing") or {}).get("resize", "stretch")))


def _tflite_predictor(path: Path) -> Predictor:
    """A TFLite export (any flavour): classes and resize policy from its side files."""
    from cnnstudio.export.tflite_runtime import TFLiteClassifier, default_threads

    card_file = path.with_name(f"{path.stem}.model_card.json")
    labels_file = path.with_name(f"{path.stem}.labels.txt")
    card: dict[str, Any] = {}
    if card_file.is_file():
        try:
            card = json.loads(card_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise ExportError(f"{card_file}: unreadable; export the model again.") from None
    classes = list(card.get("classes") or [])
    if not classes and labels_file.is_file():
        classes = labels_file.read_text(encoding="utf-8").splitlines()
    if not classes:
        raise ExportError(f"{path}: no class names beside it ({card_file.name} or {labels_file.name}); "
                          "keep the side files CNN Studio wrote with the .tflite file.")
    try:
        classifier = TFLiteClassifier(path, default_threads())
    except (ValueError, RuntimeError) as exc:
        raise ExportError(f"{path}: cannot be loaded as a TFLite model ({exc}).") from None
    resize = str((card.get("preprocessing") or {}).get("resize", "stretch"))
    return Predictor(classifier, classes, classifier.shape, resize)  # type: ignore[arg-type]


def predict_files(predictor: Predictor, images: list[str | Path], top_k: int = 5,
                  batch_size: int = 32) -> list[dict[str, Any]]:
    """[{"image", "top": [{"class", "probability"}]}] in the order given."""
    if top_k < 1:
        raise ExportError(f"--top-k must be at least 1. Received: {top_k}")
    paths = [Path(p) for p in images]
    for path in paths:
        if not path.is_file():
            raise ExportError(f"{path}: no such image file.")
    results = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        probabilities = predictor.classify(load_images(chunk, predictor.shape, predictor.resize))
        for path, row in zip(chunk, probabilities, strict=True):
            order = np.argsort(-row, kind="stable")[:top_k]
            results.append({"image": str(path), "top": [
                {"class": predictor.class_names[i] if i < len(predictor.class_names) else str(i),
                 "probability": float(row[i])} for i in order]})
    return results
