"""Export panel on a really trained run: verified export (child process), top-5 + Grad-CAM on
images (helper process), the fine-tune wizard producing a project and its run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.gui.panels.helpers import REPO, make_image_folder, make_project, worker_env


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A project folder with one completed 2-epoch run (through `cnnstudio train`)."""
    folder = tmp_path_factory.mktemp("trained")
    data = make_image_folder(folder / "data", broken=False)
    make_project(folder, data, epochs=2)
    import os

    result = subprocess.run([sys.executable, "-m", "cnnstudio", "train", str(folder / "tiny.cnnproj"),
                             "--run-dir", str(folder / "runs" / "tiny-run")], cwd=REPO,
                            env={**os.environ, **worker_env()}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return folder


@pytest.fixture
def export_window(qtbot, trained):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project

    _application()
    win = MainWindow(load_project(trained / "tiny.cnnproj"))
    win.ask_save = lambda: "discard"
    qtbot.addWidget(win)
    win.show()
    win.show_section("Export")
    yield win
    win.close()


def test_export_and_verification_report(export_window, qtbot, tmp_path):
    panel = export_window.sections["Export"]
    assert panel.run_dir().name == "tiny-run"
    for name, box in panel.format_boxes.items():
        box.setChecked(name == "keras")
    panel.output.setText(str(tmp_path / "out"))
    assert panel.export()
    qtbot.waitUntil(lambda: panel.process is None, timeout=300_000)
    assert len(panel.reports) == 1, panel.report.toPlainText()
    report = panel.reports[0]
    assert report.get("passed"), report
    assert (tmp_path / "out" / "model.keras").exists()
    text = panel.report.toPlainText()
    assert "verified" in text and "same top class 100%" in text
    assert "1 of 1 export(s) verified" in panel.status.text()


def test_tflite_options_reach_the_export_and_the_report_shows(export_window, qtbot, tmp_path):
    import json

    from PySide6.QtCore import QPoint, Qt

    from cnnstudio.export.tflite_options import OPTIONS

    panel = export_window.sections["Export"]
    options = panel.tflite
    assert set(options.fields) == {option.key for option in OPTIONS}  # generated from the CLI's table
    for box in panel.format_boxes.values():
        box.setChecked(False)
    assert not options.isEnabled()  # only TFLite has these options
    tflite = panel.format_boxes["tflite"]
    qtbot.mouseClick(tflite, Qt.MouseButton.LeftButton, pos=QPoint(6, tflite.height() // 2))  # its box
    assert tflite.isChecked() and options.isEnabled()
    quantize, io_type = options.fields["quantize"], options.fields["io_type"]
    calibration = options.fields["calibration"]
    assert not io_type.isEnabled() and not calibration.isEnabled()  # int8 only
    quantize.setFocus()
    for _ in range(quantize.count()):  # the keyboard walks the combo down to int8
        if quantize.currentData() == "int8":
            break
        qtbot.keyClick(quantize, Qt.Key.Key_Down)
    assert quantize.currentData() == "int8" and io_type.isEnabled() and calibration.isEnabled()
    io_type.setCurrentIndex(io_type.findData("int8"))
    calibration.selectAll()
    qtbot.keyClicks(calibration, "9")
    assert calibration.value() == 9
    panel.output.setText(str(tmp_path / "out"))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.process is not None and panel.cancel_button.isEnabled() and not panel.export_button.isEnabled()
    qtbot.waitUntil(lambda: panel.process is None and bool(panel.reports), timeout=300_000)
    report = panel.reports[0]
    assert report.get("passed"), report
    card = json.loads((tmp_path / "out" / "model.model_card.json").read_text())
    assert card["tflite"]["quantize"] == "int8" and card["tflite"]["input"]["dtype"] == "int8"
    assert card["tflite"]["calibration"]["images"] == 9
    view = panel.deployment
    assert view.isVisible() and view.table.rowCount() == 3
    rows = {row["flavour"]: row for row in report["deployment"]["rows"]}
    assert view.cell("tflite int8", "Accuracy") == f"{rows['tflite int8']['accuracy']:.1%}"
    assert view.cell("tflite int8", "× float32") == f"{rows['tflite int8']['size_ratio']:.2f}"
    assert view.cell("tflite int8", "Latency / image").endswith(" ms")
    assert "XNNPACK" in view.caption.text() and "thread" in view.caption.text()
    assert "int8 calibrated on 9 training images, stratified by class" in view.caption.text()
    assert view.warning.isVisible() == bool(report["warnings"])
    assert not panel.cancel_button.isEnabled() and panel.export_button.isEnabled()
    export_window.grab().save(str(tmp_path / "export.png"))


def test_cancel_stops_the_running_export(export_window, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    panel = export_window.sections["Export"]
    for name, box in panel.format_boxes.items():
        box.setChecked(name in ("savedmodel", "tflite"))
    panel.output.setText(str(tmp_path / "out"))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.process is not None and panel.queue  # the second format waits its turn
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.process is None and not panel.queue and panel.reports == []
    assert "cancelled" in panel.status.text() and panel.export_button.isEnabled()
    assert not panel.cancel_button.isEnabled()


def test_report_view_states_a_loss_over_the_threshold(qtbot):
    from cnnstudio.gui.panels.export_tflite import DeployReportView

    view = DeployReportView()
    qtbot.addWidget(view)
    row = {"file": None, "bytes": None, "size_ratio": None, "latency_ms": None}
    deployment = {"images": 40, "origin": "validation split", "labelled": True, "threads": 2,
                  "runtime": "tensorflow.lite", "threshold": 1.0, "warnings": ["TFLite int8 loses 5.0 accuracy points"],
                  "rows": [{**row, "flavour": "keras float32", "accuracy": 0.9, "agreement": 1.0},
                           {**row, "flavour": "tflite int8", "accuracy": 0.85, "agreement": 0.9, "bytes": 2048,
                            "size_ratio": 0.27, "latency_ms": 0.4}]}
    view.show_report(deployment)
    view.show()
    assert view.warning.isVisible() and "loses 5.0 accuracy points" in view.warning.text()
    assert view.cell("tflite int8", "Size") == "2.0 KB" and view.cell("keras float32", "Latency / image") == "-"
    assert "2 threads" in view.caption.text()
    view.show_report(None)
    assert not view.isVisible()


def test_top5_and_gradcam_on_dropped_images(export_window, qtbot, trained):
    panel = export_window.sections["Export"]
    images = panel.sample_images()
    assert len(images) == 3  # one validation image per class
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in images])
    panel.drop.dropEvent(QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                    Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: len(panel.results) == 3 or "Cannot" in panel.infer_status.text(), timeout=120_000)
    assert len(panel.results) == 3, panel.infer_status.text()
    for result in panel.results:
        probabilities = [t["probability"] for t in result["top"]]
        assert len(probabilities) == 3 and abs(sum(probabilities) - 1) < 1e-3
        assert probabilities == sorted(probabilities, reverse=True)
    cards = [panel.cards.itemAt(i).widget() for i in range(panel.cards.count() - 1)]
    assert len(cards) == 3
    from PySide6.QtWidgets import QLabel

    shown = [label for card in cards for label in card.findChildren(QLabel) if not label.pixmap().isNull()]
    assert len(shown) == 6  # each card: the input and its Grad-CAM overlay


def test_finetune_wizard_makes_a_project_and_trains_it(export_window, qtbot, tmp_path):
    panel = export_window.sections["Export"]
    wizard = panel.open_finetune()
    labels = [wizard.freeze_box.itemText(i) for i in range(wizard.freeze_box.count())]
    assert labels[0].startswith("Nothing")
    assert any("Group 'features'" in label for label in labels)
    assert any("Layer 'conv1'" in label for label in labels)
    wizard.freeze_box.setCurrentIndex(next(i for i, t in enumerate(labels) if "Layer 'conv1'" in t))
    new_data = make_image_folder(tmp_path / "new-data", per_class=6, broken=False)
    wizard.data_folder.setText(str(new_data))
    wizard.head_epochs.setValue(0)
    wizard.epochs.setValue(1)
    wizard.output.setText(str(tmp_path / "ft"))
    command = wizard.command()
    assert command[command.index("--freeze") + 1] == "conv1"
    assert panel.start_finetune(wizard)
    wizard.close()
    qtbot.waitUntil(lambda: panel.process is None, timeout=300_000)
    assert "Fine-tuned into" in panel.status.text(), panel.status.text()
    assert list((tmp_path / "ft").glob("*.cnnproj"))
    assert list((tmp_path / "ft").rglob("run.json"))
