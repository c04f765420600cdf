"""The Data panel's previews (split table, statistics) use the panel's own scan result: nothing is
listed or checked again after the scan, and prepare_data falls back to scanning only when the
scan it is given does not fit."""

from __future__ import annotations

import gc

import pytest

from tests.gui.panels.helpers import make_image_folder, make_project


@pytest.fixture
def counted_scans(monkeypatch):
    """Calls of prepare_data's own scan (cnnstudio.data.scan_folder) and the scans prepare_data was handed."""
    import cnnstudio.data as data_module
    from cnnstudio.gui.panels import data_previews

    real_scan, real_prepare = data_module.scan_folder, data_module.prepare_data
    calls = {"rescans": 0, "handed": [], "frozen": []}

    def scan_again(*args, **kwargs):
        calls["rescans"] += 1
        return real_scan(*args, **kwargs)

    def prepare(project, progress=None, scan=None):
        calls["handed"].append(scan)
        calls["frozen"].append(gc.get_freeze_count())  # the collector skips the window's objects meanwhile
        return real_prepare(project, progress=progress, scan=scan)

    monkeypatch.setattr(data_module, "scan_folder", scan_again)
    monkeypatch.setattr(data_previews, "prepare_data", prepare)
    return calls


def test_previews_use_the_panels_scan(qtbot, tmp_path, monkeypatch, counted_scans):
    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project

    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    make_project(tmp_path, make_image_folder(tmp_path / "data"))
    _application()
    window = MainWindow(load_project(tmp_path / "tiny.cnnproj"))
    window.ask_save = lambda: "discard"
    qtbot.addWidget(window)
    window.show()
    window.show_section("Data")
    panel = window.sections["Data"]
    try:
        qtbot.waitUntil(lambda: panel.scan is not None and not panel.busy(), timeout=60_000)
        qtbot.waitUntil(lambda: "From " in panel.pre_note.text(), timeout=60_000)
        assert "<b>27</b></td><td align='right'><b>9</b>" in panel.split_summary.text()  # 36 usable, 25% val
        assert counted_scans["handed"] and all(s is panel.scan for s in counted_scans["handed"])
        # A split edit recomputes the table from the same scan: still nothing scanned again.
        panel.project_model.set_setting("dataset", "validation_fraction", 0.5)
        qtbot.waitUntil(lambda: "<b>18</b></td><td align='right'><b>18</b>" in panel.split_summary.text(),
                        timeout=60_000)
        assert all(s is panel.scan for s in counted_scans["handed"])
        assert counted_scans["rescans"] == 0
        assert all(n > 1000 for n in counted_scans["frozen"]) and gc.get_freeze_count() == 0  # thawed when idle
    finally:
        window.close()


def test_prepare_data_scans_when_the_given_scan_does_not_fit(tmp_path, monkeypatch, counted_scans):
    import cnnstudio.data as data_module
    from cnnstudio.data.scan import scan_folder

    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    first, second = make_image_folder(tmp_path / "a"), make_image_folder(tmp_path / "b", per_class=5)
    project = make_project(tmp_path, first)
    own = scan_folder(first)
    assert data_module.prepare_data(project.copy(), scan=own).scan is own
    assert counted_scans["rescans"] == 0
    other = scan_folder(second)  # another folder's scan: ignored
    assert data_module.prepare_data(project.copy(), scan=other).scan is not other
    assert counted_scans["rescans"] == 1
    project.dataset["verify_decode"] = True  # a header-checked scan where full decodes are asked for
    prepared = data_module.prepare_data(project.copy(), scan=own)
    assert prepared.scan is not own and prepared.scan.verified and counted_scans["rescans"] == 2
