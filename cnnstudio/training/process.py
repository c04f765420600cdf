"""Start the worker as its own process and read its events (the CLI's client; pure Python).

The GUI does the same with QProcess: the command line is `worker_command(job_file)`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnnstudio.training.events import ProtocolError, parse_event


def worker_command(job_file: str | os.PathLike) -> list[str]:
    return [sys.executable, "-m", "cnnstudio.training.worker", str(job_file)]


class WorkerProcess:
    """A running worker: iterate `events()`, then `wait()`; `stop()` asks it to finish."""

    def __init__(self, job_file: str | os.PathLike, env: dict[str, str] | None = None,
                 stderr: Any = None, cwd: str | os.PathLike | None = None, own_session: bool = False):
        environment = {**os.environ, **(env or {})}
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.process = subprocess.Popen(
            worker_command(job_file), stdout=subprocess.PIPE, stderr=stderr, env=environment, text=True,
            encoding="utf-8", errors="replace", cwd=cwd,
            # In its own session a terminal's Ctrl-C reaches only us; we forward it once.
            start_new_session=own_session,
        )
        self.raw_lines: list[str] = []  # stdout lines that were not events (should stay empty)

    @property
    def pid(self) -> int:
        return self.process.pid

    def events(self) -> Iterator[dict[str, Any]]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                yield parse_event(line)
            except ProtocolError:
                if line.strip():
                    self.raw_lines.append(line)

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def stop(self, grace: float = 60.0, terminate_after: float = 10.0) -> None:
        """Graceful stop (checkpoint), then terminate, then kill, each after its wait."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)

        def escalate() -> None:
            try:
                self.process.wait(grace)
                return
            except subprocess.TimeoutExpired:
                self.process.terminate()
            try:
                self.process.wait(terminate_after)
            except subprocess.TimeoutExpired:
                self.process.kill()

        threading.Thread(target=escalate, daemon=True).start()

    def signal(self, signum: int = signal.SIGINT) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def request_stop(run_dir: str | os.PathLike) -> None:
    """Ask the worker of `run_dir` to stop gracefully, from any process (creates RUN_DIR/STOP)."""
    Path(run_dir, "STOP").touch()
