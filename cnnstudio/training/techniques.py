"""Training techniques beyond the plain step: class weights, mixup/CutMix, EMA, staged rates.

Everything random here is drawn from stateless generators keyed on (seed, optimizer step),
and the optimizer's step counter is checkpointed, so a resumed run draws the same mixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.errors import TrainingError


# ---- class weights -------------------------------------------------------------------------
def train_class_counts(data: Any, classes: int) -> np.ndarray:
    """Images per class in the training split (array data or streamed files)."""
    if getattr(data, "y_train", None) is not None:
        labels = np.asarray(data.y_train).astype(np.int64)
    else:
        labels = np.asarray([label for _path, label in data.files["train"]], dtype=np.int64)
    return np.bincount(labels, minlength=classes)[:classes]


def class_weight_vector(training: dict[str, Any], counts: np.ndarray, class_names: list[str]) -> np.ndarray | None:
    """Per-class loss weights: None (off), N / (K · N_c) for "balanced" (scikit-learn's), or manual."""
    mode = training.get("class_weights", "none")
    if mode == "none":
        return None
    classes = len(class_names)
    if mode == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        present = counts > 0
        weights = np.ones(classes)
        weights[present] = counts.sum() / (present.sum() * counts[present])
        return weights.astype(np.float32)
    text = str(training.get("manual_class_weights") or "")
    try:
        weights = np.asarray([float(part) for part in text.replace(";", ",").split(",") if part.strip()])
    except ValueError:
        raise TrainingError(f"training.manual_class_weights {text!r}: write numbers separated by commas, one per "
                            f"class in the order {', '.join(class_names)}.") from None
    if len(weights) != classes or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise TrainingError(f"training.manual_class_weights has {len(weights)} value(s) but the dataset has "
                            f"{classes} classes ({', '.join(class_names)}); give one weight ≥ 0 per class, in "
                            "that order.")
    return weights.astype(np.float32)


# ---- mixup and CutMix ------------------------------------------------------------------------
@dataclass(frozen=True)
class Mixing:
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    probability: float = 1.0
    seed: int = 0

    @classmethod
    def from_settings(cls, training: dict[str, Any]) -> Mixing:
        return cls(float(training.get("mixup_alpha") or 0.0), float(training.get("cutmix_alpha") or 0.0),
                   float(training.get("mix_probability", 1.0)), int(training.get("seed", 0)))

    @property
    def enabled(self) -> bool:
        return (self.mixup_alpha > 0 or self.cutmix_alpha > 0) and self.probability > 0


def _beta(alpha: float, seed) -> Any:
    import tensorflow as tf

    a = tf.random.stateless_gamma([], seed=seed, alpha=alpha)
    b = tf.random.stateless_gamma([], seed=seed + tf.constant([0, 1], tf.int64), alpha=alpha)
    return a / tf.maximum(a + b, 1e-12)


def mix_batch(mixing: Mixing, images, labels, step, replica) -> tuple[Any, Any, Any]:
    """(images, partner labels, λ): λ·own + (1−λ)·partner; λ = 1 when the batch is not mixed.

    Images stay uint8 (the model's input); mixup rounds the blend, CutMix pastes a box and
    λ becomes the exact share of the image left unpasted.
    """
    import tensorflow as tf

    base = tf.stack([tf.constant(mixing.seed, tf.int64), tf.cast(step, tf.int64) * 64 + tf.cast(replica, tf.int64)])

    def seed(k: int):
        return base + tf.constant([k * 7919, 0], tf.int64)

    count = tf.shape(images)[0]
    order = tf.argsort(tf.random.stateless_uniform([count], seed=seed(1)))
    partner_images, partner_labels = tf.gather(images, order), tf.gather(labels, order)
    mixed = tf.random.stateless_uniform([], seed=seed(2)) < mixing.probability
    if mixing.mixup_alpha > 0 and mixing.cutmix_alpha > 0:
        use_cutmix = tf.random.stateless_uniform([], seed=seed(3)) < 0.5
    else:
        use_cutmix = tf.constant(mixing.cutmix_alpha > 0)

    def mixup():
        lam = _beta(mixing.mixup_alpha, seed(4)) if mixing.mixup_alpha > 0 else tf.constant(1.0)
        blend = lam * tf.cast(images, tf.float32) + (1.0 - lam) * tf.cast(partner_images, tf.float32)
        return tf.cast(tf.clip_by_value(tf.round(blend), 0.0, 255.0), images.dtype), lam

    def cutmix():
        lam = _beta(mixing.cutmix_alpha, seed(5)) if mixing.cutmix_alpha > 0 else tf.constant(1.0)
        height, width = tf.shape(images)[1], tf.shape(images)[2]
        cut = tf.sqrt(1.0 - lam)
        box_h = tf.cast(tf.round(cut * tf.cast(height, tf.float32)), tf.int32)
        box_w = tf.cast(tf.round(cut * tf.cast(width, tf.float32)), tf.int32)
        centre = tf.random.stateless_uniform([2], seed=seed(6))
        cy = tf.cast(centre[0] * tf.cast(height, tf.float32), tf.int32)
        cx = tf.cast(centre[1] * tf.cast(width, tf.float32), tf.int32)
        top, bottom = tf.clip_by_value(cy - box_h // 2, 0, height), tf.clip_by_value(cy + box_h - box_h // 2, 0, height)
        left, right = tf.clip_by_value(cx - box_w // 2, 0, width), tf.clip_by_value(cx + box_w - box_w // 2, 0, width)
        rows, cols = tf.range(height), tf.range(width)
        inside_rows = (rows >= top) & (rows < bottom)
        inside_cols = (cols >= left) & (cols < right)
        box = tf.logical_and(inside_rows[:, None], inside_cols[None, :])[None, :, :, None]
        pasted = tf.where(box, partner_images, images)
        area = tf.cast((bottom - top) * (right - left), tf.float32) / tf.cast(height * width, tf.float32)
        return pasted, 1.0 - area

    def plain():
        return images, tf.constant(1.0)

    out, lam = tf.cond(mixed, lambda: tf.cond(use_cutmix, cutmix, mixup), plain)
    return out, partner_labels, tf.cast(lam, tf.float32)


# ---- exponential moving average of the weights -----------------------------------------------
def averaged_indices(model: Any) -> list[int]:
    """Indices of model.variables the EMA averages: every float variable (weights and BatchNorm
    moving statistics, as timm's ModelEmaV2 does), not the random generators' integer states."""
    return [i for i, v in enumerate(model.variables) if "float" in str(v.dtype)]


class WeightAverage:
    """Shadow copies of the averaged variables, updated after each optimizer step."""

    def __init__(self, model: Any, decay: float, warmup: bool):
        import tensorflow as tf

        self.model = model
        self.decay = float(decay)
        self.warmup = bool(warmup)
        self.indices = averaged_indices(model)
        self.shadows = [tf.Variable(tf.cast(model.variables[i].value, tf.float32), trainable=False,
                                    name=f"ema_{k}") for k, i in enumerate(self.indices)]

    def update(self, step) -> None:
        """Inside the replica step: shadow ← d·shadow + (1−d)·weight, d warmed up by the step."""
        import tensorflow as tf

        decay = tf.constant(self.decay, tf.float32)
        if self.warmup:
            n = tf.cast(step, tf.float32)
            decay = tf.minimum(decay, (1.0 + n) / (10.0 + n))
        for shadow, i in zip(self.shadows, self.indices, strict=True):
            value = tf.cast(self.model.variables[i].value, tf.float32)
            shadow.assign(decay * shadow + (1.0 - decay) * value)

    def reset(self) -> None:
        for shadow, i in zip(self.shadows, self.indices, strict=True):
            shadow.assign(np.asarray(self.model.variables[i].numpy(), dtype=np.float32))

    def full_list(self) -> list[np.ndarray]:
        """One array per model variable: the average where averaged, the current value elsewhere."""
        values = [np.asarray(v.numpy()) for v in self.model.variables]
        for shadow, i in zip(self.shadows, self.indices, strict=True):
            values[i] = np.asarray(shadow.numpy()).astype(values[i].dtype)
        return values

    def load(self, values: list[np.ndarray]) -> None:
        for shadow, i in zip(self.shadows, self.indices, strict=True):
            shadow.assign(np.asarray(values[i], dtype=np.float32))


class SwappedWeights:
    """`with SwappedWeights(model, values):` the model holds `values`, then its own again."""

    def __init__(self, model: Any, values: list[np.ndarray] | None):
        self.model, self.values, self.saved = model, values, None

    def __enter__(self):
        if self.values is not None:
            self.saved = [np.asarray(v.numpy()) for v in self.model.variables]
            for variable, value in zip(self.model.variables, self.values, strict=True):
                variable.assign(value)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            for variable, value in zip(self.model.variables, self.saved, strict=True):
                variable.assign(value)
        return False


# ---- classifier first, then everything at a lower backbone rate --------------------------------
def stage_rates(optimizer: Any, model: Any, head_layer: str) -> Any:
    """Scale the update of every variable outside `head_layer` by a variable factor the loop sets
    per epoch (0 while only the classifier trains). The factor works in update_step, as
    cnnstudio.training.initial_weights.scale_learning_rates does, so Adam does not cancel it.
    Under mixed precision the loss-scale wrapper delegates the update: the inner optimizer
    is the one patched."""
    import tensorflow as tf

    from cnnstudio.training.initial_weights import architecture_of

    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    head = set()
    for layer in architecture_of(model).layers:
        if layer.name == head_layer:
            head = {optimizer._get_variable_index(v) for v in layer.trainable_weights}
    if not head:
        raise TrainingError(f"The classifier layer {head_layer!r} has no weights in the built model; staged "
                            "fine-tuning (head_epochs, backbone_lr_factor) needs a Dense classifier.")
    factor = tf.Variable(1.0, trainable=False, dtype=tf.float32, name="backbone_factor")
    base = type(optimizer)

    class StagedOptimizer(base):  # type: ignore[misc, valid-type]
        def update_step(self, gradient, variable, learning_rate):
            if self._get_variable_index(variable) in head:
                return super().update_step(gradient, variable, learning_rate)
            return super().update_step(gradient, variable, learning_rate * tf.cast(factor, learning_rate.dtype))

    StagedOptimizer.__name__ = base.__name__
    optimizer.__class__ = StagedOptimizer
    return factor
