"""What the GUI benchmarks share: the window they measure (a tiny project, Input → Flatten →
Dense, shown at 1440×900 on one section, saving never asked) and the event-loop stall probe."""

from __future__ import annotations

import time


def open_bench_window(section: str, classes: int):
    """(the QApplication, the shown MainWindow on `section`)."""
    from cnnstudio.graph.model import Graph
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import Project

    app = _application()
    graph = Graph(name="bench")
    graph.add_layer("Input", name="input", height=32, width=32, channels=3)
    graph.add_layer("Flatten", ["input"], name="flat")
    graph.add_layer("Dense", ["flat"], name="out", units=classes, activation="softmax")
    window = MainWindow(Project(graph=graph, name="bench"))
    window.ask_save = lambda: "discard"
    window.resize(1440, 900)
    window.show()
    window.show_section(section)
    return app, window


class StallProbe:
    """A 10 ms QTimer; `worst` is the longest extra wait between two ticks (seconds): how long the
    event loop was kept from running."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.last: float | None = None
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.worst = max(self.worst, now - self.last - 0.010)
        self.last = now

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
