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


def _class_folder(folder, per_class: int = 20):
    """3 classes of 8x8 grey PNGs (class k lights up the k-th band), like fixtures.tiny_arrays."""
    from PIL import Image

    from tests.training.fixtures import tiny_arrays

    images, labels = tiny_arrays(per_class * 6)
    written = dict.fromkeys(range(3), 0)
    for image, label in zip(images, labels, strict=True):
        if written[int(label)] < per_class:
            (folder / f"class{label}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(image[:, :, 0], "L").save(folder / f"class{label}" / f"{written[int(label)]:03d}.png")
            written[int(label)] += 1
    assert list(written.values()) == [per_class] * 3


def _probe_cluster(tmp_path, job, name: str) -> tuple[list[dict], list[list[str]]]:
    """Run `job` on two localhost workers through mirrored_probe --worker: their reports and opened files."""
    cluster = [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]
    opened = [tmp_path / f"opened-{name}-{index}.txt" for index in range(2)]
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})
        env = {**ENV, "PATH": "/usr/bin:/bin", "TF_CONFIG": config, "CNNSTUDIO_CACHE_DIR": str(tmp_path / "cache")}
        workers.append(subprocess.Popen([sys.executable, "-m", "tests.training.mirrored_probe", "--worker", str(job),
                                         str(opened[index])], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
    try:
        outputs = [w.communicate(timeout=300) for w in workers]
    finally:
        for w in workers:
            w.kill()
            w.wait()
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _out, err in outputs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    return reports, [path.read_text().splitlines() if path.exists() else [] for path in opened]


def test_multi_worker_streamed_folder_reads_one_shard_per_worker(tmp_path):
    """Two workers on a folder streamed from disk: each decodes only its shard of the files, the
    shards cover every file once, validation counts every image once, the weights agree."""
    folder = tmp_path / "images"
    _class_folder(folder)
    project = tiny_project(tmp_path, epochs=2, batch_size=8)
    run_dir = tmp_path / "run"
    job = write_job(tmp_path, project, run_dir, data=str(folder), data_source=None)
    reports, reads = _probe_cluster(tmp_path, job, "run")
    split = json.loads((run_dir / "config.json").read_text())["split"]["subsets"]
    train, val = ([str(folder / path) for path in split[name]] for name in ("train", "val"))
    assert (len(train), len(val)) == (48, 12)
    for report in reports:  # 24 files per worker, 4 per step: per-worker batch = global 8 / 2 workers
        assert report == {**report, "code": 0, "strategy": "MultiWorkerMirroredStrategy", "sharded": True,
                          "steps_per_epoch": 6, "val_counted": 12}
    assert reports[0]["weights"] == reports[1]["weights"]
    for index, paths in enumerate(reads):
        assert {p for p in paths if p in train} == set(train[index::2])  # its own shard, nothing else
        assert {p for p in paths if p in val} == set(val[index::2])
        assert set(paths) <= set(train) | set(val)
        assert max(paths.count(p) for p in set(paths)) <= 3  # once per epoch at most (2 epochs + final evaluation)
    assert run_status(run_dir)["status"] == "completed"
    assert len(_losses(run_dir)) == 2


def test_multi_worker_streamed_run_resumes_exactly(tmp_path):
    """Stopped mid-epoch and resumed on the same two workers, a sharded run ends with the weights
    of an uninterrupted one (each worker skips the batches of its half-done epoch)."""
    folder = tmp_path / "images"
    _class_folder(folder)
    project = tiny_project(tmp_path, epochs=3, batch_size=4)  # 12 steps per epoch
    whole, _reads = _probe_cluster(tmp_path, write_job(tmp_path, project, tmp_path / "whole", data=str(folder),
                                                       data_source=None), "whole")
    run_dir = tmp_path / "interrupted"
    # The workers vote on stopping every 20 steps: this run stops after 19, in the second epoch.
    _probe_cluster(tmp_path, write_job(tmp_path, project, run_dir, data=str(folder), data_source=None,
                                       stop_after_steps=1), "stopped")
    assert run_status(run_dir)["status"] == "stopped"
    state = load_checkpoint(run_dir / "checkpoints", "last").state["progress"]
    assert (state["epochs_done"], state["step"], state["global_step"]) == (1, 7, 19)
    resumed, _reads = _probe_cluster(tmp_path, write_job(tmp_path, project, run_dir, mode="resume"), "resumed")
    assert run_status(run_dir)["status"] == "completed"
    assert resumed[0]["weights"] == resumed[1]["weights"] == whole[0]["weights"]
