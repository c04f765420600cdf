"""Data panel, issue 12: a new folder forgets the old one's messages in every tab, the unusable
files are "listed below", class labels fit the chart, whitening says where its statistics are
thin, and closing the window during a scan prints nothing on stderr."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics

from cnnstudio.gui.panels.data_summary import chart_ticks
from tests.gui.panels.helpers import make_image_folder


def wait_ready(panel, qtbot, timeout: float = 90) -> None:
    qtbot.waitUntil(lambda: not panel.busy(), timeout=int(timeout * 1000))


def test_new_folder_clears_every_tab_and_says_where_the_list_is(studio, qtbot, tmp_path):
    panel = studio.sections["Data"]
    studio.show_section("Data")  # laid out, and the augmentation preview runs
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    wait_ready(panel, qtbot)
    assert "listed below, under Unusable files" in panel.warnings.text()  # the list is below it
    top = panel.warnings.mapTo(panel, panel.warnings.rect().topLeft()).y()
    assert top < panel.unusable.mapTo(panel, panel.unusable.rect().topLeft()).y()
    assert "train" in panel.split_summary.text() and panel.pre_note.text()
    assert not panel.pre_images[0].pixmap().isNull()
    assert panel.aug_grid.count() > 0 and panel.aug_status.text(), panel.aug_status.text()

    panel.set_folder(make_image_folder(tmp_path / "other", per_class=4, broken=False))
    # At once, before the new scan ends: nothing of the old folder is left in any tab.
    assert panel.split_summary.text() == "" and panel.pre_note.text() == "" and panel.pre_warnings.text() == ""
    assert all(label.pixmap().isNull() for label in panel.pre_images)
    assert panel.aug_status.text() == "" and panel.aug_grid.count() == 0 and panel.warnings.text() == ""
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    wait_ready(panel, qtbot)
    assert panel.unusable.model().rowCount() == 0 and "listed" not in panel.warnings.text()
    assert ">9<" in panel.split_summary.text().replace("<b>", "").replace("</b>", "")  # 12 images, val 0.25


def test_whitening_preview_uses_the_training_statistics_and_warns(studio, qtbot):
    panel = studio.sections["Data"]
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=30_000)
    wait_ready(panel, qtbot)
    panel.settings_tabs.setCurrentIndex(1)  # Preprocessing
    panel._setting("preprocessing", "normalization", "zca")  # what the form's combo box commits
    wait_ready(panel, qtbot)
    note, warned = panel.pre_note.text(), panel.pre_warnings.text()
    assert "ε =" in note and "chosen from the data" in note, note
    # 27 training images of 16×16×3 = 768 values each: the statistics are thin, and it says so.
    assert "27 images, not more than the 768 values per image" in warned, warned
    assert panel.pre_warnings.isVisibleTo(panel)


def test_class_labels_are_thinned_to_fit(app_fonts=None):
    from PySide6.QtWidgets import QApplication, QLabel

    from cnnstudio.gui.app import _application

    _application()
    metrics = QFontMetrics(QLabel().font())
    names = [f"class_with_a_long_name_{i:02d}" for i in range(40)]
    ticks = chart_ticks(names, 300, metrics)
    assert ticks[0][0] == 0 and 3 <= len(ticks) < 40
    labels = [label for _i, label in ticks]
    assert all(label.endswith("…") for label in labels)  # elided
    slot = 300 / 40
    positions = [i * slot for i, _label in ticks]
    widths = [metrics.horizontalAdvance(label) for label in labels]
    assert all(b - a >= w for a, b, w in zip(positions, positions[1:], widths, strict=False))  # no overlap
    assert chart_ticks(["a", "b", "c"], 300, metrics) == [(0, "a"), (1, "b"), (2, "c")]
    assert QApplication.instance() is not None


def test_chart_in_the_panel_thins_many_classes(studio, qtbot, tmp_path):
    from PIL import Image

    folder = tmp_path / "many"
    for i in range(30):
        (folder / f"category_number_{i:02d}").mkdir(parents=True)
        Image.new("RGB", (8, 8), (i * 8, 0, 0)).save(folder / f"category_number_{i:02d}" / "a.png")
    panel = studio.sections["Data"]
    studio.show_section("Data")
    panel.set_folder(folder)
    qtbot.waitUntil(lambda: panel.scan is not None and len(panel.classes_view.names) == 30, timeout=30_000)
    axis = panel.chart.getPlotItem().getAxis("bottom")
    shown = axis._tickLevels[0]
    assert 2 <= len(shown) < 30 and shown[0][0] == 0
    wait_ready(panel, qtbot)


def test_closing_during_a_scan_prints_no_traceback(qtbot, tmp_path, capfd, monkeypatch):
    from PIL import Image

    from cnnstudio.gui.app import _application
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.project.file import load_project
    from tests.gui.panels.helpers import make_project

    folder = tmp_path / "big"
    image = Image.new("RGB", (8, 8), (90, 20, 20))
    for c in range(4):
        (folder / f"c{c}").mkdir(parents=True)
        for i in range(600):
            image.save(folder / f"c{c}" / f"{i:04d}.png")
    make_project(tmp_path, folder)
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))  # no cached scan: a real one
    from cnnstudio.data import scan as scan_module
    real_scan = scan_module.scan_folder

    def scan_that_finishes(folder, verify, state, **options):
        """The worst moment: the scan ends (it ignores the cancel) while the window closes, so its
        result arrives at a panel that is shutting down, which must start nothing more."""
        state.min_interval = 0.0
        state.cancel = lambda: None
        return real_scan(folder, verify, state, **options)

    monkeypatch.setattr(scan_module, "scan_folder", scan_that_finishes)
    _application()
    window = MainWindow(load_project(tmp_path / "tiny.cnnproj"))
    window.ask_save = lambda: "discard"
    window.show()
    panel = window.sections["Data"]
    studio_folder = panel.project.dataset_folder()
    assert studio_folder == folder
    # The listing is shown; the header checks are under way.
    qtbot.waitUntil(lambda: panel.folder_summary is not None and panel.progress.value() > 0, timeout=10_000)
    assert window.close()
    from PySide6.QtCore import QThreadPool

    # The scan's result, queued during the close, arrives now: the closing panel takes no notice
    # (no table refresh, no split or statistics workers started for a window that is going away).
    qtbot.waitUntil(lambda: not panel.workers and not QThreadPool.globalInstance().activeThreadCount(),
                    timeout=30_000)
    qtbot.wait(200)
    assert panel.scan is None and "unusable" not in panel.summary.text() and panel.split_summary.text() == ""
    window.deleteLater()  # what Qt does to a closed window when the app ends
    qtbot.wait(200)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error calling Python override" not in err, err


def test_unsaved_sample_pointed_at_another_folder_takes_its_name(qtbot, tmp_path, monkeypatch):
    from cnnstudio.gui import projects
    from cnnstudio.gui.app import _application, open_sample
    from cnnstudio.gui.main_window import MainWindow

    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    _application()
    sample = open_sample(projects.sample_project_path())  # what the first launch opens
    assert sample.path is None and sample.name.startswith("Sample")
    window = MainWindow(sample)
    window.ask_save = lambda: "discard"
    qtbot.addWidget(window)
    panel = window.sections["Data"]
    qtbot.waitUntil(lambda: not panel.busy(), timeout=60_000)
    panel.set_folder(make_image_folder(tmp_path / "my-shapes", per_class=3, broken=False))
    assert window.project.name == "my-shapes"
    assert "my-shapes" in window.windowTitle()
    qtbot.waitUntil(lambda: panel.scan is not None and not panel.busy(), timeout=60_000)
    window.close()


def test_start_refuses_while_a_setting_is_invalid(studio, qtbot, project_folder):
    """Red in Training or in Data's split: Start names the field and trains nothing."""
    from PySide6.QtCore import Qt

    from cnnstudio.gui.widgets.param_form import ParamForm

    def retype(editor, text: str) -> None:
        line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
        line.selectAll()
        qtbot.keyClicks(line, text)
        qtbot.keyClick(line, Qt.Key.Key_Return)

    training = studio.sections["Training"]
    studio.show_section("Training")
    form = training.findChild(ParamForm)
    before = studio.project.training["learning_rate"]
    retype(form.fields["learning_rate"].editor, "0.05x")
    qtbot.mouseClick(training.start_button, Qt.MouseButton.LeftButton)
    assert "Start refused" in studio.statusBar().currentMessage()
    assert "Learning rate" in studio.statusBar().currentMessage()
    assert not training.client.running and studio.project.training["learning_rate"] == before
    assert not (project_folder / "runs").exists() or not any((project_folder / "runs").iterdir())
    retype(form.fields["learning_rate"].editor, "0.01")

    data = studio.sections["Data"]
    split = data.split_host.findChild(ParamForm)
    retype(split.fields["validation_fraction"].editor, "0.6")
    retype(split.fields["test_fraction"].editor, "0.6")
    qtbot.mouseClick(training.start_button, Qt.MouseButton.LeftButton)
    assert "Data › Split › Validation share" in studio.statusBar().currentMessage()
    assert not training.client.running
    qtbot.waitUntil(lambda: not data.busy(), timeout=60_000)
