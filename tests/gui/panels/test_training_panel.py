"""Training panel: a real short run through the worker (start, graceful stop, resume), the
confusion matrix and its images, curation in the project, and crash reports."""

from __future__ import annotations

import json
import sys
import time

from tests.gui.panels.helpers import CLASSES
from tests.gui.panels.test_responsiveness import StallProbe

EPOCHS = 40


def wait_exit(panel, qtbot, timeout_s: float = 180) -> None:
    qtbot.waitUntil(lambda: not panel.client.running, timeout=int(timeout_s * 1000))


def test_real_run_start_stop_resume_and_curation(studio, qtbot):
    panel = studio.sections["Training"]
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
    with StallProbe() as probe:
        assert panel.start()  # saves the project (it was edited), then starts the worker
        assert panel.client.running and not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
        wait_exit(panel, qtbot)
    print(f"real run: worst event-loop stall {probe.worst * 1000:.0f} ms while the worker started and trained")
    assert probe.worst < 1.0
    assert panel.finished_event is not None, panel.worker_log.toPlainText()[-2000:]
    assert panel.finished_event["status"] == "stopped"
    assert not panel.banner.isVisible()
    assert panel.resume_button.isEnabled()
    run_dir = panel.run_dir
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
    qtbot.waitUntil(lambda: panel.client.process is not None and panel.client.process.processId() > 0,
                    timeout=10_000)
    time.sleep(0.3)
    panel.client.kill()
    wait_exit(panel, qtbot, 30)
    assert "killed" in panel.banner_text.text().lower()
    assert panel.client.raw_lines == ['{"v": 1}']  # not an event: kept apart, never shown as one


def test_device_choice_sets_the_training_device(studio):
    panel = studio.sections["Training"]
    values = [panel.device_box.itemData(i) for i in range(panel.device_box.count())]
    assert values[:2] == ["auto", "cpu"]
    panel.device_box.setCurrentIndex(values.index("cpu"))
    assert studio.project.training["device"] == "cpu" and studio.dirty
    assert panel.form.fields["device"].editor.text() == "cpu"
