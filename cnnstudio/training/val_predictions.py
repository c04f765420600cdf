"""Per-image validation predictions of the latest epoch: RUN_DIR/val_predictions.json.

The GUI's confusion matrix opens a cell's images from this file (sorted by confidence), so
the user can exclude or relabel a file in the project. Written atomically after each epoch:
[{"path", "label", "predicted", "confidence"}] with the validation order of the data.
The rows come from the epoch's one compiled validation pass (the same outputs that give
the validation loss, accuracy and confusion matrix): nothing is predicted a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.fileio import write_json_atomic

FILE_NAME = "val_predictions.json"


def prediction_rows(paths: Sequence[str], labels: np.ndarray, predicted: np.ndarray,
                    confidence: np.ndarray) -> list[dict[str, Any]] | None:
    """One row per validation image; None when the pass saw a different number of images
    than there are paths (a file failed to decode while streaming: the order is unknown)."""
    labels, predicted, confidence = (np.asarray(a).reshape(-1) for a in (labels, predicted, confidence))
    if not (len(paths) == len(labels) == len(predicted) == len(confidence)):
        return None
    rounded = np.round(confidence.astype(np.float64), 5)
    return [{"label": int(label), "predicted": int(guess), "confidence": float(score), "path": str(path)}
            for path, label, guess, score in zip(paths, labels.tolist(), predicted.tolist(), rounded.tolist(),
                                                  strict=True)]


def write_val_predictions(run_dir: str | Path, class_names: Sequence[str], paths: Sequence[str] | None,
                          labels: np.ndarray, predicted: np.ndarray, confidence: np.ndarray) -> bool:
    """Write the file from the validation pass's outputs; False (no file) when they cannot be matched to paths."""
    if not paths:
        return False
    rows = prediction_rows(paths, labels, predicted, confidence)
    if rows is None:
        return False
    write_json_atomic(Path(run_dir) / FILE_NAME, {"classes": list(class_names), "predictions": rows})
    return True


def read_val_predictions(run_dir: str | Path) -> dict[str, Any] | None:
    import json

    try:
        return json.loads((Path(run_dir) / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
