"""Progress and cancellation for long data tasks (scan, statistics).

A task is a plain function taking a `TaskState`: it reports with `state.update(...)` and
stops when `state.cancelled` is set. The GUI runs the function in a thread worker and calls
`state.cancel()`; the CLI wraps a tqdm bar in the callback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cnnstudio.errors import DatasetError


class TaskCancelled(DatasetError):
    """The user cancelled the task."""


class TaskState:
    """Done/total counters, a message and a cancel flag, shared between a task and its caller."""

    def __init__(self, callback: Callable[[TaskState], Any] | None = None, min_interval: float = 0.05):
        self.callback = callback
        self.min_interval = min_interval  # seconds between callbacks (the GUI redraws at most this often)
        self.done = 0
        self.total = 0
        self.message = ""
        self._cancel = threading.Event()
        self._last = 0.0
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def check(self) -> None:
        """Raise TaskCancelled if the caller asked to stop."""
        if self._cancel.is_set():
            raise TaskCancelled("cancelled by the user; nothing was changed.")

    def update(self, done: int | None = None, total: int | None = None, message: str | None = None,
               advance: int = 0, force: bool = False) -> None:
        with self._lock:
            if total is not None:
                self.total = total
            if done is not None:
                self.done = done
            self.done += advance
            if message is not None:
                self.message = message
            now = time.monotonic()
            due = force or now - self._last >= self.min_interval or (self.total and self.done >= self.total)
            if not due or self.callback is None:
                return
            self._last = now
        self.callback(self)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def as_state(progress: TaskState | Callable[[TaskState], Any] | None) -> TaskState:
    """Accept a TaskState, a callback taking one, or None."""
    if isinstance(progress, TaskState):
        return progress
    return TaskState(progress)
