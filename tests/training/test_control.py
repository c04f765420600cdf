"""Stopping a running worker: the STOP file and WorkerProcess.stop() (SIGINT, then terminate, then kill)."""

from __future__ import annotations

import subprocess

from cnnstudio.training.process import WorkerProcess, request_stop
from tests.training.fixtures import tiny_project
from tests.training.helpers import ENV, REPO, metrics_epochs, run_status, write_job


def _run_until_first_batch(job, action):
    worker = WorkerProcess(job, env=ENV, cwd=REPO, stderr=subprocess.DEVNULL)
    events, acted = [], False
    try:
        for event in worker.events():
            events.append(event)
            if event["event"] == "batch" and not acted:
                action(worker)
                acted = True
        code = worker.wait(60)
    finally:
        worker.kill()
    return code, events


def test_stop_file_stops_gracefully(tmp_path):
    project = tiny_project(tmp_path, epochs=300)
    run_dir = tmp_path / "run"
    code, events = _run_until_first_batch(write_job(tmp_path, project, run_dir), lambda w: request_stop(run_dir))
    assert code == 0
    assert events[-1]["status"] == "stopped" and events[-1]["epochs_completed"] < 300
    assert any(e["event"] == "checkpoint" and e["kind"] == "stop" for e in events)
    assert run_status(run_dir)["status"] == "stopped"
    assert metrics_epochs(run_dir) == list(range(1, events[-1]["epochs_completed"] + 1))


def test_worker_process_stop_sends_a_graceful_signal(tmp_path):
    project = tiny_project(tmp_path, epochs=300)
    code, events = _run_until_first_batch(write_job(tmp_path, project, tmp_path / "run"),
                                          lambda w: w.stop(grace=30))
    assert code == 0
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "stopped"
