"""The Export section offers the runs that left weights; a run without them says why."""

from __future__ import annotations

import os
import time

from tests.gui.panels.helpers import write_run


def test_export_picks_the_newest_run_with_weights_and_explains_one_without(studio, project_folder):
    trained = write_run(project_folder / "runs" / "tiny-trained", studio.project)
    (trained / "checkpoints").mkdir()
    (trained / "checkpoints" / "best.npz").write_bytes(b"weights")
    os.utime(trained / "job.json", (time.time() - 60, time.time() - 60))
    write_run(project_folder / "runs" / "tiny-empty", studio.project, status="stopped", epochs=0)
    studio.runs.refresh()
    export = studio.sections["Export"]
    assert export.run_box.count() == 2
    assert export.run_dir() == trained and export.export_button.isEnabled()  # the newest with weights
    export.run_box.setCurrentIndex(export.run_box.findData(str(project_folder / "runs" / "tiny-empty")))
    assert not export.export_button.isEnabled() and not export.samples_button.isEnabled()
    assert "no checkpoint yet" in export.status.text()
    assert not export.export()
    export.run_box.setCurrentIndex(export.run_box.findData(str(trained)))
    assert export.export_button.isEnabled() and export.status.text() == ""
