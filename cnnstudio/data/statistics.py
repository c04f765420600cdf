"""Input statistics from the training split (numpy): channel mean/std, mean image, PCA/ZCA.

Computed once per run, serialisable (`to_dict`/`from_dict`, `save`/`load` as .npz), and
turned into Keras layers by cnnstudio.modeling.preprocessing. Pixel values are in [0, 1].

Whitening follows the tutorial: X -= mean; cov = XᵀX/N; U,S,V = svd(cov); X_rot = X·U;
PCA: X_white = X_rot / sqrt(S + ε); ZCA: X_white · Uᵀ.

ε is chosen from the data unless the project sets it: a fixed 1e-5 is far below the
eigenvalues of natural images in [0, 1] (their mean is ~0.05 on digits), so the faint
directions, mostly noise, would be scaled up ~70× and the images drown in it. A tenth of
the mean eigenvalue damps every direction weaker than that, which keeps ZCA's edge map.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.data import formats
from cnnstudio.data.progress import TaskState, as_state
from cnnstudio.errors import DatasetError, ParameterError
from cnnstudio.paths import cache_dir

MAX_WHITENING_FEATURES = 4096
CACHE_VERSION = 1  # bump when the computation changes: cached statistics are then recomputed
WHITENING = ("pca", "zca")
AUTO_EPSILON = 0.1  # ε = this × the mean eigenvalue when the project leaves ε empty
TINY_EPSILON = 1e-3  # an ε below this × the mean eigenvalue amplifies noise: say so


@dataclass
class Statistics:
    image_shape: tuple[int, int, int]
    resize: str
    count: int  # images the statistics were computed from
    channel_mean: np.ndarray  # (C,)
    channel_std: np.ndarray  # (C,)
    mean_image: np.ndarray  # (H, W, C)
    whitening: str | None = None  # "pca", "zca" or None
    epsilon: float = 1e-5
    eigenvectors: np.ndarray | None = None  # U, (D, D), columns sorted by decreasing variance
    eigenvalues: np.ndarray | None = None  # S, (D,)
    warnings: list[str] = field(default_factory=list)  # for the user: preview note, training log

    def whitening_matrix(self, mode: str | None = None) -> np.ndarray:
        """W with x_white = (x − mean) · W for flattened x: PCA U/sqrt(S+ε), ZCA U diag(1/sqrt(S+ε)) Uᵀ."""
        mode = mode or self.whitening
        if self.eigenvectors is None or self.eigenvalues is None or mode not in WHITENING:
            raise DatasetError("these statistics hold no whitening; compute them with normalization pca or zca.")
        pca = self.eigenvectors / np.sqrt(self.eigenvalues + self.epsilon)[None, :]
        return pca if mode == "pca" else pca @ self.eigenvectors.T

    def to_dict(self) -> dict[str, Any]:
        arrays = {"channel_mean": self.channel_mean, "channel_std": self.channel_std, "mean_image": self.mean_image}
        if self.eigenvectors is not None:
            arrays.update(eigenvectors=self.eigenvectors, eigenvalues=self.eigenvalues)
        return {
            "image_shape": list(self.image_shape),
            "resize": self.resize,
            "count": self.count,
            "whitening": self.whitening,
            "epsilon": self.epsilon,
            "arrays": {name: _encode(array) for name, array in arrays.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Statistics:
        try:
            arrays = {name: _decode(value) for name, value in data["arrays"].items()}
            return cls(
                image_shape=tuple(int(v) for v in data["image_shape"]),  # type: ignore[arg-type]
                resize=str(data["resize"]),
                count=int(data["count"]),
                channel_mean=arrays["channel_mean"],
                channel_std=arrays["channel_std"],
                mean_image=arrays["mean_image"],
                whitening=data.get("whitening"),
                epsilon=float(data.get("epsilon", 1e-5)),
                eigenvectors=arrays.get("eigenvectors"),
                eigenvalues=arrays.get("eigenvalues"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"stored input statistics are damaged ({exc}); recompute them.") from None

    def save(self, path: str) -> None:
        """Store as .npz (compact; whitening matrices can be tens of MB)."""
        meta = {"image_shape": list(self.image_shape), "resize": self.resize, "count": self.count,
                "whitening": self.whitening, "epsilon": self.epsilon, "warnings": list(self.warnings)}
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        np.savez(path, meta=np.frombuffer(repr(meta).encode(), dtype=np.uint8), **arrays)

    @classmethod
    def load(cls, path: str) -> Statistics:
        import ast

        with np.load(path) as data:
            meta = ast.literal_eval(bytes(data["meta"]).decode())
            meta["arrays"] = {k: {"npy": data[k]} for k in data.files if k != "meta"}
        stats = cls.from_dict(meta)
        stats.warnings = [str(w) for w in meta.get("warnings", [])]
        return stats


def _encode(array: np.ndarray) -> dict[str, Any]:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float32), allow_pickle=False)
    return {"npy_base64": base64.b64encode(buffer.getvalue()).decode("ascii")}


def _decode(value: dict[str, Any]) -> np.ndarray:
    if "npy" in value:
        return np.asarray(value["npy"])
    return np.load(io.BytesIO(base64.b64decode(value["npy_base64"])), allow_pickle=False)


def check_whitening_size(image_shape: tuple[int, int, int], mode: str) -> None:
    features = int(np.prod(image_shape))
    if mode in WHITENING and features > MAX_WHITENING_FEATURES:
        h, w, c = image_shape
        raise ParameterError(
            f"preprocessing: {mode.upper()} whitening of a {h}×{w}×{c} input needs a {features}×{features} "
            f"covariance matrix; whitening is limited to {MAX_WHITENING_FEATURES} features. Use a smaller "
            "input (e.g. 32×32×3 = 3072) or normalization 'per_channel'.",
            field="normalization",
        )


def pick_images(files: list[tuple[str, int]], max_images: int, seed: int) -> list[str]:
    """A seeded, class-agnostic sample of at most max_images paths (all of them if fewer)."""
    paths = [path for path, _label in files]
    if len(paths) <= max_images:
        return paths
    order = np.random.default_rng(seed).permutation(len(paths))[:max_images]
    return [paths[i] for i in sorted(order)]


def compute_statistics(
    files: list[tuple[str, int]],
    image_shape: tuple[int, int, int],
    resize: str = "stretch",
    normalization: str = "rescale",
    max_images: int = 2000,
    epsilon: float | None = None,
    seed: int = 0,
    progress: TaskState | Callable[[TaskState], Any] | None = None,
    use_cache: bool = True,
) -> Statistics:
    """Statistics of (a seeded sample of) the training files, decoded as the pipeline decodes them.

    Kept in the user's cache folder, keyed by the sampled files (paths, sizes, modification times)
    and the settings, so the next run on the same files reads them instead of decoding again.
    """
    check_whitening_size(image_shape, normalization)
    state = as_state(progress)
    paths = pick_images(files, max_images, seed)
    cached = _cache_path(paths, image_shape, resize, normalization, epsilon) if use_cache else None
    if cached is not None and cached.exists():
        try:
            return Statistics.load(str(cached))
        except (OSError, ValueError, SyntaxError, KeyError, DatasetError):
            pass  # a damaged entry is recomputed and replaced
    images = []
    state.update(0, len(paths), "computing input statistics", force=True)
    # Pillow releases the GIL while it decodes and resizes: threads use every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        try:
            for image in pool.map(_load_or_none, paths, [image_shape] * len(paths), [resize] * len(paths)):
                state.check()
                if image is not None:  # None: the scan reported it; statistics simply leave it out
                    images.append(image)
                state.update(advance=1)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    if not images:
        raise DatasetError("no training image could be decoded to compute the input statistics.")
    stats = statistics_from_array(np.stack(images), resize, normalization, epsilon)
    if stats.whitening and stats.count <= int(np.prod(image_shape)):
        stats.warnings[-1] += (f" Raise 'Images for statistics' (now {max_images}; the training split has "
                               f"{len(files)})." if len(files) > max_images else
                               " Add training images or use a smaller input size.")
    if cached is not None:
        _store(stats, cached)
    return stats


def _load_or_none(path: str, shape: tuple[int, int, int], resize: str) -> np.ndarray | None:
    try:
        return formats.load_image(path, shape, resize)
    except formats.UnusableImage:
        return None


def _cache_path(paths: list[str], image_shape, resize: str, normalization: str, epsilon: float | None) -> Path | None:
    """Where these statistics are kept: a digest of the settings and of each sampled file's identity."""
    digest = hashlib.sha1(repr((CACHE_VERSION, tuple(image_shape), resize, normalization, epsilon)).encode())
    for path in paths:
        try:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}\0missing\n".encode())
    return cache_dir() / "statistics" / f"{digest.hexdigest()[:24]}.npz"


def _store(stats: Statistics, path: Path) -> None:
    """Atomic write; a cache that cannot be written only costs time on the next run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        stats.save(str(tmp))
        os.replace(tmp, path)
    except OSError:
        pass


def choose_epsilon(eigenvalues: np.ndarray, epsilon: float | None) -> tuple[float, list[str]]:
    """The ε to whiten with: the project's, or AUTO_EPSILON × the mean eigenvalue; and a warning
    when a given ε is so small next to the spectrum that noise would dominate."""
    scale = float(np.mean(eigenvalues)) if len(eigenvalues) else 0.0
    automatic = max(AUTO_EPSILON * scale, 1e-12)
    if epsilon is None:
        return automatic, []
    if epsilon < TINY_EPSILON * scale:
        return float(epsilon), [f"Whitening ε = {epsilon:g} is tiny next to the mean eigenvalue {scale:.3g}: the "
                                "faint directions (mostly noise) are amplified and the images turn to noise. "
                                f"Clear the field to let CNN Studio choose ε = {automatic:.3g} from the data."]
    return float(epsilon), []


def statistics_from_array(
    images: np.ndarray, resize: str = "stretch", normalization: str = "rescale", epsilon: float | None = None
) -> Statistics:
    """Statistics of uint8 images (N, H, W, C); ε None: chosen from the eigenvalues."""
    shape = tuple(int(v) for v in images.shape[1:])
    check_whitening_size(shape, normalization)  # type: ignore[arg-type]
    x = images.astype(np.float64) / 255.0
    channel_mean = x.mean(axis=(0, 1, 2))
    channel_std = np.maximum(x.std(axis=(0, 1, 2)), 1e-6)  # constant channels must not divide by 0
    mean_image = x.mean(axis=0)
    stats = Statistics(shape, resize, len(x), channel_mean, channel_std, mean_image,  # type: ignore[arg-type]
                       epsilon=1e-5 if epsilon is None else float(epsilon))
    if normalization in WHITENING:
        flat = x.reshape(len(x), -1) - mean_image.reshape(1, -1)
        covariance = flat.T @ flat / len(flat)
        # The covariance is symmetric: eigh is exact and several times faster than svd.
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues = np.maximum(eigenvalues[order], 0.0)  # rounding can make the null ones -1e-17
        stats.whitening = normalization
        stats.eigenvectors, stats.eigenvalues = eigenvectors[:, order], eigenvalues
        stats.epsilon, stats.warnings = choose_epsilon(eigenvalues, epsilon)
        features = flat.shape[1]
        if len(x) <= features:
            stats.warnings.append(
                f"{normalization.upper()} statistics come from {len(x)} images, not more than the {features} "
                f"values per image: the covariance has rank {len(x) - 1} at most, so {features - len(x) + 1} "
                "directions are not estimated (ε keeps them from being amplified, but the whitening "
                "is rough).")
    return stats


def normalize(images: np.ndarray, stats: Statistics | None, normalization: str) -> np.ndarray:
    """The numpy reference of what the preprocessing layers compute (float32 output)."""
    x = images.astype(np.float64)
    if normalization == "none":
        return x.astype(np.float32)
    x = x / 255.0
    if normalization == "rescale":
        return x.astype(np.float32)
    if stats is None:
        raise DatasetError(f"normalization '{normalization}' needs statistics of the training images.")
    if normalization == "per_channel":
        return ((x - stats.channel_mean) / stats.channel_std).astype(np.float32)
    if normalization == "mean_image":
        return (x - stats.mean_image).astype(np.float32)
    if normalization in WHITENING:
        flat = x.reshape(len(x), -1) - stats.mean_image.reshape(1, -1)
        return (flat @ stats.whitening_matrix(normalization)).reshape(x.shape).astype(np.float32)
    raise ValueError(f"unknown normalization {normalization!r}")
