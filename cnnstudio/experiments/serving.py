"""Persistent trial workers: one `python -m cnnstudio.training.worker --serve` process runs
trial after trial in its slot, so TensorFlow is imported once per slot instead of once per trial.

The jobs, run directories and events are those of a fresh worker. A process is handed the
next trial only when its last one completed untouched (exit status 0, never signalled);
after a failure, a stop or a kill the scheduler starts a fresh one.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from cnnstudio.training.events import ProtocolError, parse_event

SERVED = "served"  # cnnstudio.training.worker.SERVED (not imported: that module pulls in numpy)


def slot_key(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Processes started with the same environment (devices, threads) are interchangeable."""
    return tuple(sorted(env.items()))


class ServingWorker:
    """A --serve worker process; `submit` hands it a job file, whose events go to the queue as
    (number, event), then (number, None) once the job is over or the process ended."""

    def __init__(self, env: dict[str, str], stderr: IO[str] | None):
        environment = {**os.environ, **env}
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.key = slot_key(env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cnnstudio.training.worker", "--serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr, env=environment, text=True, encoding="utf-8",
            errors="replace", start_new_session=True)
        self._lock = threading.Lock()
        self._number: int | None = None  # the trial being served
        self._events: queue.Queue | None = None
        self._closed = False  # its output ended: the process is gone
        self.status: int | None = None  # the last job's exit status
        self.done = threading.Event()
        self.signalled = False
        threading.Thread(target=self._read, name=f"serving-{self.process.pid}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        with self._lock:
            return not self._closed and self.process.poll() is None

    def submit(self, number: int, job_file: Path, events: queue.Queue) -> ServedJob | None:
        """Start a job; None if the process has already ended (start a fresh one instead)."""
        with self._lock:
            if self._closed or self.process.poll() is not None:
                return None
            self._number, self._events = number, events
            self.status, self.signalled = None, False
            self.done.clear()
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(f"{job_file}\n")
            self.process.stdin.flush()
        except OSError:  # it died just now: its reader reports the end, unless it already has
            self._end_job(self.process.poll())
        return ServedJob(self)

    def _end_job(self, status: int | None) -> None:
        with self._lock:
            number, events = self._number, self._events
            self._number = None
            if number is None:
                return
            self.status = status
            self.done.set()
        assert events is not None
        events.put((number, None))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(SERVED + " "):
                try:
                    status = int(line.split()[1])
                except (IndexError, ValueError):
                    status = 1
                self._end_job(status)
                continue
            try:
                event = parse_event(line)
            except ProtocolError:
                continue
            with self._lock:
                number, events = self._number, self._events
            if number is not None and events is not None:
                events.put((number, event))
        code = self.process.wait()
        with self._lock:
            self._closed = True
        self._end_job(code)

    def close(self, grace: float = 10.0) -> None:
        """End the process: end of input lets an idle one exit; a busy or stuck one is killed."""
        if self.process.poll() is None:
            with self._lock:
                busy = self._number is not None
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
            except OSError:
                pass
            if busy:
                self.process.kill()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


class ServedJob:
    """One trial on a ServingWorker, with what TrialWorker needs of a worker process."""

    def __init__(self, server: ServingWorker):
        self.server = server

    @property
    def pid(self) -> int:
        return self.server.pid

    def wait(self, timeout: float | None = None) -> int:
        if not self.server.done.wait(timeout):
            raise subprocess.TimeoutExpired(self.server.process.args, timeout or 0)
        status = self.server.status
        return status if status is not None else -1

    def signal(self, signum: int = signal.SIGINT) -> None:
        self.server.signalled = True
        if self.server.process.poll() is None:
            self.server.process.send_signal(signum)

    def kill(self) -> None:
        self.server.close(grace=0.0)

    def reusable(self, finished: dict[str, Any] | None) -> bool:
        """Whether the process may run the next trial: this one completed, unsignalled, status 0."""
        return (self.server.done.is_set() and self.server.status == 0 and not self.server.signalled
                and (finished or {}).get("status") == "completed" and self.server.alive())
