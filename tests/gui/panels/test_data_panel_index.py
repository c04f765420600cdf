"""Data panel on the folder index: the listing shows before the header checks end, the class filter
works on the array model, unusable files arrive later, and a full verification can be cancelled."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.panels.helpers import CLASSES, make_image_folder, make_project, open_main_window


def damaged_pixels_png() -> bytes:
    """A PNG whose header is intact but whose pixel data is garbage: only a full decode finds it."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    start = data.find(b"IDAT") + 10
    data[start:start + 50] = b"\x55" * 50
    return bytes(data)


@pytest.fixture
def open_window(qtbot, tmp_path, monkeypatch):
    """open_window() -> a main window on a saved project over tmp_path/data (scan patched first)."""
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    data = make_image_folder(tmp_path / "data")
    (data / CLASSES[2] / "damaged_pixels.png").write_bytes(damaged_pixels_png())
    make_project(tmp_path, data)
    windows = []

    def open_it():
        window = open_main_window(qtbot, tmp_path / "tiny.cnnproj", "Data")
        windows.append(window)
        return window

    yield open_it
    for window in windows:
        window.close()


def cell(panel, row: int, column: int) -> str:
    return panel.class_table.model().index(row, column).data()


def shown_classes(panel) -> set[str]:
    return {panel.model.class_name(r) for r in range(panel.model.rowCount())}


def test_the_listing_shows_before_the_header_checks_end(open_window, qtbot, monkeypatch):
    from cnnstudio.data import scan as scan_module

    real_scan = scan_module.scan_folder
    release = threading.Event()

    def slow_scan(folder, verify, state, **options):
        release.wait(30)  # header checks that take as long as the test wants
        return real_scan(folder, verify, state, **options)

    monkeypatch.setattr(scan_module, "scan_folder", slow_scan)
    window = open_window()
    panel = window.sections["Data"]
    # Every listed file (13 circles: broken.png too; 13 stripes with the damaged one) before any check.
    qtbot.waitUntil(lambda: panel.model.rowCount() == 38, timeout=20_000)
    assert panel.scan is None and panel.progress.isVisibleTo(panel)
    assert [cell(panel, r, 0) for r in range(3)] == list(CLASSES)
    assert [cell(panel, r, 1) for r in range(3)] == ["13", "12", "13"]
    assert "checking the images" in panel.summary.text() and "38" in panel.summary.text()
    assert panel.unusable.model().rowCount() == 0 and not panel.verify_button.isEnabled()
    assert "unusable ones not known yet" in panel.thumb_count.text()
    release.set()
    # The checks arrive: the unusable file leaves the grid and the counts, and is listed with its reason.
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    assert panel.model.rowCount() == 37 and cell(panel, 0, 1) == "12"
    assert panel.unusable.model().rowCount() == 1
    assert "broken.png" in panel.unusable.model().index(0, 0).data()
    assert "1 unusable (headers checked)" in panel.summary.text() and "24×24" in panel.summary.text()
    assert "not known yet" not in panel.thumb_count.text() and not panel.progress.isVisibleTo(panel)
    assert panel.verify_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=60_000)


def test_class_filter_follows_the_table_on_the_array_model(open_window, qtbot):
    window = open_window()
    panel = window.sections["Data"]
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    table = panel.class_table
    square = table.visualRect(table.model().index(1, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=square)
    assert panel.class_filter.currentIndex() == 2 and panel.class_filter.currentText() == "square (12)"
    assert panel.model.rowCount() == 12 and shown_classes(panel) == {"square"}
    assert isinstance(panel.model.rows, np.ndarray)  # positions into the index, no object per file
    assert panel.model.path(0).endswith("square/square_000.png")
    # Sorting the table by images does not change which class a row stands for.
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    first = table.visualRect(table.model().index(0, 0)).center()
    assert cell(panel, 0, 0) == "circle"  # 12 usable, like square (a stable sort); stripes has 13
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=first)
    assert panel.class_filter.currentIndex() == 1 and shown_classes(panel) == {"circle"}
    panel.class_filter.setCurrentIndex(0)
    assert panel.model.rowCount() == 37 and not table.selectionModel().selectedRows()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=60_000)


def test_verify_can_be_cancelled_and_then_finds_damaged_pixels(open_window, qtbot, monkeypatch):
    from cnnstudio.data import scan as scan_module

    real_scan = scan_module.scan_folder
    first_verify = {"pending": True}

    def scan(folder, verify, state, **options):
        if verify and first_verify.pop("pending", False):  # a verification that runs until cancelled
            state.update(0, 38, "decoding images", force=True)
            stop = threading.Event()
            while not state.cancelled:
                stop.wait(0.01)
            state.check()
        return real_scan(folder, verify, state, **options)

    monkeypatch.setattr(scan_module, "scan_folder", scan)
    window = open_window()
    panel = window.sections["Data"]
    qtbot.waitUntil(lambda: panel.scan is not None and not panel.busy(), timeout=60_000)
    header_scan = panel.scan
    assert panel.unusable.model().rowCount() == 1  # the header checks miss the damaged pixels
    qtbot.mouseClick(panel.verify_button, Qt.MouseButton.LeftButton)
    assert panel.cancel_button.isVisibleTo(panel) and not panel.verify_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.maximum() == 38, timeout=10_000)
    assert "decoding images" in panel.progress.format()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert "Verification cancelled" in panel.summary.text()
    qtbot.waitUntil(lambda: not panel.workers, timeout=30_000)
    assert panel.scan is header_scan and panel.unusable.model().rowCount() == 1
    assert panel.verify_button.isEnabled() and not panel.cancel_button.isVisibleTo(panel)
    # Verify again: every image is decoded and the damaged one joins the unusable list.
    qtbot.mouseClick(panel.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.scan is not header_scan, timeout=30_000)
    reasons = [panel.unusable.model().index(r, 0).data() for r in range(panel.unusable.model().rowCount())]
    assert len(reasons) == 2 and any("damaged_pixels.png" in r and "corrupt" in r for r in reasons), reasons
    assert "every image decoded" in panel.summary.text() and panel.model.rowCount() == 36
    assert panel.scan.verified
    qtbot.waitUntil(lambda: not panel.busy(), timeout=60_000)


def test_many_classes_get_a_search_box_and_a_summarised_split(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "many"
    for k in range(45):
        (folder / f"category_{k:02d}").mkdir(parents=True)
        for i in range(2 + k % 3):
            Image.new("RGB", (8, 8), (k * 5, i * 40, 0)).save(folder / f"category_{k:02d}" / f"{i}.png")
    make_project(tmp_path, folder)
    window = open_main_window(qtbot, tmp_path / "tiny.cnnproj", "Data")
    panel = window.sections["Data"]
    try:
        qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
        search = panel.classes_view.class_search
        assert search.isVisibleTo(panel) and panel.class_table.model().rowCount() == 45
        qtbot.keyClicks(search, "y_07")
        assert panel.class_table.model().rowCount() == 1 and cell(panel, 0, 0) == "category_07"
        qtbot.mouseClick(panel.class_table.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.class_table.visualRect(panel.class_table.model().index(0, 0)).center())
        assert panel.class_filter.currentIndex() == 8 and shown_classes(panel) == {"category_07"}
        assert panel.model.rowCount() == 3
        qtbot.waitUntil(lambda: not panel.busy() and "per class" in panel.split_summary.text(), timeout=60_000)
        assert "45 classes" in panel.split_summary.text() and "category_07" not in panel.split_summary.text()
    finally:
        window.close()
