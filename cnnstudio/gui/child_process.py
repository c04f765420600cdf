"""One-shot child processes of the window (`cnnstudio export`, `import-keras`, fine-tuning).

Every child runs with the same environment (child_environment: TensorFlow's start-up noise
off) and reports once, with its whole output, through `finished`. The window never waits on
one; closing it kills what is still running.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal


def python_command(*module_args: str) -> list[str]:
    """A child Python running a module of this installation (never a fork of the window)."""
    return [sys.executable, *module_args]


def cli_command(*args: str) -> list[str]:
    return python_command("-m", "cnnstudio", *args)


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


def process_environment(extra: dict[str, str] | None = None) -> QProcessEnvironment:
    environment = QProcessEnvironment()
    for name, value in child_environment(extra).items():
        environment.insert(name, value)
    return environment


@dataclass
class ChildResult:
    code: int
    crashed: bool
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0 and not self.crashed

    def error_line(self) -> str:
        """The CLI's `error: ...` line (without the prefix), else the last line of stderr, else the status."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        for line in reversed(lines):
            if line.startswith("error:"):
                return line.removeprefix("error:").strip()
        if lines:
            return lines[-1]
        return "the process was killed" if self.crashed else f"exit status {self.code}"


class ChildProcess(QObject):
    """Run `command` once; `finished(ChildResult)` when it ends (also when it cannot start)."""

    finished = Signal(object)

    def __init__(self, command: list[str], parent: QObject | None = None, env: dict[str, str] | None = None):
        super().__init__(parent)
        self.command = list(command)
        self.process: QProcess | None = QProcess(self)
        self.process.setProcessEnvironment(process_environment(env))
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self) -> ChildProcess:
        assert self.process is not None
        self.process.start(self.command[0], self.command[1:])
        return self

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            message = f"could not start {self.command[0]}: {self.process.errorString()}"
            self._report(ChildResult(-1, True, "", f"error: {message}"))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process = self.process
        if process is None:
            return
        out = bytes(process.readAllStandardOutput().data()).decode(errors="replace")
        err = bytes(process.readAllStandardError().data()).decode(errors="replace")
        self._report(ChildResult(int(code), status == QProcess.ExitStatus.CrashExit, out, err))

    def _report(self, result: ChildResult) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.finished.disconnect(self._finished)
            process.deleteLater()
        self.finished.emit(result)
        self.deleteLater()

    def kill(self, wait_ms: int = 3000) -> None:
        """Stop it now (window closing); `finished` is not emitted."""
        process, self.process = self.process, None
        if process is None:
            return
        process.finished.disconnect(self._finished)
        process.errorOccurred.disconnect(self._error)
        process.kill()
        process.waitForFinished(wait_ms)
        process.deleteLater()


def run_child(command: list[str], done: Callable[[ChildResult], None], parent: QObject,
              env: dict[str, str] | None = None) -> ChildProcess:
    """Start `command` as a child; `done(result)` runs on the GUI thread when it ends."""
    child = ChildProcess(command, parent, env)
    child.finished.connect(done)
    return child.start()
