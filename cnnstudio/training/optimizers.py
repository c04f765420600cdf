"""Keras optimizers from the project's training settings."""

from __future__ import annotations

from typing import Any

from cnnstudio.errors import TrainingError
from cnnstudio.optimizer_table import OPTIMIZERS


def build_optimizer(training: dict[str, Any]):
    """SGD / momentum / Nesterov / Adam / AdamW / RMSprop with decay and clipping applied.

    The rate is a plain variable the loop sets from the schedule (see schedules.py), so it
    is saved with the optimizer's other variables.
    """
    import keras

    name = training["optimizer"]
    kind = OPTIMIZERS.get(name)
    if kind is None:
        raise TrainingError(f"training.optimizer {name!r} is unknown; choose {', '.join(OPTIMIZERS)}.")
    keywords: dict[str, Any] = {"learning_rate": float(training["learning_rate"]), **kind.keywords}
    if training.get("gradient_clip"):
        keywords["global_clipnorm"] = float(training["gradient_clip"])
    decay = float(training.get("weight_decay") or 0.0)
    if decay or kind.keras_class == "AdamW":
        # AdamW gets the user's value, even 0: a silent Keras default (0.004) would be a
        # setting they never chose. The others decay decoupled, as AdamW does.
        keywords["weight_decay"] = decay
    if kind.uses_momentum:
        momentum = float(training.get("momentum", 0.9))
        keywords["momentum"] = momentum if momentum < 1 else 0.0
    optimizer = getattr(keras.optimizers, kind.keras_class)(**keywords)
    if training.get("mixed_precision"):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def set_learning_rate(optimizer, value: float) -> None:
    target = getattr(optimizer, "inner_optimizer", optimizer)
    target.learning_rate.assign(value)
    if target is not optimizer:
        optimizer.learning_rate.assign(value)


def get_learning_rate(optimizer) -> float:
    target = getattr(optimizer, "inner_optimizer", optimizer)
    return float(target.learning_rate.numpy())
