"""Balanced metrics from a confusion matrix (rows = true class, columns = predicted). numpy only.

Both follow scikit-learn: balanced accuracy is the mean recall over classes that occur in
the labels; macro-F1 is the mean F1 over classes that occur in the labels or predictions.
"""

from __future__ import annotations

import numpy as np

BALANCED_KEYS = ("val_balanced_accuracy", "val_macro_f1")


def balanced_accuracy(matrix: np.ndarray) -> float | None:
    matrix = np.asarray(matrix, dtype=np.float64)
    support = matrix.sum(axis=1)
    present = support > 0
    if not present.any():
        return None
    return float(np.mean(np.diag(matrix)[present] / support[present]))


def macro_f1(matrix: np.ndarray) -> float | None:
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positive = np.diag(matrix)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    present = (support > 0) | (predicted > 0)
    if not present.any():
        return None
    f1 = 2 * true_positive[present] / (support[present] + predicted[present])
    return float(np.mean(f1))


def balanced_metrics(matrix: np.ndarray | None) -> dict[str, float | None]:
    if matrix is None:
        return dict.fromkeys(BALANCED_KEYS)
    return {"val_balanced_accuracy": balanced_accuracy(matrix), "val_macro_f1": macro_f1(matrix)}
