"""The training worker as a QProcess: JSON-lines events in, graceful stop out.

Events are parsed with cnnstudio.training.events.parse_event and handed over in batches
(one list per read), so a worker printing at full rate costs one signal per chunk, not one
per line. Standard error (TensorFlow's noise) is kept apart for the details view.
Stop: SIGINT and RUN_DIR/STOP, then terminate after GRACE_MS, then kill after KILL_MS.

On POSIX the worker runs under a tiny launcher in its own process group: signals go through
it, a kill takes the whole group, and `release()` (the window closes, training goes on)
ends only the launcher, so the worker outlives the window and keeps writing its run folder.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from cnnstudio.gui.child_process import process_environment
from cnnstudio.training.events import ProtocolError, parse_event

GRACE_MS = 30_000
CHUNK_BYTES = 64 * 1024
KILL_MS = 5_000

# Runs the worker in a process group of its own and forwards SIGINT/SIGTERM to it; exits
# the way the worker did. Killing only this launcher leaves the worker running.
LAUNCHER = """
import os, signal, subprocess, sys
os.setpgrp()
child = subprocess.Popen(sys.argv[1:])
def forward(signum, _frame):
    try:
        child.send_signal(signum)
    except OSError:
        pass
for name in ("SIGINT", "SIGTERM"):
    signal.signal(getattr(signal, name), forward)
code = child.wait()
if code < 0:  # end the way the worker ended, so the window sees a crash as a crash
    try:
        signal.signal(-code, signal.SIG_DFL)
    except (OSError, ValueError):
        pass  # SIGKILL's handler cannot be set (it is the default anyway)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def launched(command: list[str]) -> list[str]:
    """`command` under the launcher (POSIX); as it is elsewhere."""
    if os.name != "posix":
        return list(command)
    return [sys.executable, "-c", LAUNCHER, *command]


def new_run(project_path: Path) -> tuple[Path, list[str]]:
    """A new run directory beside the project (its job file written) and the worker command."""
    from cnnstudio.training.console import default_run_dir
    from cnnstudio.training.job import Job
    from cnnstudio.training.process import worker_command

    run_dir = default_run_dir(project_path)
    run_dir.mkdir(parents=True, exist_ok=True)
    job = Job(project=str(Path(project_path).resolve()), run_dir=str(run_dir.resolve()))
    return run_dir, worker_command(job.save(run_dir / "job.json"))


def resume_run(run_dir: Path) -> list[str]:
    """The worker command that continues RUN_DIR from its last checkpoint (resume-job.json)."""
    from cnnstudio.training.job import Job, load_job
    from cnnstudio.training.process import worker_command

    original = load_job(run_dir / "job.json")
    job = Job(project=original.project, run_dir=str(run_dir), mode="resume")
    return worker_command(job.save(run_dir / "resume-job.json"))


class WorkerClient(QObject):
    events = Signal(list)  # parsed events of one read
    stderr = Signal(str)
    state_changed = Signal(str)  # idle, running, stopping
    exited = Signal(int, bool)  # exit code, crashed (killed by a signal)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self.run_dir: Path | None = None
        self.state = "idle"
        self._buffer = b""
        self._more_pending = False
        self.raw_lines: list[str] = []  # stdout lines that were not events
        self._escalate = QTimer(self)
        self._escalate.setSingleShot(True)
        self._escalate.timeout.connect(self._escalate_stop)

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, command: list[str], run_dir: Path | None = None, env: dict[str, str] | None = None) -> None:
        if self.process is not None:
            raise RuntimeError("a worker is already running")
        self.run_dir = run_dir
        self._buffer = b""
        self.raw_lines = []
        process = QProcess(self)
        process.setProcessEnvironment(process_environment(env))
        process.readyReadStandardOutput.connect(self._read)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self.process = process
        self._set_state("running")
        command = launched(command)
        process.start(command[0], command[1:])

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    def _read(self) -> None:
        if self.process is None:
            return
        # A bounded chunk per turn of the event loop: a worker printing at full rate must not
        # keep the window busy parsing for long; the rest is read on the next turn.
        self._buffer += bytes(self.process.read(CHUNK_BYTES).data())
        if self.process.bytesAvailable() > 0 and not self._more_pending:
            self._more_pending = True
            QTimer.singleShot(0, self._read_more)
        if b"\n" not in self._buffer:
            return
        *lines, self._buffer = self._buffer.split(b"\n")
        parsed = []
        for line in lines:
            try:
                parsed.append(parse_event(line))
            except ProtocolError:
                if line.strip():
                    self.raw_lines.append(line.decode(errors="replace"))
        if parsed:
            self.events.emit(parsed)

    def _read_more(self) -> None:
        self._more_pending = False
        self._read()

    def _read_stderr(self) -> None:
        if self.process is not None:
            text = bytes(self.process.readAllStandardError().data()).decode(errors="replace")
            if text:
                self.stderr.emit(text)

    def _error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            self.stderr.emit(f"the worker could not start: {self.process.errorString()}\n")
            self._finished(-1, QProcess.ExitStatus.CrashExit)

    def _finished(self, code: int, status) -> None:
        if self.process is None:
            return
        self._exit = (int(code), status == QProcess.ExitStatus.CrashExit)
        self._escalate.stop()
        self._drain()

    def _drain(self) -> None:
        """Read what the worker left in the pipe, a chunk per event-loop turn, then report the exit."""
        process = self.process
        if process is None:
            return
        if process.bytesAvailable() > 0:
            self._read()
            QTimer.singleShot(0, self._drain)
            return
        if self._buffer.strip():
            self._buffer += b"\n"
            self._read()
        self._read_stderr()
        self.process = None
        process.deleteLater()
        self._set_state("idle")
        self.exited.emit(*self._exit)

    # ---- stopping -------------------------------------------------------------------------
    def stop(self, grace_ms: int = GRACE_MS) -> None:
        """Graceful: SIGINT (and the STOP file); terminate after grace_ms, kill after KILL_MS more."""
        if self.process is None or self.state == "stopping":
            return
        self._set_state("stopping")
        if self.run_dir is not None:
            try:
                (Path(self.run_dir) / "STOP").touch()
            except OSError:
                pass  # the signal alone is enough
        pid = self.process.processId()
        if pid and hasattr(signal, "SIGINT") and os.name != "nt":
            os.kill(pid, signal.SIGINT)
        self._stage = "terminate"
        self._escalate.start(grace_ms)

    def _escalate_stop(self) -> None:
        if self.process is None:
            return
        if self._stage == "terminate":
            self.process.terminate()
            self._stage = "kill"
            self._escalate.start(KILL_MS)
        else:
            self.kill()

    def kill(self) -> None:
        if self.process is None:
            return
        pid = self.process.processId()
        if pid and os.name == "posix":
            try:
                os.killpg(pid, signal.SIGKILL)  # the launcher and the worker
                return
            except OSError:
                pass  # the group is gone already (or not ours): fall back to the process
        self.process.kill()

    def release(self) -> None:
        """Let the worker train on after the window closes: stop listening and end only the launcher."""
        process, self.process = self.process, None
        if process is None:
            return
        self._escalate.stop()
        for signal_ in (process.readyReadStandardOutput, process.readyReadStandardError, process.finished,
                        process.errorOccurred):
            signal_.disconnect()
        process.kill()  # SIGKILL to the launcher alone; the worker has its own process group
        process.waitForFinished(3000)
        process.deleteLater()
        self._set_state("idle")

    def shutdown(self, wait_ms: int = 15_000) -> None:
        """Window closing: stop gracefully and wait; kill what is left."""
        process = self.process
        if process is None:
            return
        self.stop()
        if not process.waitForFinished(wait_ms):
            self.kill()
            process.waitForFinished(3000)
