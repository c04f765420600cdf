"""The optimizers a project can choose: one table read by the settings schema (choices),
the memory estimate (slots per weight) and the training engine (Keras class and keywords).

Pure data: no TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OptimizerKind:
    keras_class: str  # keras.optimizers.<keras_class>
    slots: int  # extra values kept per trainable weight (momentum, second moments)
    uses_momentum: bool = False  # takes the settings' momentum value
    keywords: dict[str, Any] = field(default_factory=dict)


OPTIMIZERS: dict[str, OptimizerKind] = {
    "sgd": OptimizerKind("SGD", slots=0),
    "sgd_momentum": OptimizerKind("SGD", slots=1, uses_momentum=True),
    "sgd_nesterov": OptimizerKind("SGD", slots=1, uses_momentum=True, keywords={"nesterov": True}),
    "adam": OptimizerKind("Adam", slots=2),
    "adamw": OptimizerKind("AdamW", slots=2),
    "rmsprop": OptimizerKind("RMSprop", slots=1, uses_momentum=True),
}


def optimizer_kind(name: str) -> OptimizerKind | None:
    return OPTIMIZERS.get(name)
