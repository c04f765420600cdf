"""Keras optimizers from the project's training settings."""

from __future__ import annotations

from typing import Any

from cnnstudio.errors import TrainingError


def build_optimizer(training: dict[str, Any]):
    """SGD / momentum / Nesterov / Adam / AdamW / RMSprop with decay and clipping applied.

    The rate is a plain variable the loop sets from the schedule (see schedules.py), so it
    is saved with the optimizer's other variables.
    """
    import keras

    name = training["optimizer"]
    rate = float(training["learning_rate"])
    common: dict[str, Any] = {"learning_rate": rate}
    if training.get("gradient_clip"):
        common["global_clipnorm"] = float(training["gradient_clip"])
    decay = float(training.get("weight_decay") or 0.0)
    momentum = float(training.get("momentum", 0.9))
    if name == "adamw":
        # The user's value, even 0: a silent Keras default (0.004) would be a setting they never chose.
        optimizer = keras.optimizers.AdamW(weight_decay=decay, **common)
    else:
        if decay:
            common["weight_decay"] = decay  # decoupled, as in AdamW
        if name == "sgd":
            optimizer = keras.optimizers.SGD(**common)
        elif name == "sgd_momentum":
            optimizer = keras.optimizers.SGD(momentum=momentum, **common)
        elif name == "sgd_nesterov":
            optimizer = keras.optimizers.SGD(momentum=momentum, nesterov=True, **common)
        elif name == "adam":
            optimizer = keras.optimizers.Adam(**common)
        elif name == "rmsprop":
            optimizer = keras.optimizers.RMSprop(momentum=momentum if momentum < 1 else 0.0, **common)
        else:
            raise TrainingError(f"training.optimizer {name!r} is unknown; choose sgd, sgd_momentum, "
                                "sgd_nesterov, adam, adamw or rmsprop.")
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
