"""The window the GUI benchmarks measure: a tiny project (Input → Flatten → Dense) shown at
1440×900 on one section, with saving never asked."""

from __future__ import annotations


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
