"""The Qt side of the TensorFlow helper process (cnnstudio/helpers/panel_helper.py).

One child process per window, started on the first request. Requests run one at a time;
a request with a `key` replaces a queued one with the same key, so dragging a slider asks
only for the latest preview.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment

from cnnstudio.gui.panels.common import child_environment, python_command

Callback = Callable[[dict[str, Any]], None]


class Helper(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self.queue: list[tuple[str | None, dict[str, Any], Callback]] = []
        self.current: tuple[int, Callback] | None = None
        self._ids = itertools.count(1)
        self._buffer = b""
        self.log: list[str] = []

    def request(self, op: str, payload: dict[str, Any], callback: Callback, key: str | None = None) -> None:
        if key is not None:
            self.queue = [entry for entry in self.queue if entry[0] != key]
        self.queue.append((key, {"op": op, **payload}, callback))
        self._next()

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.queue)

    def _start(self) -> None:
        process = QProcess(self)
        environment = QProcessEnvironment()
        for name, value in child_environment().items():
            environment.insert(name, value)
        process.setProcessEnvironment(environment)
        process.readyReadStandardOutput.connect(self._read)
        process.readyReadStandardError.connect(self._read_log)
        process.finished.connect(self._died)
        command = python_command("-m", "cnnstudio.helpers.panel_helper")
        process.start(command[0], command[1:])
        self.process = process

    def _next(self) -> None:
        if self.current is not None or not self.queue:
            return
        if self.process is None or self.process.state() == QProcess.ProcessState.NotRunning:
            self._start()
        _key, request, callback = self.queue.pop(0)
        number = next(self._ids)
        self.current = (number, callback)
        self.process.write((json.dumps({**request, "id": number}) + "\n").encode())

    def _read(self) -> None:
        if self.process is None:
            return
        self._buffer += bytes(self.process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                continue
            if self.current is not None and answer.get("id") == self.current[0]:
                callback = self.current[1]
                self.current = None
                callback(answer)
        self._next()

    def _read_log(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError().data()).decode(errors="replace")
        self.log = (self.log + text.splitlines())[-200:]

    def _died(self, code: int, _status) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.deleteLater()
        if self.current is not None:
            callback = self.current[1]
            self.current = None
            detail = self.log[-1] if self.log else f"exit status {code}"
            callback({"ok": False, "error": f"the preview helper stopped ({detail})"})
        self._next()

    def shutdown(self) -> None:
        """End the child: close its input (it exits), then kill if it lingers."""
        self.queue.clear()
        self.current = None
        process, self.process = self.process, None
        if process is None:
            return
        process.finished.disconnect(self._died)
        process.closeWriteChannel()
        if not process.waitForFinished(3000):
            process.kill()
            process.waitForFinished(2000)
        process.deleteLater()


def helper_for(window: QObject) -> Helper:
    """The window's shared helper (created on first use)."""
    helper = getattr(window, "_panels_helper", None)
    if helper is None:
        helper = Helper(window)
        window._panels_helper = helper
    return helper
