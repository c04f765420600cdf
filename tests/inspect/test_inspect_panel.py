"""The Inside panel drives the inspection helper process: maps per layer (click, keys, editor slot),
filters, saliency, the embedding map linked to its confusion matrix, and histograms over epochs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
WAIT = 120_000  # the helper process starts TensorFlow on first use


@pytest.fixture
def panel(qtbot, inspect_run, tmp_path, monkeypatch):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.panels.inspect_panel import InspectPanel
    from cnnstudio.project.file import load_project
    from cnnstudio.project.model import ProjectModel
    from cnnstudio.training.runstore import RunStore

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    shutil.copy(inspect_run.parent / "tiny.cnnproj", tmp_path / "tiny.cnnproj")
    shutil.copytree(inspect_run, tmp_path / "runs" / "run-1")
    _application()
    project = load_project(tmp_path / "tiny.cnnproj")
    widget = InspectPanel(ProjectModel(project), RunStore(project.path))
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _layer(panel):
    return None if panel.maps.current is None else panel.maps.current.name


def test_feature_maps_follow_clicks_keys_and_the_editor(panel, qtbot, tmp_path):
    assert panel.source_kind == "run"  # the newest run
    qtbot.waitUntil(lambda: _layer(panel) == "conv1", timeout=WAIT)
    assert panel.image is not None  # its first validation image
    assert panel.maps.stats.rowCount() == 8 and not panel.maps.grid.pixmap().isNull()
    assert not panel.maps.next.isEnabled()  # 8 channels: one page
    panel.maps.layer_list.setFocus()
    qtbot.keyClick(panel.maps.layer_list, Qt.Key.Key_Down)  # step to the next layer with the keyboard
    qtbot.waitUntil(lambda: _layer(panel) == "bn1", timeout=WAIT)
    assert not panel.maps.filters_button.isEnabled()  # batch norm has no kernels
    assert panel.show_layer("conv2") and not panel.show_layer("no_such_layer")
    qtbot.waitUntil(lambda: _layer(panel) == "conv2", timeout=WAIT)
    assert panel.histograms.layer.currentText() == "conv2"
    assert panel.maps.current.batch_size > 1  # the statistics cover dataset images too
    panel.show_layer("conv1")
    qtbot.mouseClick(panel.maps.filters_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.maps.kernels is not None, timeout=WAIT)
    assert panel.maps.kernels.rgb and panel.maps.kernels.kernels.shape == (3, 3, 3, 8)
    panel.grab().save(str(tmp_path / "maps.png"))


def test_saliency_embedding_and_histograms(panel, qtbot, tmp_path):
    qtbot.waitUntil(lambda: panel.described is not None, timeout=WAIT)
    panel.tabs.setCurrentWidget(panel.saliency)
    panel.saliency.method.setCurrentText("Occlusion")
    panel.saliency.target.setCurrentText("green")
    qtbot.waitUntil(lambda: "for class green" in panel.saliency.status.text(), timeout=WAIT)
    assert panel.saliency.top.text().startswith("Top 5: ")

    panel.tabs.setCurrentWidget(panel.embedding)
    qtbot.mouseClick(panel.embedding.compute, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.embedding.embedding is not None, timeout=WAIT)
    embedding = panel.embedding.embedding
    assert len(embedding.images) == len(panel.embedding.scatter.data)
    true, predicted = int(embedding.true[0]), int(embedding.predicted[0])
    panel.embedding.matrix.cell_clicked.emit(true, predicted)
    assert np.array_equal(np.flatnonzero(panel.embedding.highlighted), embedding.in_cell(true, predicted))
    low, high = embedding.points.min(axis=0) - 1, embedding.points.max(axis=0) + 1
    everything = np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]], [low[0], high[1]]])
    assert len(panel.embedding.select_in_polygon(everything)) == len(embedding.images)
    assert panel.embedding.status.text().startswith(f"{len(embedding.images)} images selected")
    panel.embedding.point_chosen.emit(embedding.images[1])
  # a point clicked: that image, explained
    assert panel.image == embedding.images[1] and panel.tabs.currentWidget() is panel.saliency
    qtbot.waitUntil(lambda: "for class" in panel.saliency.status.text(), timeout=WAIT)
    panel.grab().save(str(tmp_path / "saliency.png"))

    panel.tabs.setCurrentWidget(panel.histograms)
    assert [panel.histograms.layer.itemText(i) for i in range(panel.histograms.layer.count())] == \
        ["conv1", "conv2", "classifier"]
    panel.histograms.kind.setCurrentText("gradients")
    image = panel.histograms.image.image
    assert image is not None and image.shape[0] == len(panel.histograms.records)
    panel.grab().save(str(tmp_path / "histograms.png"))
    panel.tabs.setCurrentWidget(panel.embedding)
    panel.grab().save(str(tmp_path / "embedding.png"))


def test_untrained_project_source(panel, qtbot):
    index = next(i for i in range(panel.source.count()) if panel.source.itemData(i)[0] == "project")
    panel.source.setCurrentIndex(index)
    assert not panel.checkpoint.isEnabled() and not panel.embedding.compute.isEnabled()
    qtbot.waitUntil(lambda: panel.described is not None and _layer(panel) == "conv1", timeout=WAIT)
    assert "Untrained" in panel.status.text()


def test_a_card_click_in_the_editor_picks_the_layer(qtbot, inspect_run, tmp_path, monkeypatch):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    shutil.copy(inspect_run.parent / "tiny.cnnproj", tmp_path / "tiny.cnnproj")
    shutil.copytree(inspect_run, tmp_path / "runs" / "run-1")
    _application()
    window = MainWindow(load_project(tmp_path / "tiny.cnnproj"))
    window.ask_save = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.show_section("Inside")
    panel = window.sections["Inside"]
    qtbot.waitUntil(lambda: _layer(panel) == "conv1", timeout=WAIT)
    window.editor.select(["conv2"])
    qtbot.waitUntil(lambda: _layer(panel) == "conv2", timeout=WAIT)
    window.grab().save(str(tmp_path / "window.png"))
    window.close()
    assert panel.helper.process is None  # the window's close ended the helper process


def test_lasso_polygon_arithmetic():
    from cnnstudio.gui.panels.inspect_embedding import inside_polygon

    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.2, 0.9], [0.9, 0.2], [-1.0, 0.0]])
    triangle = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # x + y < 1
    assert inside_polygon(np.array([[0.2, 0.2], [0.6, 0.6], [0.1, 0.8]]), triangle).tolist() == [True, False, True]
    assert not inside_polygon(points, triangle[:2]).any()  # two points make no area
