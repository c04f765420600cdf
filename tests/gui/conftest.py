"""GUI test set-up: a private settings/recovery folder and a window factory."""

from __future__ import annotations

import pytest

from cnnstudio.graph.model import Graph
from cnnstudio.project.file import Project

# The offscreen platform cannot resize native windows and says so on every show; that is
# the test platform talking, not the app.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gui" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("CNNSTUDIO_HOME", str(home))
    return home


def lenet_graph() -> Graph:
    g = Graph(name="lenet")
    g.add_layer("Input", name="input", height=32, width=32, channels=1)
    g.add_layer("Conv2D", ["input"], name="c1", group="features", filters=6, kernel_size=5, activation="tanh")
    g.add_layer("AvgPool2D", ["c1"], name="s2", group="features")
    g.add_layer("Flatten", ["s2"], name="flat")
    g.add_layer("Dense", ["flat"], name="out", units=10, activation="softmax")
    return g


@pytest.fixture
def window(qtbot):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow

    _application()
    win = MainWindow(Project(graph=lenet_graph(), name="LeNet"))
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
