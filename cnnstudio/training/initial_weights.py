"""The initial-weights file a fine-tuning run starts from, and applying it in the worker.

File (.npz): "layer/<name>/<i>" arrays (weights by layer name: layers not in the file keep
their fresh initialisation, which is how the classifier is replaced) and "meta", JSON with
"lr_multipliers" {layer name: factor} (a lower learning rate for the backbone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import TrainingError
from cnnstudio.fileio import write_bytes_atomic


def architecture_of(model: Any) -> Any:
    """The architecture inside a run's model (preprocessing + augmentation + architecture)."""
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested[-1] if nested else model


def weights_by_layer(model: Any, exclude: set[str] = frozenset()) -> dict[str, list[np.ndarray]]:
    out = {}
    for layer in architecture_of(model).layers:
        if layer.name not in exclude and layer.weights:
            out[layer.name] = [np.asarray(w.numpy()) for w in layer.weights]
    return out


def save_initial(path: str | Path, weights: dict[str, list[np.ndarray]],
                 lr_multipliers: dict[str, float] | None = None) -> Path:
    import io

    arrays = {f"layer/{name}/{i}": value for name, values in weights.items() for i, value in enumerate(values)}
    meta = {"lr_multipliers": lr_multipliers or {}, "layers": {n: len(v) for n, v in weights.items()}}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes_atomic(path, buffer.getvalue())
    return Path(path)


def load_initial(path: str | Path) -> tuple[dict[str, list[np.ndarray]], dict[str, float]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            weights = {name: [data[f"layer/{name}/{i}"] for i in range(count)]
                       for name, count in meta["layers"].items()}
    except (OSError, KeyError, ValueError) as exc:
        raise TrainingError(f"{path}: not a readable initial-weights file ({exc}).") from None
    return weights, {str(k): float(v) for k, v in meta.get("lr_multipliers", {}).items()}


def apply_initial_weights(model: Any, optimizer: Any, path: str | Path) -> list[str]:
    """Load the file's weights into `model`'s layers by name; scale the optimizer's rate per layer."""
    weights, multipliers = load_initial(path)
    layers = {layer.name: layer for layer in architecture_of(model).layers}
    loaded = []
    for name, values in weights.items():
        layer = layers.get(name)
        if layer is None:
            continue  # a layer the new architecture dropped
        shapes = [tuple(w.shape) for w in layer.weights]
        if shapes != [tuple(v.shape) for v in values]:
            raise TrainingError(f"{path}: layer {name!r} has weights {[tuple(v.shape) for v in values]} but the "
                                f"model's layer has {shapes}; the architecture changed since the file was made.")
        layer.set_weights(values)
        loaded.append(name)
    if weights and not loaded:
        raise TrainingError(f"{path}: none of its {len(weights)} layers exists in the model; it was made for "
                            "another architecture.")
    if multipliers:
        scale_learning_rates(optimizer, model, multipliers)
    return loaded


def scale_learning_rates(optimizer: Any, model: Any, multipliers: dict[str, float]) -> None:
    """Make `optimizer` use learning_rate × factor for the variables of each named layer.

    Keras optimizers have one rate; per-layer factors are applied in update_step, the one
    place every optimizer computes its step from the rate (so Adam's scale invariance does
    not cancel them, as scaling the gradients would).
    """
    factors: dict[int, float] = {}
    for layer in architecture_of(model).layers:
        factor = multipliers.get(layer.name)
        if factor is None or factor == 1.0:
            continue
        for variable in layer.trainable_weights:
            factors[optimizer._get_variable_index(variable)] = float(factor)
    if not factors:
        return
    base = type(optimizer)

    class LayerScaledOptimizer(base):  # type: ignore[misc, valid-type]
        def update_step(self, gradient, variable, learning_rate):
            factor = factors.get(self._get_variable_index(variable), 1.0)
            return super().update_step(gradient, variable, learning_rate * factor)

    LayerScaledOptimizer.__name__ = base.__name__
    optimizer.__class__ = LayerScaledOptimizer
