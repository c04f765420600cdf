"""The Qt side of the inspection helper process (cnnstudio/inspect/service.py).

The panel's own long-lived child (separate from the preview helper, so a slow embedding never
queues behind a preview and each keeps its own model cache). Progress lines of the running
request arrive through `progress(fraction, message)`.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QProcess, Signal

from cnnstudio.gui.child_process import process_environment, python_command
from cnnstudio.gui.panels.helper import Helper


class InspectHelper(Helper):
    progress = Signal(float, str)

    def _start(self) -> None:
        process = QProcess(self)
        process.setProcessEnvironment(process_environment())
        process.readyReadStandardOutput.connect(self._read)
        process.readyReadStandardError.connect(self._read_log)
        process.finished.connect(self._died)
        command = python_command("-m", "cnnstudio.inspect.service")
        process.start(command[0], command[1:])
        self.process = process

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
            if self.current is None or answer.get("id") != self.current[0]:
                continue
            if "progress" in answer:
                self.progress.emit(float(answer["progress"]), str(answer.get("message", "")))
                continue
            callback = self.current[1]
            self.current = None
            callback(answer)
        self._next()
