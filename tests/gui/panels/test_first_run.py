"""Issue 9's first run: no project -> the sample opens; Start trains it on the CPU with curves."""

from __future__ import annotations

from tests.gui.panels.test_training_panel import wait_exit


def test_first_run_trains_the_sample_without_a_save_dialog(qtbot, private_home):
    from cnnstudio.gui.app import create_window

    window = create_window()  # no argument: the bundled sample, as an untitled copy
    window.ask_save = lambda: "discard"
    qtbot.addWidget(window)
    assert window.project.path is None and "LeNet-5" in window.project.name
    window.show()
    panel = window.sections["Training"]
    window.sections["Data"].wait_ready(90)
    window.show_section("Training")
    assert panel.start()  # no file dialog: the untitled project is kept in the user's folder
    assert window.project.path is not None and private_home in window.project.path.parents
    wait_exit(panel, qtbot, timeout_s=120)
    assert panel.finished_event is not None, panel.worker_log.toPlainText()[-2000:]
    assert panel.finished_event["status"] == "completed"
    assert panel.plots.epochs.size == window.project.training["epochs"]
    assert panel.finished_event["best_metric"] > 0.8  # digits: the curves really moved
    window.close()
