"""Training panel: a real short run through the worker (start, graceful stop, resume), the
confusion matrix and its images, curation in the project, and crash reports."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import Qt

from tests.gui.panels.helpers import CLASSES, write_run

EPOCHS = 40


def wait_exit(panel, qtbot, timeout_s: float = 180) -> None:
    qtbot.waitUntil(lambda: not panel.client.running, timeout=int(timeout_s * 1000))


def test_real_run_start_stop_resume_and_curation(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    runs, export = studio.sections["Runs"], studio.sections["Export"]  # built before: they must follow
    older = write_run(project_folder / "runs" / "tiny-older", studio.project)
    studio.runs.refresh()
    studio.sections["Data"].wait_ready(90)
    studio.show_section("Training")
    panel.form.fields["epochs"].editor.setValue(EPOCHS)  # long enough that Stop lands mid-run
    assert studio.project.training["epochs"] == EPOCHS and studio.dirty
    stopped = []

    def stop_after_first_epoch(events):
        if not stopped and any(e["event"] == "epoch" for e in events):
            stopped.append(True)
            panel.stop()

    panel.client.events.connect(stop_after_first_epoch)
    assert panel.start()  # saves the project (it was edited), then starts the worker
    assert panel.client.running and not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    wait_exit(panel, qtbot)
    assert panel.finished_event is not None, panel.worker_log.toPlainText()[-2000:]
    assert panel.finished_event["status"] == "stopped"
    assert not panel.banner.isVisible()
    assert panel.resume_button.isEnabled()
    assert panel.eta.text() == ""  # no estimate outlives the run
    run_dir = panel.run_dir
    # Runs and Export list the new run at once; Runs selects it and the one before it.
    assert runs.table.item(0, 0).text() == run_dir.name
    assert [r.path for r in runs.selected()] == [run_dir, older]
    assert "→" in runs.diff.toPlainText() or "no change" in runs.diff.toPlainText()
    assert run_dir.name in runs.legend.text() and older.name in runs.legend.text()
    assert export.run_dir() == run_dir
    log = panel.log.toPlainText()
    assert "stop requested" in log and "epoch 0" not in log
    assert "checkpoint (last) after epoch 1" in log or "checkpoint (stop) in epoch" in log
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    assert panel.matrix.matrix and sum(map(sum, panel.matrix.matrix)) == 9  # 3 validation images per class
    assert panel.plots.epochs.size >= 1

    # Resume finishes the remaining epochs in the same run directory.
    assert panel.resume()
    wait_exit(panel, qtbot)
    assert panel.finished_event["status"] == "completed", panel.worker_log.toPlainText()[-2000:]
    assert panel.progress.value() == 100
    assert panel.plots.epochs.size == EPOCHS  # the stopped part (from the files) + the resumed part
    assert list(panel.plots.epochs.column(0)) == list(range(1, EPOCHS + 1))
    assert "finished: completed" in panel.log.toPlainText()
    assert "stop requested" in panel.log.toPlainText()  # Resume kept the first session's log
    # One duration, one format: the Training panel's "done in" is the Runs table's Duration.
    duration_cell = runs.table.item(0, 5).text()
    assert runs.table.item(0, 0).text() == run_dir.name and runs.table.item(0, 1).text() == "completed"
    assert panel.eta.text() == f"done in {duration_cell}"
    assert (run_dir / "val_predictions.json").exists()
    runs = studio.sections["Runs"]
    assert runs.runs and runs.runs[0].path == run_dir and runs.runs[0].status == "completed"

    # A confusion-matrix cell opens its validation images, most confident first.
    matrix = panel.matrix.matrix
    true, predicted = next((r, c) for r in range(3) for c in range(3) if matrix[r][c])
    dialog = panel.open_cell(true, predicted)
    assert dialog.list.count() == matrix[true][predicted]
    confidences = [float(dialog.list.item(i).text().split("%")[0]) for i in range(dialog.list.count())]
    assert confidences == sorted(confidences, reverse=True)
    folder = studio.project.dataset_folder()
    files_before = sorted(p.name for p in folder.rglob("*"))
    dialog.list.item(0).setSelected(True)
    assert dialog.exclude_selected() == 1
    excluded = studio.project.exclusions[-1]
    assert excluded.startswith(CLASSES[true] + "/")
    studio.undo()  # curation is an undoable project edit like any other
    assert excluded not in studio.project.exclusions
    studio.redo()
    assert studio.project.exclusions[-1] == excluded
    if dialog.list.count() > 1:
        dialog.list.clearSelection()
        dialog.list.item(1).setSelected(True)
        target = CLASSES[(true + 1) % 3]
        assert dialog.relabel_selected(target) == 1
        assert target in studio.project.relabels.values()
    assert studio.dirty
    assert sorted(p.name for p in folder.rglob("*")) == files_before  # nothing on disk changed
    dialog.close()


ERROR_WORKER = r'''
import json, sys, time
def emit(name, **f):
    print(json.dumps({"v": 1, "event": name, "time": time.time(), **f}), flush=True)
emit("error", category="out_of_memory", message="Out of memory. Use a smaller batch size (now 512).",
     detail="ResourceExhaustedError: OOM")
emit("finished", status="failed", epochs_completed=2, best_metric=0.5, best_epoch=2, model_path=None, seconds=3.0)
sys.exit(1)
'''


def test_worker_error_shows_the_category_and_resume(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    run_dir = project_folder / "runs" / "failed-run"
    run_dir.mkdir(parents=True)
    (run_dir / "job.json").write_text(json.dumps({"project": str(project_folder / "tiny.cnnproj"),
                                                  "run_dir": str(run_dir)}))
    (run_dir / "run.json").write_text(json.dumps({"status": "failed", "epochs": 5, "epochs_completed": 2}))
    script = project_folder / "error_worker.py"
    script.write_text(ERROR_WORKER)
    panel.launch([sys.executable, str(script)], run_dir)
    wait_exit(panel, qtbot, 30)
    assert panel.banner.isVisible() or not panel.banner.isHidden()
    assert "Out of memory" in panel.banner_text.text() and "smaller batch size" in panel.banner_text.text()
    assert panel.resume_button.isEnabled() and panel.banner_resume.isEnabled()
    assert (project_folder / "tiny.cnnproj").exists() and (run_dir / "run.json").exists()


def test_killed_worker_is_reported_as_killed(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    script = project_folder / "slow_worker.py"
    script.write_text("import time\nprint('{\"v\": 1}', flush=True)\ntime.sleep(60)\n")
    panel.launch([sys.executable, str(script)], None)
    # The worker is up once its first line has been read: kill it then, not after a guessed delay.
    qtbot.waitUntil(lambda: panel.client.raw_lines == ['{"v": 1}'], timeout=30_000)
    panel.client.kill()
    wait_exit(panel, qtbot, 30)
    assert "killed" in panel.banner_text.text().lower()
    assert panel.client.raw_lines == ['{"v": 1}']  # not an event: kept apart, never shown as one


def test_device_choice_sets_the_training_device(studio, qtbot):
    from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

    panel = studio.sections["Training"]
    studio.show_section("Training")
    # One Device control in the panel: the choice box, not also a text field under More.
    labels = [label for label in panel.findChildren(QLabel) if label.text() == "Device"]
    assert len(labels) == 1
    assert "device" not in panel.form.fields
    assert not [edit for edit in panel.findChildren(QLineEdit) if edit.text() == "auto"]
    assert not [box for box in panel.findChildren(QComboBox) if box is not panel.device_box
                and box.findData("cpu") >= 0 and box.findData("auto") >= 0]
    values = [panel.device_box.itemData(i) for i in range(panel.device_box.count())]
    assert values[:2] == ["auto", "cpu"]
    panel.device_box.setCurrentIndex(values.index("cpu"))
    assert studio.project.training["device"] == "cpu" and studio.dirty
    assert studio.model.undo_label == "Set device"
    studio.undo()  # undoable, and the control follows
    assert studio.project.training["device"] == "auto" and panel.device_box.currentData() == "auto"
    studio.redo()
    assert studio.project.training["device"] == "cpu" and panel.device_box.currentData() == "cpu"


DATA_ERROR_WORKER = r'''
import json, sys, time
def emit(name, **f):
    print(json.dumps({"v": 1, "event": name, "time": time.time(), **f}), flush=True)
emit("error", category="data_error", message="data: class folder 'b' has no usable images.", detail="")
emit("finished", status="failed", epochs_completed=0, best_metric=None, best_epoch=None, model_path=None, seconds=0.5)
sys.exit(1)
'''


def test_a_data_failure_offers_the_fix_not_resume(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    run_dir = project_folder / "runs" / "data-failure"
    run_dir.mkdir(parents=True)
    (run_dir / "job.json").write_text(json.dumps({"project": str(project_folder / "tiny.cnnproj"),
                                                  "run_dir": str(run_dir)}))
    (run_dir / "run.json").write_text(json.dumps({"status": "failed", "epochs": 5, "epochs_completed": 0}))
    script = project_folder / "data_error_worker.py"
    script.write_text(DATA_ERROR_WORKER)
    studio.show_section("Training")
    panel.launch([sys.executable, str(script)], run_dir)
    wait_exit(panel, qtbot, 30)
    assert "Data problem" in panel.banner_text.text()
    assert panel.banner_fix.isVisible() and panel.banner_fix.text() == "Open Data"
    assert not panel.banner_resume.isVisible() and not panel.resume_button.isEnabled()
    qtbot.mouseClick(panel.banner_fix, Qt.MouseButton.LeftButton)
    assert studio.stack.currentWidget() is studio.sections["Data"]


def test_out_of_memory_fix_halves_the_batch_size_as_an_undo_step(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    script = project_folder / "error_worker.py"
    script.write_text(ERROR_WORKER)
    studio.show_section("Training")
    panel.launch([sys.executable, str(script)], None)
    wait_exit(panel, qtbot, 30)
    assert panel.banner_fix.text() == "Halve batch size"
    qtbot.mouseClick(panel.banner_fix, Qt.MouseButton.LeftButton)
    assert studio.project.training["batch_size"] == 4 and panel.form.fields["batch_size"].editor.value() == 4
    assert studio.batch.value() == 4
    studio.undo()
    assert studio.project.training["batch_size"] == 8 and panel.form.fields["batch_size"].editor.value() == 8


def test_a_start_that_fails_before_the_first_step_leaves_no_empty_run(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    runs = studio.sections["Runs"]
    empty = project_folder / "empty-data"
    (empty / "a").mkdir(parents=True)
    (empty / "b").mkdir()
    studio.model.set_setting("dataset", "folder", str(empty))
    studio.show_section("Training")
    assert panel.start()  # saves the edited project, starts the real worker: it fails on the data
    assert runs.table.rowCount() == 1  # listed at once while it starts
    wait_exit(panel, qtbot, 180)
    assert "Data problem" in panel.banner_text.text(), panel.worker_log.toPlainText()[-2000:]
    assert runs.table.rowCount() == 0 and studio.runs.runs == []
    assert not any((project_folder / "runs").iterdir())
    assert "nothing was kept" in panel.run_label.text()
    assert "nothing was trained" in panel.log.toPlainText()


def test_a_run_left_training_in_the_background_can_be_followed_and_stopped(studio, qtbot, project_folder):
    run_dir = write_run(project_folder / "runs" / "tiny-background", studio.project, status="running", epochs=2)
    (run_dir / "events.jsonl").write_text("")  # its worker wrote just now
    studio.runs.refresh()
    panel = studio.sections["Training"]
    studio.show_section("Training")
    assert panel.run_dir == run_dir and "training in the background" in panel.state_label.text()
    assert panel.stop_button.isEnabled() and not panel.resume_button.isEnabled()
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert (run_dir / "STOP").exists()  # the worker polls it after every step
    panel.follow_timer.setInterval(50)
    (run_dir / "run.json").write_text(json.dumps({"status": "stopped", "epochs": 4, "epochs_completed": 2}))
    qtbot.waitUntil(lambda: "stopped" in panel.state_label.text(), timeout=10_000)
    assert panel.resume_button.isEnabled() and studio.sections["Runs"].table.item(0, 1).text() == "stopped"


def test_a_worker_killed_by_the_system_is_reported_as_killed(studio, qtbot, project_folder):
    panel = studio.sections["Training"]
    script = project_folder / "oom_killed_worker.py"
    script.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")  # as the OOM killer does
    panel.launch([sys.executable, str(script)], None)
    wait_exit(panel, qtbot, 30)
    assert "killed" in panel.banner_text.text().lower()
    assert "Traceback" not in panel.worker_log.toPlainText()
