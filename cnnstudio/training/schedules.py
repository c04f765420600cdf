"""Learning-rate schedules as plain functions of the training position. Pure Python.

The loop sets the optimizer's rate before each call into TensorFlow, so the position is
the global step (restored from the checkpoint on resume) and the schedule needs no state
of its own, except reduce-on-plateau whose factor and counters live in the checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau", "one_cycle")

#: One-cycle: the rate starts at base/ONE_CYCLE_START_DIV and ends at base/ONE_CYCLE_END_DIV (fastai's).
ONE_CYCLE_START_DIV = 25.0
ONE_CYCLE_END_DIV = 1e4


@dataclass
class Schedule:
    name: str
    base_lr: float
    steps_per_epoch: int
    total_epochs: int
    step_epochs: int = 30
    gamma: float = 0.1
    warmup_epochs: int = 0
    one_cycle_warmup: float = 0.25

    @classmethod
    def from_settings(cls, training: dict[str, Any], steps_per_epoch: int, total_epochs: int) -> Schedule:
        return cls(
            name=training["schedule"],
            base_lr=float(training["learning_rate"]),
            steps_per_epoch=max(1, steps_per_epoch),
            total_epochs=max(1, total_epochs),
            step_epochs=int(training.get("step_epochs", 30)),
            gamma=float(training.get("gamma", 0.1)),
            warmup_epochs=int(training.get("warmup_epochs", 0)),
            one_cycle_warmup=float(training.get("one_cycle_warmup", 0.25)),
        )

    def __call__(self, global_step: int) -> float:
        """The rate for the step with this 0-based index (plateau factor not included)."""
        epoch = global_step / self.steps_per_epoch  # fractional epochs done
        if self.name in ("constant", "plateau"):
            return self.base_lr
        if self.name == "step":
            return self.base_lr * self.gamma ** (int(epoch) // self.step_epochs)
        if self.name == "exponential":
            return self.base_lr * self.gamma ** int(epoch)
        if self.name == "cosine":
            warmup_steps = self.warmup_epochs * self.steps_per_epoch
            if global_step < warmup_steps:
                return self.base_lr * (global_step + 1) / warmup_steps
            total = max(1, self.total_epochs * self.steps_per_epoch - warmup_steps)
            progress = min(1.0, (global_step - warmup_steps) / total)
            return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
        if self.name == "one_cycle":
            return self._one_cycle(global_step)
        raise ValueError(f"unknown schedule {self.name!r}; known: {', '.join(SCHEDULES)}")

    def _one_cycle(self, global_step: int) -> float:
        """Cosine up from base/25 to base over the warm-up share, cosine down to base/10⁴."""
        total = max(1, self.total_epochs * self.steps_per_epoch)
        peak = int(round(self.one_cycle_warmup * total))
        start, end = self.base_lr / ONE_CYCLE_START_DIV, self.base_lr / ONE_CYCLE_END_DIV
        if global_step < peak:
            low, high, progress = start, self.base_lr, global_step / peak
        else:
            high, low, progress = self.base_lr, end, (global_step - peak) / max(1, total - 1 - peak)
            progress = 1.0 - min(1.0, progress)  # cosine from high (progress 1) down to low (0)
        return low + (high - low) * 0.5 * (1.0 - math.cos(math.pi * progress))


@dataclass
class Plateau:
    """Divide the rate by `factor` after `patience` epochs without a better metric (AlexNet)."""

    patience: int = 3
    factor: float = 0.1
    multiplier: float = 1.0
    best: float | None = None
    waited: int = 0

    def update(self, metric: float | None) -> bool:
        """Record an epoch's validation accuracy (higher is better); True if the rate dropped."""
        if metric is None or not math.isfinite(metric):
            return False
        if self.best is None or metric > self.best:
            self.best, self.waited = metric, 0
            return False
        self.waited += 1
        if self.waited >= self.patience:
            self.multiplier *= self.factor
            self.waited = 0
            return True
        return False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plateau:
        return cls(**data)


def lr_range(start: float, end: float, steps: int) -> list[float]:
    """Geometric sweep from start to end (the learning-rate range test)."""
    if steps < 2:
        return [start]
    ratio = (end / start) ** (1.0 / (steps - 1))
    return [start * ratio**i for i in range(steps)]


def suggest_lr(rates: list[float], losses: list[float]) -> float | None:
    """The rate where the smoothed loss falls fastest, before it blows up."""
    points = [(r, v) for r, v in zip(rates, losses, strict=False) if v is not None and math.isfinite(v)]
    if len(points) < 5:
        return None
    smoothed: list[float] = []
    average = points[0][1]
    for _, loss in points:
        average = 0.7 * average + 0.3 * loss
        smoothed.append(average)
    minimum = min(smoothed)
    end = next((i for i, v in enumerate(smoothed) if v > 4 * minimum and i > smoothed.index(minimum)),
               len(smoothed))
    best_i, best_slope = None, 0.0
    for i in range(1, end):
        slope = (smoothed[i] - smoothed[i - 1]) / (math.log(points[i][0]) - math.log(points[i - 1][0]))
        if slope < best_slope:
            best_i, best_slope = i, slope
    if best_i is None:
        return None
    return points[best_i][0]
