"""Sweeps end to end: trials are real runs of the training worker (TensorFlow, CPU, tiny)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from cnnstudio.training.rundir import RunDirectory
from tests.experiments.helpers import (
    REPO,
    cli,
    environment,
    show,
    small_digits,
    wait_for,
    write_space,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path):
    return environment(tmp_path / "cache")


def epochs_recorded(run_dir: str) -> list[int]:
    return [row["epoch"] for row in RunDirectory(run_dir).read_metrics()]


def test_grid_of_four_on_the_sample_digits_then_export_the_best(tmp_path, env):
    space = write_space(tmp_path / "space.json", {"training.learning_rate": {"choices": [0.001, 0.003]},
                                                   "node:c1.filters": {"choices": [4, 6]}})
    project = small_digits(tmp_path, classes=10, per_class=50)  # the whole sample, copied
    result = cli(env, "sweep", project, "--space", space, "--sampler", "grid", "--epochs", "1",
                 "-o", tmp_path / "sweep")
    assert result.returncode == 0, result.stderr[-3000:]
    table = show(env, tmp_path / "sweep")
    trials = table["trials"]
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    assert len({json.dumps(t["settings"], sort_keys=True) for t in trials}) == 4
    assert {t["settings"]["node:c1.filters"] for t in trials} == {4, 6}
    for trial in trials:
        assert set(trial) >= {"number", "status", "settings", "value", "params", "macs", "seconds", "run_dir"}
        assert RunDirectory(trial["run_dir"]).read_run()["status"] == "completed"  # an ordinary run
        assert epochs_recorded(trial["run_dir"]) == [1]
        assert 0.0 <= trial["value"] <= 1.0 and trial["seconds"] > 0
    narrow = [t for t in trials if t["settings"]["node:c1.filters"] == 4]
    assert all(t["macs"] < w["macs"] for t in narrow for w in trials if w not in narrow)
    best = max(trials, key=lambda t: (t["value"], -t["number"]))
    assert table["best"] == best["number"] == trials[0]["number"]
    exported = cli(env, "sweep", "export", tmp_path / "sweep", "--format", "keras", "-o", tmp_path / "best.keras")
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert f"trial {best['number']}" in exported.stderr and (tmp_path / "best.keras").is_file()
    again = cli(env, "sweep", project, "--space", space, "--sampler", "grid", "-o", tmp_path / "sweep")
    assert again.returncode == 2 and "already holds a sweep" in again.stderr


def test_scheduler_killed_mid_sweep_resumes_without_loss_or_duplicate(tmp_path, env):
    project = small_digits(tmp_path)
    space = write_space(tmp_path / "space.json", {"list": [{"training.learning_rate": rate}
                                                           for rate in (0.001, 0.002, 0.003)]})
    sweep = tmp_path / "sweep"
    scheduler = subprocess.Popen([sys.executable, "-m", "cnnstudio", "sweep", str(project), "--space", str(space),
                                  "--epochs", "3", "-o", str(sweep)], cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    middle = sweep / "trials" / "trial-0001"
    try:
        # Kill everything (scheduler and the trial's worker) once trial 1 has a checkpoint.
        wait_for(lambda: (middle / "checkpoints" / "last.npz").exists(), what="trial 1's first checkpoint")
        worker_pid = int((middle / "worker.pid").read_text().split()[0])
        scheduler.send_signal(signal.SIGKILL)
        os.kill(worker_pid, signal.SIGKILL)
    finally:
        scheduler.kill()
        scheduler.wait()
    assert RunDirectory(middle).read_run()["status"] == "running"  # really cut mid-run
    resumed = cli(env, "sweep", "resume", sweep)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming 1 interrupted trial" in resumed.stderr
    trials = show(env, sweep)["trials"]
    assert sorted(t["number"] for t in trials) == [0, 1, 2]
    assert all(t["status"] == "completed" for t in trials)
    assert sorted(t["settings"]["training.learning_rate"] for t in trials) == [0.001, 0.002, 0.003]
    assert sorted(p.name for p in (sweep / "trials").iterdir()) == ["trial-0000", "trial-0001", "trial-0002"]
    for trial in trials:
        assert epochs_recorded(trial["run_dir"]) == [1, 2, 3]  # each epoch once
    events = [json.loads(line) for line in (middle / "events.jsonl").read_text().splitlines() if line.strip()]
    starts = [e for e in events if e["event"] == "started"]
    # Trial 1 continued from its checkpoint (the engine's exact resume), not from scratch.
    assert [e["mode"] for e in starts] == ["train", "resume"] and starts[1]["start_epoch"] >= 2
    finished = cli(env, "sweep", "resume", sweep)
    assert finished.returncode == 0 and len(show(env, sweep)["trials"]) == 3  # nothing left: nothing reruns


def test_median_pruner_stops_a_hopeless_trial_early(tmp_path, env):
    space = write_space(tmp_path / "space.json", {"list": [{"training.learning_rate": 0.001},
                                                           {"training.learning_rate": 1e-8}]})
    project = small_digits(tmp_path, classes=10, per_class=50)
    result = cli(env, "sweep", project, "--space", space, "--pruner", "median", "--epochs", "3",
                 "-o", tmp_path / "sweep")
    assert result.returncode == 0, result.stderr[-3000:]
    trials = {t["number"]: t for t in show(env, tmp_path / "sweep")["trials"]}
    assert trials[0]["status"] == "completed" and epochs_recorded(trials[0]["run_dir"]) == [1, 2, 3]
    assert trials[1]["status"] == "pruned"
    assert epochs_recorded(trials[1]["run_dir"]) == [1, 2]  # stopped at the first epoch it may be judged
    assert RunDirectory(trials[1]["run_dir"]).read_run()["status"] == "stopped"  # checkpointed, resumable


def test_two_schedulers_on_one_storage_split_the_work(tmp_path, env):
    project = small_digits(tmp_path)
    space = write_space(tmp_path / "space.json", {"list": [{"training.learning_rate": rate}
                                                           for rate in (0.001, 0.002, 0.003, 0.004)]})
    storage = f"journal:{tmp_path / 'shared.journal'}"
    command = [sys.executable, "-m", "cnnstudio", "sweep", str(project), "--space", str(space), "--epochs", "1",
               "--storage", storage, "-o"]
    first = subprocess.Popen([*command, str(tmp_path / "a")], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*command, str(tmp_path / "b")], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    outputs = [process.communicate(timeout=600)[1] for process in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    trials = show(env, tmp_path / "a")["trials"]
    assert show(env, tmp_path / "b")["trials"] == trials  # one study, seen from either folder
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    assert sorted(t["settings"]["training.learning_rate"] for t in trials) == [0.001, 0.002, 0.003, 0.004]
    ran = {name: sorted(p.name for p in (tmp_path / name / "trials").iterdir()) for name in ("a", "b")}
    assert len(ran["a"]) + len(ran["b"]) == 4  # no trial run twice
    assert ran["a"] and ran["b"], ran  # both schedulers took trials
    assert {t["run_dir"].split("/trials/")[0] for t in trials} == {str(tmp_path / "a"), str(tmp_path / "b")}


def test_a_killed_trial_worker_is_resumed_by_the_running_scheduler(tmp_path, env):
    project = small_digits(tmp_path)
    space = write_space(tmp_path / "space.json", {"list": [{"training.learning_rate": 0.001}]})
    sweep = tmp_path / "sweep"
    scheduler = subprocess.Popen([sys.executable, "-m", "cnnstudio", "sweep", str(project), "--space", str(space),
                                  "--epochs", "3", "-o", str(sweep)], cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    trial = sweep / "trials" / "trial-0000"
    try:
        wait_for(lambda: (trial / "checkpoints" / "last.npz").exists(), what="trial 0's first checkpoint")
        os.kill(int((trial / "worker.pid").read_text().split()[0]), signal.SIGKILL)
        _out, err = scheduler.communicate(timeout=600)
    finally:
        scheduler.kill()
        scheduler.wait()
    assert scheduler.returncode == 0, err[-3000:]
    assert "ended without finishing; resuming it from its checkpoint" in err
    (row,) = show(env, sweep)["trials"]
    assert row["status"] == "completed" and epochs_recorded(row["run_dir"]) == [1, 2, 3]
    events = [json.loads(line) for line in (trial / "events.jsonl").read_text().splitlines() if line.strip()]
    assert [e["mode"] for e in events if e["event"] == "started"] == ["train", "resume"]
