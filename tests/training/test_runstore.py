"""The run store: the project's runs, told when a run starts, finishes or is deleted."""

from __future__ import annotations

import json
import os
import time

import pytest

from cnnstudio.errors import StudioError
from cnnstudio.training.runstore import RunChange, RunStore, runs_folder


def make_run(folder, name, status="completed", epochs=2, age=0.0):
    run = folder / name
    run.mkdir(parents=True)
    (run / "job.json").write_text(json.dumps({"project": "p.cnnproj", "run_dir": str(run)}))
    (run / "run.json").write_text(json.dumps({"status": status, "epochs": epochs, "epochs_completed": epochs,
                                              "best_metric": 0.5, "best_epoch": epochs}))
    stamp = time.time() - age
    os.utime(run / "job.json", (stamp, stamp))
    return run


def test_store_lists_newest_first_and_follows_a_run(tmp_path):
    project = tmp_path / "p.cnnproj"
    project.write_text("{}")
    folder = runs_folder(project)
    make_run(folder, "old", age=100)
    store = RunStore()
    seen: list[RunChange] = []
    store.subscribe(seen.append)
    store.open(project)
    assert [r.name for r in store.runs] == ["old"] and seen == [RunChange("reloaded")]
    new = folder / "new"
    new.mkdir()
    (new / "job.json").write_text("{}")
    store.run_started(new)
    assert store.latest.name == "new" and store.latest.status == "running" and store.is_live(new)
    with pytest.raises(StudioError, match="training"):
        store.delete([new])
    (new / "run.json").write_text(json.dumps({"status": "completed", "epochs": 1, "epochs_completed": 1}))
    store.run_finished(new)
    assert seen[-1] == RunChange("finished", (new,)) and store.latest.status == "completed"
    assert store.live is None
    store.delete([folder / "old"])
    assert [r.name for r in store.runs] == ["new"] and not (folder / "old").exists()
    assert seen[-1].kind == "deleted"


def test_a_run_that_never_stepped_can_be_dropped(tmp_path):
    folder = tmp_path / "runs"
    run = make_run(folder, "empty", status="failed", epochs=0)
    store = RunStore(tmp_path / "p.cnnproj")
    store.run_started(run)
    store.run_finished(run, keep=False)
    assert store.runs == [] and not run.exists()


def test_untitled_project_has_no_runs():
    store = RunStore()
    store.open(None)
    assert store.folder is None and store.runs == [] and store.latest is None


def test_a_running_run_without_a_worker_is_interrupted_and_one_in_the_background_is_running(tmp_path):
    folder = tmp_path / "runs"
    gone = make_run(folder, "gone", status="running")
    (gone / "events.jsonl").write_text("{}\n")
    old = time.time() - 3600
    for name in ("events.jsonl", "run.json"):
        os.utime(gone / name, (old, old))
    background = make_run(folder, "background", status="running")
    (background / "events.jsonl").write_text("{}\n")  # written just now: a worker is still at it
    store = RunStore(tmp_path / "p.cnnproj")
    status = {run.name: run.status for run in store.runs}
    assert status == {"gone": "interrupted", "background": "running"}


def test_a_run_kept_elsewhere_is_included_until_another_project_opens(tmp_path):
    project = tmp_path / "p.cnnproj"
    project.write_text("{}")
    make_run(runs_folder(project), "own", age=100)
    trial = make_run(tmp_path / "sweep" / "trials", "trial-0002", age=10)
    store = RunStore(project)
    seen: list[RunChange] = []
    store.subscribe(seen.append)
    with pytest.raises(StudioError, match="not a run directory"):
        store.include(tmp_path / "sweep" / "trials" / "trial-0009")
    summary = store.include(trial)
    assert summary.name == "trial-0002" and seen[-1] == RunChange("included", (trial,))
    assert [r.name for r in store.runs] == ["trial-0002", "own"]  # newest first, with the project's
    assert store.is_included(trial) and not store.is_included(runs_folder(project) / "own")
    store.include(trial)  # twice: listed once
    store.refresh()
    assert [r.name for r in store.runs] == ["trial-0002", "own"]
    store.delete([trial])
    assert store.included == [] and [r.name for r in store.runs] == ["own"]
    trial = make_run(tmp_path / "sweep" / "trials", "trial-0003")
    store.include(trial)
    store.open(tmp_path / "elsewhere" / "other.cnnproj")
    assert store.runs == [] and store.included == []
