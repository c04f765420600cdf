"""The same train step under MirroredStrategy (two logical CPUs) and MultiWorkerMirroredStrategy
(two worker processes on localhost): identical weights everywhere and a falling loss."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import numpy as np

from cnnstudio.training.checkpoints import load_checkpoint
from cnnstudio.training.process import WorkerProcess
from tests.training.fixtures import tiny_project
from tests.training.helpers import ENV, REPO, final_weights, run_status, write_job


def _losses(run_dir):
    lines = (run_dir / "metrics.csv").read_text().splitlines()[1:]
    return [float(line.split(",")[1]) for line in lines]


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    project = tiny_project(tmp_path, epochs=4, device="all")
    run_dir = tmp_path / "run"
    job = write_job(tmp_path, project, run_dir)
    result = subprocess.run([sys.executable, "-m", "tests.training.mirrored_probe", str(job)], cwd=REPO,
                            env={**ENV, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "copies": 2, "strategy": "MirroredStrategy", "replicas": 2, "identical": True}
    losses = _losses(run_dir)
    assert len(losses) == 4 and losses[-1] < losses[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def test_multi_worker_mirrored_on_localhost(tmp_path):
    project = tiny_project(tmp_path, epochs=3)
    run_dir = tmp_path / "run"
    job = write_job(tmp_path, project, run_dir)
    cluster = [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})
        workers.append(WorkerProcess(job, env={**ENV, "TF_CONFIG": config}, cwd=REPO, stderr=subprocess.DEVNULL))
    try:
        streams = [list(w.events()) for w in workers]
        codes = [w.wait(300) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert codes == [0, 0], [s[-2:] for s in streams]
    for index, events in enumerate(streams):
        started = next(e for e in events if e["event"] == "started")
        assert started["strategy"] == "MultiWorkerMirroredStrategy"
        assert started["workers"] == 2 and started["worker_index"] == index
        assert events[-1]["status"] == "completed"
    # Worker 0 wrote the run directory; worker 1 only its final weights.
    assert run_status(run_dir)["status"] == "completed"
    other = load_checkpoint(run_dir / "worker-1", "final")
    for chief, second in zip(final_weights(run_dir), other.model, strict=True):
        np.testing.assert_array_equal(chief, second)
    losses = _losses(run_dir)
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_multi_worker_stop_is_agreed(tmp_path):
    """A STOP seen by the workers at different moments must not leave one waiting for the other."""
    project = tiny_project(tmp_path, epochs=400)
    run_dir = tmp_path / "run"
    job = write_job(tmp_path, project, run_dir)
    cluster = [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]

    def start(job_file):
        return [WorkerProcess(job_file, env={**ENV, "TF_CONFIG": json.dumps(
            {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})}, cwd=REPO,
            stderr=subprocess.DEVNULL) for index in range(2)]

    workers = start(job)
    try:
        chief = []
        for event in workers[0].events():
            chief.append(event)
            if event["event"] == "batch" and event["epoch"] == 2:
                (run_dir / "STOP").touch()
        other = list(workers[1].events())
        codes = [w.wait(120) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert codes == [0, 0]
    assert chief[-1]["status"] == other[-1]["status"] == "stopped"
    assert chief[-1]["epochs_completed"] == other[-1]["epochs_completed"] < 400
    assert run_status(run_dir)["status"] == "stopped"
