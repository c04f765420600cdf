"""The Inside section's links: a confusion-cell tile opens in it (the run as source), and the
embedding map's lasso and clicked point outline their cells in its confusion matrix."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
WAIT = 120_000  # the helper process starts TensorFlow on first use


def _point_in_cell(matrix, cell: tuple[int, int]) -> QPoint:
    """A pixel of the matrix widget inside `cell` (found through the widget's own hit test)."""
    for y in range(0, matrix.height(), 3):
        for x in range(0, matrix.width(), 3):
            if matrix.cell_at(x, y) == cell and matrix.cell_at(x + 4, y + 4) == cell:
                return QPoint(x + 2, y + 2)
    raise AssertionError(f"cell {cell} is not on screen")


def _wait_laid_out(qtbot, dialog, row: int) -> None:
    """The dialog is shown and its icon view has placed tile `row` (it lays tiles out after showing)."""
    qtbot.waitExposed(dialog)
    view = dialog.list
    qtbot.waitUntil(lambda: view.indexAt(view.visualItemRect(view.item(row)).center()).row() == row, timeout=5000)


def test_look_inside_from_a_confusion_cell(qtbot, inspect_run, tmp_path, monkeypatch):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.gui.panels.cell_dialog import CellDialog
    from cnnstudio.project.file import load_project

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    shutil.copy(inspect_run.parent / "tiny.cnnproj", tmp_path / "tiny.cnnproj")
    run_dir = tmp_path / "runs" / "run-1"
    shutil.copytree(inspect_run, run_dir)
    _application()
    window = MainWindow(load_project(tmp_path / "tiny.cnnproj"))
    window.ask_save = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.show_section("Training")
    training = window.sections["Training"]
    qtbot.waitUntil(lambda: bool(training.matrix.matrix), timeout=10_000)  # the saved run's last epoch
    matrix = training.matrix.matrix
    cell = next((r, c) for r in range(len(matrix)) for c in range(len(matrix)) if matrix[r][c] >= 2)
    qtbot.mouseClick(training.matrix, Qt.MouseButton.LeftButton, pos=_point_in_cell(training.matrix, cell))
    qtbot.waitUntil(lambda: any(d.isVisible() for d in training.findChildren(CellDialog)), timeout=5000)
    dialog = next(d for d in training.findChildren(CellDialog) if d.isVisible())
    _wait_laid_out(qtbot, dialog, 0)
    assert dialog.list.count() == matrix[cell[0]][cell[1]]
    assert dialog.look_button.isVisible() and not dialog.look_button.isEnabled()  # nothing selected yet
    first = dialog.list.item(0)
    image = first.data(Qt.ItemDataRole.UserRole)
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=dialog.list.visualItemRect(first).center())
    assert dialog.look_button.isEnabled()
    dialog.grab().save(str(tmp_path / "cell-dialog.png"))
    qtbot.mouseClick(dialog.look_button, Qt.MouseButton.LeftButton)

    inside = window.sections["Inside"]
    assert window.stack.currentWidget() is inside and window.rail.currentItem().toolTip() == "Inside"
    assert not dialog.isVisible()  # the dialog made way for the section
    assert inside.image == image
    assert inside.source_kind == "run" and inside.source_path == str(run_dir)
    assert inside.checkpoint.currentData() == "last"  # the checkpoint whose predictions the dialog showed
    assert inside.tabs.currentWidget() is inside.maps
    qtbot.waitUntil(lambda: inside.maps.current is not None and not inside.maps.grid.pixmap().isNull(),
                    timeout=WAIT)
    window.grab().save(str(tmp_path / "inside.png"))

    # Another tile: a double-click opens it too; the source stays, the image follows.
    window.show_section("Training")
    dialog = training.open_cell(*cell)
    second = dialog.list.item(1)
    _wait_laid_out(qtbot, dialog, 1)
    spot = dialog.list.visualItemRect(second).center()
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=spot)  # a double-click's first press
    qtbot.mouseDClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert window.stack.currentWidget() is inside and inside.image == second.data(Qt.ItemDataRole.UserRole)
    assert not dialog.isVisible()

    # The tile's context menu offers it as well.
    window.show_section("Training")
    dialog = training.open_cell(*cell)
    _wait_laid_out(qtbot, dialog, 0)
    menu = dialog.tile_menu(dialog.list.item(0))
    look = next(a for a in menu.actions() if a.text() == "Look inside")
    assert look.isEnabled()
    look.trigger()
    assert window.stack.currentWidget() is inside and inside.image == image

    # A run that is not a source of the Inside section: said, nothing changed.
    assert not inside.look_at(image, str(tmp_path / "runs" / "no-such-run"))
    assert "no-such-run" in inside.status.text() and inside.source_path == str(run_dir)
    window.close()


# ---- the embedding map and its confusion matrix (no helper process: an embedding made here) ----
def _embedding(tmp_path):
    from cnnstudio.inspect.results import Embedding

    names = ["red", "green", "blue"]
    true = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0])
    # Three clusters on a line; each cluster's mistake sits a little above it.
    points = np.array([[0, 0], [0.4, 0], [0.2, 0.3], [0.2, 2.0],
                       [5, 0], [5.4, 0], [5.2, 0.3], [5.2, 2.0],
                       [10, 0], [10.4, 0], [10.2, 0.3], [10.2, 2.0]], dtype=np.float32)
    images = []
    for i, label in enumerate(true):
        path = tmp_path / f"{names[label]}-{i}.png"
        Image.new("RGB", (8, 8), ((255, 0, 0), (0, 255, 0), (0, 0, 255))[label]).save(path)
        images.append(str(path))
    return Embedding("pca", "val", images, true, predicted, points, names)


def _viewport_pos(view, x: float, y: float) -> QPointF:
    scene = view.plot.getViewBox().mapViewToScene(QPointF(x, y))
    return QPointF(view.plot.mapFromScene(scene))


def _send(widget, kind, pos: QPointF, buttons, modifiers) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def _lasso(view, polygon: list[tuple[float, float]]) -> None:
    """Shift+drag through the polygon's corners on the plot (real mouse events)."""
    viewport = view.plot.viewport()
    shift, left = Qt.KeyboardModifier.ShiftModifier, Qt.MouseButton.LeftButton
    corners = [_viewport_pos(view, x, y) for x, y in polygon + polygon[:1]]
    _send(viewport, QEvent.Type.MouseButtonPress, corners[0], left, shift)
    for start, end in zip(corners, corners[1:], strict=False):
        for t in np.linspace(0.1, 1.0, 6):
            _send(viewport, QEvent.Type.MouseMove, start + (end - start) * float(t), left, shift)
    _send(viewport, QEvent.Type.MouseButtonRelease, corners[-1], Qt.MouseButton.NoButton, shift)


@pytest.fixture
def every_mouse_move():
    """pyqtgraph drops mouse moves closer together than its rate limit; a test's moves come at once."""
    import pyqtgraph as pg

    limit = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    yield
    pg.setConfigOptions(mouseRateLimit=limit)


def test_lasso_and_clicked_point_outline_their_cells(qtbot, tmp_path, every_mouse_move):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.panels.inspect_embedding import EmbeddingView

    _application()
    view = EmbeddingView(lambda *args, **kwargs: False)
    qtbot.addWidget(view)
    view.resize(1000, 560)
    view.show()
    qtbot.waitExposed(view)
    embedding = _embedding(tmp_path)
    view.set_embedding(embedding)
    view.plot.getViewBox().setRange(xRange=(-1, 11.5), yRange=(-1, 3), padding=0)
    QApplication.processEvents()
    assert view.matrix.highlighted == {}

    # Lasso the first two clusters' low points (the correct ones) and the red image taken for green.
    _lasso(view, [(-0.5, -0.5), (6.0, -0.5), (6.0, 0.6), (0.6, 0.6), (0.6, 2.5), (-0.5, 2.5)])
    assert np.flatnonzero(view.highlighted).tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert len(view.halo.data) == 7  # each ringed on the plot
    assert view.matrix.highlighted == {(0, 0): 3, (0, 1): 1, (1, 1): 3}
    assert "7 images selected" in view.status.text()
    view.matrix.ensurePolished()
    assert "3 of them selected" in view.matrix.cell_text(0, 0) and "Highlighted" not in view.matrix.cell_text(2, 2)
    view.grab().save(str(tmp_path / "lasso.png"))

    # Click one point (blue taken for red): it and only its cell are highlighted, and it is chosen.
    with qtbot.waitSignal(view.point_chosen) as chosen:
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton,
                         pos=_viewport_pos(view, 10.2, 2.0).toPoint())
    assert chosen.args == [embedding.images[11]]
    assert view.matrix.highlighted == {(2, 0): 1}
    assert np.flatnonzero(view.highlighted).tolist() == [11] and len(view.halo.data) == 1
    view.grab().save(str(tmp_path / "point.png"))

    # And the other way: a clicked cell highlights its points and outlines itself alone.
    qtbot.mouseClick(view.matrix, Qt.MouseButton.LeftButton, pos=_point_in_cell(view.matrix, (1, 1)))
    assert np.flatnonzero(view.highlighted).tolist() == [4, 5, 6]
    assert view.matrix.highlighted == {(1, 1): 3}

    # A new map starts with nothing outlined.
    view.set_embedding(embedding)
    assert view.matrix.highlighted == {} and not view.highlighted.any()


def test_confusion_highlight_api(qtbot):
    from cnnstudio.gui.panels.confusion import ConfusionMatrix

    matrix = ConfusionMatrix()
    qtbot.addWidget(matrix)
    matrix.set_matrix([[2, 1], [0, 3]], ["cat", "dog"])
    matrix.highlight_cells([(0, 1), (5, 5)])  # a plain list of cells; one outside the matrix is ignored
    assert matrix.highlighted == {(0, 1): None}
    assert "Highlighted." in matrix.cell_text(0, 1) and "Highlighted" not in matrix.cell_text(0, 0)
    matrix.highlight_cells({})
    assert matrix.highlighted == {}
    matrix.highlight_cells({(1, 1): 2})
    matrix.set_matrix([[2, 1], [0, 3]], ["cat", "dog"])  # a new matrix (the next epoch) drops the outline
    assert matrix.highlighted == {}
