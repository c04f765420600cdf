"""Per-image validation predictions of the latest epoch: RUN_DIR/val_predictions.json.

The GUI's confusion matrix opens a cell's images from this file (sorted by confidence), so
the user can exclude or relabel a file in the project. Written atomically after each epoch:
[{"path", "label", "predicted", "confidence"}] with the validation order of the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.fileio import write_json_atomic

FILE_NAME = "val_predictions.json"


def write_val_predictions(model: Any, data: Any, batch_size: int, from_logits: bool, run_dir: Path) -> None:
    """Predict the validation set once more (single device) and write the file; no paths, no file."""
    paths = getattr(data, "val_paths", None)
    dataset = data.val_dataset(batch_size)
    if not paths or dataset is None:
        return
    import keras

    rows: list[dict[str, Any]] = []
    for images, labels in dataset:
        outputs = np.asarray(keras.ops.convert_to_numpy(model(images, training=False)), dtype=np.float64)
        if from_logits:
            outputs = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
            outputs /= outputs.sum(axis=-1, keepdims=True)
        for label, row in zip(np.asarray(labels), outputs, strict=True):
            predicted = int(np.argmax(row))
            rows.append({"label": int(label), "predicted": predicted, "confidence": round(float(row[predicted]), 5)})
    if len(rows) != len(paths):  # a file failed to decode while streaming: the order is unknown
        return
    for row, path in zip(rows, paths, strict=True):
        row["path"] = str(path)
    write_json_atomic(Path(run_dir) / FILE_NAME, {"classes": list(data.class_names), "predictions": rows})


def read_val_predictions(run_dir: str | Path) -> dict[str, Any] | None:
    import json

    try:
        return json.loads((Path(run_dir) / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
