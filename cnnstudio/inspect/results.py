"""Plain results the inspection computes and the GUI draws (numpy only: no TensorFlow, no Qt).

Each type saves to and loads from one .npz file, so the helper process can hand a result
to the window without pickling and the CLI can write what the GUI reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LayerMaps:
    """One layer's activations for one image, with statistics over the analysed batch."""

    name: str
    shape: tuple[int, ...]  # without the batch axis
    maps: np.ndarray  # float32: [H,W,C] for spatial layers, [C] for vectors (the shown image)
    channel_means: np.ndarray  # float32 [C]: mean activation per channel over the batch
    channel_dead: np.ndarray  # bool [C]: never positive anywhere in the batch
    batch_size: int = 1

    @property
    def mean(self) -> float:
        return float(self.channel_means.mean()) if self.channel_means.size else 0.0

    @property
    def dead_fraction(self) -> float:
        return float(self.channel_dead.mean()) if self.channel_dead.size else 0.0

    @property
    def channels(self) -> int:
        return int(self.maps.shape[-1]) if self.maps.ndim else 0

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "mean": round(self.mean, 6),
                "dead_fraction": round(self.dead_fraction, 6)}


@dataclass
class Filters:
    """A convolution's kernels [kh, kw, in, out]; RGB tiles when it reads the 3-channel image."""

    name: str
    kernels: np.ndarray

    @property
    def rgb(self) -> bool:
        return self.kernels.ndim == 4 and self.kernels.shape[2] == 3


@dataclass
class Saliency:
    """A heat map [H,W] in [0,1] explaining one class for one image."""

    method: str
    heat: np.ndarray
    class_index: int
    class_name: str
    image: np.ndarray  # uint8 [H,W,C] as the model saw it


@dataclass
class Embedding:
    """2-D positions of a split's images with their true and predicted classes."""

    method: str
    split: str
    images: list[str]
    true: np.ndarray  # int [N]
    predicted: np.ndarray  # int [N]
    points: np.ndarray  # float32 [N,2]
    class_names: list[str]
    top5: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), np.int32))  # int [N,5]

    @property
    def mistakes(self) -> np.ndarray:
        return self.true != self.predicted

    def rows(self) -> list[dict[str, Any]]:
        return [{"image": image, "true": self.class_names[int(t)], "predicted": self.class_names[int(p)],
                 "x": round(float(x), 6), "y": round(float(y), 6)}
                for image, t, p, (x, y) in zip(self.images, self.true, self.predicted, self.points, strict=True)]

    def in_cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the points of one confusion-matrix cell."""
        return np.flatnonzero((self.true == true) & (self.predicted == predicted))

    def save(self, path: str | Path) -> None:
        meta = {"method": self.method, "split": self.split, "images": self.images, "class_names": self.class_names}
        np.savez(path, true=self.true, predicted=self.predicted, points=self.points, top5=self.top5,
                 meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path: str | Path) -> Embedding:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["method"], meta["split"], list(meta["images"]), data["true"], data["predicted"],
                       data["points"], list(meta["class_names"]), data["top5"])


def save_layer_maps(path: str | Path, layers: list[LayerMaps]) -> None:
    arrays: dict[str, Any] = {"meta": np.array(json.dumps(
        [{"name": m.name, "shape": list(m.shape), "batch_size": m.batch_size} for m in layers]))}
    for i, m in enumerate(layers):
        arrays[f"maps_{i}"], arrays[f"means_{i}"], arrays[f"dead_{i}"] = m.maps, m.channel_means, m.channel_dead
    np.savez(path, **arrays)


def load_layer_maps(path: str | Path) -> list[LayerMaps]:
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        return [LayerMaps(m["name"], tuple(m["shape"]), data[f"maps_{i}"], data[f"means_{i}"], data[f"dead_{i}"],
                          int(m["batch_size"])) for i, m in enumerate(meta)]
