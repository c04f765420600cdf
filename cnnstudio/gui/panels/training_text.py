"""Words of the Training panel: event-log lines, failure titles and fixes, durations, local GPUs (no Qt)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
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
        # The event counts completed epochs and the step reached in the next one; say it 1-based.
        if int(event["step"]) == 0:
            return f"checkpoint ({event['kind']}) after epoch {event['epoch']}"
        return f"checkpoint ({event['kind']}) in epoch {int(event['epoch']) + 1}, step {event['step']}"
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
    """A run's or an estimate's length, the same words everywhere (Training, Runs): 4.2s, 37s, 3m 05s."""
    seconds = max(float(seconds), 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def log_lines(run_dir: Path, limit: int = LOG_LINES) -> list[str]:
    """The event log of a run from its events.jsonl (what the panel showed while it ran)."""
    import time

    out: list[str] = []
    try:
        with (Path(run_dir) / "events.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                if '"event":"batch"' in line or '"event": "batch"' in line:
                    continue
                try:
                    event = json.loads(line)
                    text = describe(event)
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by a kill, or an event of another version
                if text:
                    stamp = time.strftime("%H:%M:%S", time.localtime(float(event.get("time") or 0)))
                    out.append(f"{stamp}  {text}")
    except OSError:
        return []
    return out[-limit:]


@dataclass(frozen=True)
class Fix:
    """What the failure banner offers instead of (or beside) Resume."""

    button: str
    tip: str
    section: str = ""  # open this section
    setting: tuple[str, Callable[[Any], Any]] | None = None  # training setting and how to change it
    resumable: bool = True  # resuming the same run can succeed without the fix


FIXES = {
    "data_error": Fix("Open Data", "The images or the split are the problem: fix them in the Data section, then "
                      "Start a new run.", section="Data", resumable=False),
    "invalid_architecture": Fix("Open Architecture", "The network cannot be built: the Architecture section "
                                "shows the layer at fault.", section="Architecture", resumable=False),
    "out_of_memory": Fix("Halve batch size", "Set the batch size to half (undo with Ctrl+Z), then Start again.",
                         setting=("batch_size", lambda value: max(1, int(value or 2) // 2))),
    "nan_loss": Fix("Lower learning rate", "Divide the learning rate by 10 (undo with Ctrl+Z), then Start again.",
                    setting=("learning_rate", lambda value: float(value or 1e-3) / 10), resumable=False),
}


def fix_for(category: str) -> Fix | None:
    return FIXES.get(category)
