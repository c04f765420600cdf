"""Features [N,D] -> 2-D points: PCA (instant), t-SNE (openTSNE) or UMAP (when umap-learn is installed).

t-SNE runs on openTSNE: at 2,000 points it needs ~1.7x less CPU than scikit-learn's
Barnes-Hut TSNE and uses both cores for the whole run (3.4x faster wall time on the
development machine; benchmarks/inspect_speed.py).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

from cnnstudio.errors import ExportError

METHODS = ("pca", "tsne", "umap")


def available_methods() -> list[str]:
    return [m for m in METHODS if m != "umap" or importlib.util.find_spec("umap") is not None]


def check_method(method: str) -> None:
    """Refuse an unknown or unavailable method before any features are computed."""
    if method not in METHODS:
        raise ExportError(f"--method must be one of {', '.join(METHODS)}. Received: {method!r}")
    if method not in available_methods():
        raise ExportError("UMAP needs the optional umap-learn package (pip install umap-learn); "
                          "use --method pca or tsne.")


def project_points(features: np.ndarray, method: str = "pca", seed: int = 0,
                   progress: Callable[[float], None] | None = None) -> np.ndarray:
    """float32 [N,2] positions for the rows of `features`."""
    if method not in METHODS:
        raise ExportError(f"--method must be one of {', '.join(METHODS)}. Received: {method!r}")
    features = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    if len(features) < 3:
        raise ExportError(f"an embedding map needs at least 3 images; the split has {len(features)}.")
    if method == "pca":
        return pca(features)
    if method == "tsne":
        return tsne(features, seed, progress)
    return umap(features, seed)


def pca(features: np.ndarray) -> np.ndarray:
    centred = features - features.mean(axis=0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    points = centred @ vt[:2].T
    if points.shape[1] < 2:
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    # A deterministic sign: the largest coordinate of each axis is positive.
    signs = np.sign(points[np.abs(points).argmax(axis=0), range(2)])
    return (points * np.where(signs == 0, 1, signs)).astype(np.float32)


def _reduced(features: np.ndarray, dimensions: int = 50) -> np.ndarray:
    """PCA to ≤50 dimensions first (the usual t-SNE/UMAP preprocessing: faster, less noise)."""
    if features.shape[1] <= dimensions:
        return features
    centred = features - features.mean(axis=0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:dimensions].T


def tsne(features: np.ndarray, seed: int = 0, progress: Callable[[float], None] | None = None) -> np.ndarray:
    try:
        from openTSNE import TSNE
        from openTSNE.callbacks import Callback
    except ImportError:
        raise ExportError("t-SNE needs the openTSNE package (pip install openTSNE); use --method pca.") from None

    data = _reduced(features)
    perplexity = float(min(30.0, max(2.0, (len(data) - 1) / 3)))
    iterations = 600  # 200 early exaggeration + 400: settled for a few thousand points

    class Report(Callback):
        def __init__(self):
            self.done = 0

        def __call__(self, iteration, error, embedding):
            self.done += 10
            if progress is not None:
                progress(min(1.0, self.done / iterations))
            return False

    embedding = TSNE(n_components=2, perplexity=perplexity, random_state=seed, n_jobs=-1, verbose=False,
                     initialization="pca", callbacks=Report() if progress else None, callbacks_every_iters=10,
                     n_iter=400, early_exaggeration_iter=200).fit(data)
    return np.asarray(embedding, dtype=np.float32)


def umap(features: np.ndarray, seed: int = 0) -> np.ndarray:
    try:
        import umap as umap_module
    except ImportError:
        raise ExportError("UMAP needs the optional umap-learn package (pip install umap-learn); "
                          "use --method pca or tsne.") from None
    data = _reduced(features)
    reducer = umap_module.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, len(data) - 1))
    return np.asarray(reducer.fit_transform(data), dtype=np.float32)
