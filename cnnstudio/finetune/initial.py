"""Moved to cnnstudio.training.initial_weights (the worker applies it; training must not
import finetune). Re-exported for callers not yet updated."""

from __future__ import annotations

from cnnstudio.training.initial_weights import (  # noqa: F401
    apply_initial_weights,
    architecture_of,
    save_initial,
    scale_learning_rates,
    weights_by_layer,
)
