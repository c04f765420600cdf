"""Data panel: a real scan of a tiny folder, thumbnails, curation previews, augmentation preview."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.gui.panels.helpers import CLASSES, make_image_folder


def wait_ready(panel, qtbot, timeout: float = 90) -> None:
    qtbot.waitUntil(lambda: not panel.busy(), timeout=int(timeout * 1000))


def test_scan_fills_classes_thumbnails_and_unusable_list(studio, qtbot):
    panel = studio.sections["Data"]
    studio.show_section("Data")  # thumbnails load for what the view shows
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    assert panel.class_table.model().rowCount() == len(CLASSES)
    assert [panel.class_table.model().index(r, 0).data() for r in range(3)] == list(CLASSES)
    assert panel.class_table.model().index(0, 1).data() == "12"
    assert panel.unusable.model().rowCount() == 1 and "broken.png" in panel.unusable.model().index(0, 0).data()
    assert panel.model.rowCount() == 36
    # Thumbnails load lazily off the GUI thread once the view asks for them.
    qtbot.waitUntil(lambda: len(panel.loader.cache) > 0, timeout=10_000)
    pixmap = next(iter(panel.loader.cache.values()))
    assert pixmap.width() == 96  # 24-pixel images are enlarged for the grid
    panel.class_filter.setCurrentIndex(2)  # "square"
    assert panel.model.rowCount() == 12
    assert all(panel.model.class_name(r) == "square" for r in range(12))
    wait_ready(panel, qtbot)
    assert "train" in panel.split_summary.text() and ">27<" in panel.split_summary.text().replace("<b>", "").replace(
        "</b>", "")


def test_settings_edit_the_project_and_update_previews(studio, qtbot):
    panel = studio.sections["Data"]
    wait_ready(panel, qtbot)
    assert panel.aug_grid.count() == 0  # hidden: no TensorFlow helper started for the preview
    studio.show_section("Data")
    wait_ready(panel, qtbot)
    assert panel.aug_grid.count() == 3 * 5, panel.aug_status.text()  # 3 images: original + 4 variants
    # Preprocessing preview: mean image, normalised and whitened samples.
    assert all(not label.pixmap().isNull() for label in panel.pre_images), panel.pre_note.text()
    # Moving a slider changes the project (not the disk) and asks for a new preview.
    slider = panel.aug_form.editors["rotation"]
    slider.setValue(30.0)
    assert studio.project.augmentation["rotation"] == 30.0
    assert studio.dirty
    wait_ready(panel, qtbot)
    assert "training sees them" in panel.aug_status.text()
    field = panel.split_host.findChildren(type(panel.split_host))  # the split form lives in the tab
    assert field
    panel._setting("dataset", "validation_fraction", 0.5)
    wait_ready(panel, qtbot)
    text = panel.split_summary.text()
    assert ">6<" in text and ">18<" in text  # 6 train / 6 val per class -> totals 18 / 18


def test_dropping_a_folder_routes_to_the_data_panel(studio, qtbot, tmp_path):
    other = make_image_folder(tmp_path / "other", per_class=4, broken=False)
    panel = studio.sections["Data"]
    wait_ready(panel, qtbot)
    studio.show_section("Architecture")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    studio.dropEvent(event)
    qtbot.waitUntil(lambda: studio.stack.currentWidget() is panel, timeout=5000)
    qtbot.waitUntil(lambda: panel.scan is not None and panel.scan.folder == other, timeout=30_000)
    assert studio.project.dataset["folder"] == str(other)
    assert panel.model.rowCount() == 12 and panel.unusable.model().rowCount() == 0
    wait_ready(panel, qtbot)


def test_scan_can_be_cancelled(studio, qtbot, tmp_path):
    panel = studio.sections["Data"]
    wait_ready(panel, qtbot)
    big = tmp_path / "big"
    make_image_folder(big, per_class=1, broken=False)
    source = next((big / CLASSES[0]).iterdir())
    for i in range(3000):  # hard links: many files, almost no disk
        os.link(source, big / CLASSES[0] / f"copy_{i:05d}.png")
    panel.set_folder(big)
    assert panel.cancel_button.isVisibleTo(panel)
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.workers, timeout=30_000)
    assert "cancelled" in panel.summary.text()  # the scan stopped part-way: nothing shown, nothing changed
    assert panel.scan is None and panel.model.rowCount() == 0
    assert not panel.cancel_button.isVisibleTo(panel)


def test_twenty_thousand_thumbnails_decode_only_what_is_shown(studio, qtbot, tmp_path):
    """The grid holds 20,000 files; scrolling through it decodes only the thumbnails shown.
    (How long filling and scrolling block the event loop is measured by benchmarks, not here.)"""
    panel = studio.sections["Data"]
    studio.show_section("Data")
    wait_ready(panel, qtbot)
    folder = tmp_path / "many"
    folder.mkdir()
    source = next(Path(studio.project.dataset_folder(), CLASSES[1]).glob("*.png"))
    names = []
    for i in range(20_000):
        os.link(source, folder / f"img_{i:05d}.png")
        names.append(f"img_{i:05d}.png")
    panel.model.set_files(folder, names, ["square"], np.zeros(20_000, np.int32), np.arange(20_000, dtype=np.int32))
    assert panel.model.rowCount() == 20_000
    bar = panel.thumbs.verticalScrollBar()
    for step in range(0, 101, 5):
        bar.setValue(bar.maximum() * step // 100)
        qtbot.wait(40)
    qtbot.waitUntil(lambda: not panel.loader._queue, timeout=20_000)
    assert 0 < len(panel.loader.cache) < 5000  # only what was shown got decoded
