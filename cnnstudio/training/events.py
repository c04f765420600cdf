"""The worker's event protocol: one JSON object per line, versioned. Pure Python.

How a client talks to the worker
--------------------------------
Start ``python -m cnnstudio.training.worker JOB.json`` as a new process (QProcess or
subprocess; never fork the GUI). The worker writes **only events** on its standard output,
one JSON object per line, UTF-8, flushed after each line. Everything else (TensorFlow's
C++ logs, Python warnings, stray prints) goes to standard error: the worker moves file
descriptor 1 onto 2 at start-up and keeps a private copy of the original stdout for
events. The same lines are appended to ``RUN_DIR/events.jsonl`` so a client can re-attach.

To stop gracefully, send SIGINT or SIGTERM (or create the file ``RUN_DIR/STOP``): the
worker finishes the current step, writes a checkpoint, emits ``finished`` with status
``stopped`` and exits 0. If it has not exited after a grace period, terminate, then kill.
Exit codes: 0 completed or stopped, 1 failed (an ``error`` event says why), 2 bad job.

Every event has ``v`` (PROTOCOL_VERSION), ``event`` (one of EVENTS), ``time`` (Unix
seconds) and the fields listed in EVENTS[event]. A minor revision (PROTOCOL_REVISION) adds
fields, listed in ADDED_FIELDS: the worker always writes them, a client must accept events
without them (a log written by an older worker) and must ignore fields it does not know.
A change that removes or renames a field bumps PROTOCOL_VERSION.

Fields per event:
- started: run_dir, mode (train/resume/lr_find/dry_run), strategy, replicas, devices (list
  of names), workers, worker_index, total_params, trainable_params, epochs, start_epoch,
  steps_per_epoch, batch_size, class_names, train_examples, val_examples; since revision 2:
  protocol_revision
- batch (throttled, ~4 per second): epoch (1-based), step (within the epoch, 1-based),
  steps, global_step, loss, accuracy (running means over the epoch so far), lr,
  images_per_second
- epoch: epoch, epochs, loss, accuracy, val_loss, val_accuracy (null without a validation
  set), lr, seconds, per_class_accuracy (list, validation), confusion_matrix (rows = true
  class, columns = predicted; validation), best (bool: this epoch is the best so far);
  since revision 2: val_balanced_accuracy (mean per-class recall), val_macro_f1 (mean
  per-class F1), both null without a validation set, and best_metric_name (what `best`
  and the run's best_metric compare: "validation accuracy", "balanced accuracy",
  "macro-F1" or "training accuracy")
- checkpoint: kind (last/best/stop), path, epoch, step
- warning: message, code (short identifier)
- error: category (one of ERROR_CATEGORIES), message (what to do), detail (technical)
- lr_find: learning_rates, losses, suggested_lr
- dry_run: steps, step_seconds, images_per_second, peak_memory_bytes, device
- finished: status (completed/stopped/failed), epochs_completed, best_metric, best_epoch,
  model_path (null unless completed), seconds
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import IO, Any

PROTOCOL_VERSION = 1
PROTOCOL_REVISION = 2

EVENTS: dict[str, tuple[str, ...]] = {
    "started": ("run_dir", "mode", "strategy", "replicas", "devices", "workers", "worker_index",
                "total_params", "trainable_params", "epochs", "start_epoch", "steps_per_epoch",
                "batch_size", "class_names", "train_examples", "val_examples"),
    "batch": ("epoch", "step", "steps", "global_step", "loss", "accuracy", "lr", "images_per_second"),
    "epoch": ("epoch", "epochs", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds",
              "per_class_accuracy", "confusion_matrix", "best"),
    "checkpoint": ("kind", "path", "epoch", "step"),
    "warning": ("message", "code"),
    "error": ("category", "message", "detail"),
    "lr_find": ("learning_rates", "losses", "suggested_lr"),
    "dry_run": ("steps", "step_seconds", "images_per_second", "peak_memory_bytes", "device"),
    "finished": ("status", "epochs_completed", "best_metric", "best_epoch", "model_path", "seconds"),
}

#: Fields added by each minor revision: written always, optional when reading.
ADDED_FIELDS: dict[int, dict[str, tuple[str, ...]]] = {
    2: {"started": ("protocol_revision",),
        "epoch": ("val_balanced_accuracy", "val_macro_f1", "best_metric_name")},
}


def fields_of(name: str) -> tuple[str, ...]:
    """Every field the current worker writes for event `name` (EVENTS plus the revisions' additions)."""
    added = tuple(f for revision in sorted(ADDED_FIELDS) for f in ADDED_FIELDS[revision].get(name, ()))
    return EVENTS[name] + added


ERROR_CATEGORIES = ("out_of_memory", "nan_loss", "data_error", "invalid_architecture", "other")
FINISHED_STATUSES = ("completed", "stopped", "failed")

#: Minimum seconds between two batch events (about 4 per second).
BATCH_INTERVAL = 0.25


class ProtocolError(ValueError):
    """A line that is not a valid event of this protocol version."""


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/Inf become null (JSON has no NaN), numpy scalars become numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        return _clean(value.tolist())
    return value


def make_event(name: str, **fields: Any) -> dict[str, Any]:
    """An event dict with every declared field present (missing ones raise)."""
    if name not in EVENTS:
        raise ProtocolError(f"unknown event {name!r}; known: {', '.join(EVENTS)}")
    missing = [f for f in fields_of(name) if f not in fields]
    if missing:
        raise ProtocolError(f"event {name!r} lacks field(s) {', '.join(missing)}")
    if name == "error" and fields["category"] not in ERROR_CATEGORIES:
        raise ProtocolError(f"error category {fields['category']!r} is not one of {ERROR_CATEGORIES}")
    if name == "finished" and fields["status"] not in FINISHED_STATUSES:
        raise ProtocolError(f"finished status {fields['status']!r} is not one of {FINISHED_STATUSES}")
    return {"v": PROTOCOL_VERSION, "event": name, "time": round(time.time(), 3), **_clean(fields)}


def encode(event: dict[str, Any]) -> str:
    """One line of the protocol (no trailing newline)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def parse_event(line: str | bytes) -> dict[str, Any]:
    """Decode one line; raises ProtocolError for non-events or another major version."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line:
        raise ProtocolError("empty line")
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc.msg}") from None
    if not isinstance(event, dict) or "event" not in event or "v" not in event:
        raise ProtocolError("not an event object (needs 'v' and 'event')")
    if event["v"] != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {event['v']!r}; this client reads {PROTOCOL_VERSION}")
    if event["event"] not in EVENTS:
        raise ProtocolError(f"unknown event {event['event']!r}")
    missing = [f for f in EVENTS[event["event"]] if f not in event]
    if missing:
        raise ProtocolError(f"event {event['event']!r} lacks field(s) {', '.join(missing)}")
    return event


@dataclass
class EventWriter:
    """Writes events to a stream (flushed per line) and optionally to a log file."""

    stream: IO[str] | None
    log: IO[str] | None = None
    sinks: list[Any] = field(default_factory=list)  # extra callables taking the event dict

    def emit(self, name: str, **fields: Any) -> dict[str, Any]:
        event = make_event(name, **fields)
        line = encode(event) + "\n"
        for target in (self.stream, self.log):
            if target is not None:
                try:
                    target.write(line)
                    target.flush()
                except (BrokenPipeError, ValueError, OSError):
                    pass  # the reader went away; training goes on, the run dir keeps the record
        for sink in self.sinks:
            sink(event)
        return event


class Throttle:
    """True at most once per `interval` seconds (the first call is always True)."""

    def __init__(self, interval: float = BATCH_INTERVAL, clock=time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        now = self._clock()
        if self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False
