"""Short runs before a long one: the learning-rate range test and the dry run."""

from __future__ import annotations

import math
import resource
import time
from typing import Any

from cnnstudio.training.optimizers import set_learning_rate
from cnnstudio.training.schedules import lr_range, suggest_lr


def _batches(trainer, steps: int):
    """(iterator, refill) yielding training batches across epochs for `steps` steps."""
    epoch = [0]

    def fresh():
        distributed = trainer.distributed_train_dataset(epoch[0])  # a worker's own shard on sharded runs
        epoch[0] += 1
        return iter(distributed)

    return fresh


def lr_find(trainer, steps: int = 100, start: float = 1e-7, end: float = 10.0) -> dict[str, Any]:
    """Train `steps` steps with a geometrically rising rate; stop when the loss explodes."""
    import tensorflow as tf

    fresh = _batches(trainer, steps)
    iterator, left = fresh(), trainer.steps_per_epoch
    rates, losses = [], []
    best = math.inf
    for rate in lr_range(start, end, steps):
        if left == 0:
            iterator, left = fresh(), trainer.steps_per_epoch
        set_learning_rate(trainer.optimizer, rate)
        values = trainer.steps.train(iterator, tf.constant(1)).numpy()
        left -= 1
        loss = float(values[0] / max(values[2], 1))
        rates.append(rate)
        losses.append(loss if math.isfinite(loss) else None)
        if not math.isfinite(loss) or loss > 4 * best:
            break
        best = min(best, loss)
    return {"learning_rates": rates, "losses": losses, "suggested_lr": suggest_lr(rates, losses)}


def dry_run(trainer, steps: int = 10) -> dict[str, Any]:
    """Time a few steps (after one warm-up call that traces and compiles) and measure memory."""
    import tensorflow as tf

    fresh = _batches(trainer, steps + 1)
    iterator, left = fresh(), trainer.steps_per_epoch
    timings = []
    for _ in range(steps + 1):
        if left == 0:
            iterator, left = fresh(), trainer.steps_per_epoch
        started = time.perf_counter()
        trainer.steps.train(iterator, tf.constant(1)).numpy()
        timings.append(time.perf_counter() - started)
        left -= 1
    measured = sorted(timings[1:]) or timings
    step_seconds = measured[len(measured) // 2]  # the median resists one slow step
    device = trainer.placement.devices[0]
    peak = None
    if "GPU" in device.upper():
        try:
            peak = int(tf.config.experimental.get_memory_info(device.split("device:")[-1])["peak"])
        except (ValueError, RuntimeError, KeyError):
            peak = None
    if peak is None:  # CPU: the process's peak resident memory (Linux reports KiB)
        peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
    return {"steps": steps, "step_seconds": step_seconds,
            "images_per_second": trainer.batch_size / step_seconds if step_seconds else None,
            "peak_memory_bytes": peak, "device": device}
