"""Where runs go: beside the project, except the bundled sample's (its folder is its own image
folder and, installed, read-only); and a project's runs kept in its image folder are no class."""

from __future__ import annotations

import json
from pathlib import Path

from cnnstudio import paths
from cnnstudio.data.progress import TaskState
from cnnstudio.data.scan import scan_folder
from cnnstudio.training.console import default_run_dir
from cnnstudio.training.runstore import RunStore, runs_folder
from tests.data.helpers import make_class_folder


def test_the_bundled_samples_runs_go_to_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_HOME", str(tmp_path / "home"))
    sample = paths.sample_project()
    assert sample.exists()
    expected = tmp_path / "home" / "runs" / "sample"
    assert runs_folder(sample) == expected
    run_dir = default_run_dir(sample)
    assert run_dir.parent == expected and run_dir.name.startswith("sample-")
    assert not run_dir.is_relative_to(paths.resources_dir().resolve())
    assert RunStore(sample).folder == expected  # the GUI lists them from there too
    project = tmp_path / "mine" / "p.cnnproj"  # any other project: runs/ beside its file
    assert runs_folder(project) == (tmp_path / "mine" / "runs").resolve()
    assert default_run_dir(project).parent == (tmp_path / "mine" / "runs").resolve()


def test_cnnstudio_train_on_the_sample_writes_nothing_into_the_package(tmp_path, monkeypatch):
    from cnnstudio import cli
    from cnnstudio.training import console

    monkeypatch.setenv("CNNSTUDIO_HOME", str(tmp_path / "home"))
    jobs = []
    monkeypatch.setattr(console, "run_worker", lambda job, as_events: jobs.append(job) or 0)
    assert cli.main(["train", str(paths.sample_project()), "--dry-run"]) == 0
    run_dir = Path(jobs[0].run_dir)
    assert run_dir.parent == (tmp_path / "home" / "runs" / "sample").resolve()
    assert not (paths.sample_project().parent / "runs").exists()


def test_scan_skips_a_runs_folder_of_run_directories(tmp_path):
    data = make_class_folder(tmp_path / "data", {"cat": 3, "dog": 3})
    run = data / "runs" / "p-20260101-120000"
    run.mkdir(parents=True)
    (run / "job.json").write_text(json.dumps({"project": str(data / "p.cnnproj"), "run_dir": str(run)}))
    first = sorted((data / "cat").iterdir())[0]
    (run / "curves.png").write_bytes(first.read_bytes())  # an image inside a run: still not a class
    scan = scan_folder(data, False, TaskState(), use_cache=False)
    assert scan.class_names == ["cat", "dog"] and len(scan.images) == 6
    assert scan.problem() is None


def test_a_class_named_runs_is_still_a_class(tmp_path):
    data = make_class_folder(tmp_path / "data", {"cat": 2, "runs": 2})
    scan = scan_folder(data, False, TaskState(), use_cache=False)
    assert scan.class_names == ["cat", "runs"]
