"""Words of the Training panel: event-log lines, failure titles, durations, local GPUs (no Qt)."""

from __future__ import annotations

import functools
from typing import Any

CATEGORIES = {
    "out_of_memory": "Out of memory",
    "nan_loss": "The loss became NaN",
    "data_error": "Data problem",
    "invalid_architecture": "Architecture problem",
    "other": "Training failed",
    "killed": "The worker was killed",
}
LOG_LINES = 3000


def describe(event: dict[str, Any]) -> str | None:
    """One event-log line (None for batches: they are plotted, not logged)."""
    kind = event["event"]
    if kind == "started":
        return (f"started {event['mode']} on {', '.join(event['devices'])} ({event['strategy']}): "
                f"{event['train_examples']} training / {event['val_examples']} validation images, "
                f"{event['total_params']:,} parameters, epochs {event['start_epoch']}–{event['epochs']}")
    if kind == "epoch":
        val = event.get("val_accuracy")
        return (f"epoch {event['epoch']}/{event['epochs']}: loss {event['loss']:.4f}, accuracy "
                f"{event['accuracy']:.3f}" + (f", val accuracy {val:.3f}" if val is not None else "")
                + f", {event['seconds']:.1f} s" + ("  ★ best" if event.get("best") else ""))
    if kind == "checkpoint":
        return f"checkpoint ({event['kind']}) at epoch {event['epoch']}, step {event['step']}"
    if kind == "warning":
        return f"warning: {event['message']}"
    if kind == "error":
        return f"error ({event['category']}): {event['message']}"
    if kind == "finished":
        return f"finished: {event['status']} after {event['epochs_completed']} epoch(s), {event['seconds']:.0f} s"
    if kind in ("lr_find", "dry_run"):
        return f"{kind}: " + ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("v", "event", "time"))
    return None


@functools.lru_cache(maxsize=1)
def local_gpus() -> list[str]:
    """GPU names from nvidia-smi (no TensorFlow in the window); [] when there is none."""
    import shutil
    import subprocess

    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        out = subprocess.run([tool, "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
