"""Persistent trial workers (`worker --serve`): a trial run as the second job of one process
gives exactly what a fresh `python -m cnnstudio.training.worker JOB` gives."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import subprocess
import sys

import numpy as np
import pytest

from cnnstudio.experiments.serving import ServingWorker
from cnnstudio.experiments.trial_runs import DATA_SOURCE
from cnnstudio.training.checkpoints import decode_checkpoint
from cnnstudio.training.job import Job
from cnnstudio.training.process import WorkerProcess
from cnnstudio.training.rundir import RunDirectory
from tests.experiments.helpers import REPO, environment, show, small_digits, wait_for, write_space

pytestmark = pytest.mark.slow

COMPARED = ("loss", "accuracy", "val_loss", "val_accuracy")


def served_events(events: queue.Queue, number: int) -> list[dict]:
    out = []
    while True:
        got, event = events.get(timeout=600)
        assert got == number
        if event is None:
            return out
        out.append(event)


def weights_checksum(run_dir) -> str:
    checkpoint = decode_checkpoint(RunDirectory(run_dir).checkpoints / "last.npz")
    digest = hashlib.sha256()
    for array in [*checkpoint.model, *checkpoint.optimizer]:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def metrics(run_dir) -> list[dict]:
    return [{k: row[k] for k in ("epoch", *COMPARED)} for row in RunDirectory(run_dir).read_metrics()]


def test_second_trial_of_a_persistent_worker_equals_a_fresh_worker(tmp_path, monkeypatch):
    env = environment(tmp_path / "cache")
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    project = small_digits(tmp_path, classes=3, per_class=12)
    # The first job leaves different state behind: another seed, rate, augmentation, batch size,
    # and a float16 dtype policy (global in Keras: without the reset the next job inherits it).
    first = Job(str(project), str(tmp_path / "first"), epochs=1, batch_size=8, data_source=DATA_SOURCE,
                overrides={"seed": 11, "learning_rate": 0.02, "augmentation.rotation": 15,
                           "mixed_precision": True})
    second = Job(str(project), str(tmp_path / "served"), epochs=2, data_source=DATA_SOURCE)
    fresh = Job(**{**second.to_dict(), "run_dir": str(tmp_path / "fresh")})
    for job in (first, second, fresh):
        job.save(tmp_path / f"{job.run_dir.rsplit('/', 1)[1]}.json")

    events: queue.Queue = queue.Queue()
    with (tmp_path / "serve.log").open("a") as log:
        server = ServingWorker({k: env[k] for k in ("CUDA_VISIBLE_DEVICES", "PYTHONPATH")}, stderr=log)
        try:
            job = server.submit(0, tmp_path / "first.json", events)
            assert [e["event"] for e in served_events(events, 0)][-1] == "finished" and job.wait(1) == 0
            assert job.reusable({"status": "completed"}) and server.alive()
            job = server.submit(1, tmp_path / "served.json", events)
            finished = served_events(events, 1)[-1]
            assert finished["event"] == "finished" and finished["status"] == "completed" and job.wait(1) == 0
            assert server.alive()  # both trials in one process
        finally:
            server.close()
        assert server.process.returncode == 0  # end of input ends an idle worker cleanly

        worker = WorkerProcess(tmp_path / "fresh.json", env=env, stderr=log)
        alone = [e for e in worker.events()]
        assert worker.wait() == 0 and alone[-1]["status"] == "completed"

    assert metrics(tmp_path / "served") == metrics(tmp_path / "fresh") and len(metrics(tmp_path / "fresh")) == 2
    assert metrics(tmp_path / "first") != metrics(tmp_path / "fresh")[:1]  # the first job really differed
    assert weights_checksum(tmp_path / "served") == weights_checksum(tmp_path / "fresh")
    # Each job's output went to its own run directory's log.
    assert (tmp_path / "served" / "worker.log").exists() and (tmp_path / "first" / "worker.log").exists()


def test_a_failed_job_ends_the_persistent_worker(tmp_path):
    env = environment(tmp_path / "cache")
    events: queue.Queue = queue.Queue()
    bad = tmp_path / "bad.json"
    bad.write_text('{"project": "nowhere.cnnproj", "run_dir": "%s"}' % (tmp_path / "run"))
    with (tmp_path / "serve.log").open("a") as log:
        server = ServingWorker({"PYTHONPATH": env["PYTHONPATH"], "CUDA_VISIBLE_DEVICES": "-1"}, stderr=log)
        try:
            job = server.submit(0, bad, events)
            assert served_events(events, 0)[-1]["status"] == "failed"
            assert job.wait(60) == 1 and not job.reusable({"status": "failed"})
            server.process.wait(60)  # it ended by itself: the next trial gets a fresh process
            assert not server.alive() and server.submit(1, bad, events) is None
        finally:
            server.close()


def test_a_reused_worker_killed_mid_trial_is_replaced_and_the_trial_resumed(tmp_path):
    env = environment(tmp_path / "cache")
    project = small_digits(tmp_path)
    space = write_space(tmp_path / "space.json", {"list": [{"training.learning_rate": 0.001},
                                                           {"training.learning_rate": 0.002}]})
    sweep = tmp_path / "sweep"
    scheduler = subprocess.Popen([sys.executable, "-m", "cnnstudio", "sweep", str(project), "--space", str(space),
                                  "--epochs", "3", "-o", str(sweep)], cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first, second = (sweep / "trials" / name for name in ("trial-0000", "trial-0001"))
    try:
        wait_for(lambda: (first / "worker.pid").exists(), what="trial 0's worker")
        first_pid = int((first / "worker.pid").read_text().split()[0])
        wait_for(lambda: (second / "checkpoints" / "last.npz").exists(), what="trial 1's first checkpoint")
        second_pid = int((second / "worker.pid").read_text().split()[0])
        os.kill(second_pid, signal.SIGKILL)
        _out, err = scheduler.communicate(timeout=600)
    finally:
        scheduler.kill()
        scheduler.wait()
    assert second_pid == first_pid  # trial 1 ran in trial 0's process
    assert scheduler.returncode == 0, err[-3000:]
    assert "trial 1: its worker ended without finishing; resuming it from its checkpoint" in err
    trials = show(env, sweep)["trials"]
    assert [t["status"] for t in trials] == ["completed", "completed"]
    assert [row["epoch"] for row in RunDirectory(second).read_metrics()] == [1, 2, 3]
    events = [json.loads(line) for line in (second / "events.jsonl").read_text().splitlines() if line.strip()]
    assert [e["mode"] for e in events if e["event"] == "started"] == ["train", "resume"]
