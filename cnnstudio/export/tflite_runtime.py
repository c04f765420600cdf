"""Run a TFLite flatbuffer: LiteRT's interpreter (ai_edge_litert) when installed, else TensorFlow's.

Both run on the CPU with the XNNPACK delegate applied by default. Quantised inputs and
outputs go through the tensor's own quantisation parameters, so callers always pass uint8
pixels and get float probabilities, whatever the flavour.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SIGNATURE = "probabilities"


def default_threads() -> int:
    return max(1, os.cpu_count() or 1)


def runtime_name() -> str:
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return "tensorflow.lite"
    return "ai_edge_litert"


def make_interpreter(model_path: str | None = None, model_content: bytes | None = None,
                     num_threads: int | None = None) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():  # TF's interpreter warns that LiteRT replaces it; it still runs
        warnings.simplefilter("ignore")
        interpreter = Interpreter(model_path=model_path, model_content=model_content, num_threads=num_threads)
    return interpreter  # not allocated yet: its op list still shows the model's own ops, not DELEGATE


def _quantize(images: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(details["dtype"])
    scale, zero_point = details["quantization"]
    if dtype.kind == "f":
        return images.astype(dtype)
    if not scale:  # an integer input without quantisation: the raw values
        return images.astype(dtype)
    info = np.iinfo(dtype)
    values = np.round(images.astype(np.float32) / scale + zero_point)
    return np.clip(values, info.min, info.max).astype(dtype)


def _dequantize(values: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    scale, zero_point = details["quantization"]
    if np.dtype(details["dtype"]).kind == "f" or not scale:
        return values.astype(np.float32)
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


@dataclass
class TFLiteClassifier:
    """uint8 images [N,H,W,C] -> float32 probabilities [N,K], one image per interpreter call."""

    path: Path
    threads: int

    def __post_init__(self) -> None:
        self.interpreter = make_interpreter(model_path=str(self.path), num_threads=self.threads)
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)
        self.input = self.runner.get_input_details()["images"]
        self.output = self.runner.get_output_details()["probabilities"]
        self.shape = tuple(int(d) for d in self.input["shape"][1:])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        rows = [self._one(images[i:i + 1]) for i in range(len(images))]
        return np.concatenate(rows) if rows else np.zeros((0, int(self.output["shape"][-1])), np.float32)

    def _one(self, image: np.ndarray) -> np.ndarray:
        result = self.runner(images=_quantize(image, self.input))["probabilities"]
        return _dequantize(result, self.output)

    def latency_ms(self, images: np.ndarray, repeats: int = 50, warmup: int = 5) -> float:
        """Median milliseconds per image over `repeats` single-image calls (after `warmup`)."""
        inputs = [_quantize(images[i % len(images)][None], self.input) for i in range(max(repeats, warmup))]
        for i in range(warmup):
            self.runner(images=inputs[i])
        times = []
        for value in inputs[:repeats]:
            started = time.perf_counter()
            self.runner(images=value)
            times.append(time.perf_counter() - started)
        return float(np.median(times) * 1000.0)
