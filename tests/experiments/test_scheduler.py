"""The scheduler's bookkeeping with stand-in workers (no TensorFlow): budgets, samplers, failures,
slots. The real worker is exercised by test_sweeps.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cnnstudio.experiments import scheduler as scheduler_module
from cnnstudio.experiments.create import create_sweep
from cnnstudio.experiments.devices import plan_slots
from cnnstudio.experiments.scheduler import Scheduler
from cnnstudio.experiments.trial_runs import TrialWorker
from cnnstudio.training.rundir import RunDirectory
from tests.experiments.helpers import small_digits


class StandInProcess:
    """What TrialWorker needs of WorkerProcess."""

    pid = 0

    def wait(self, timeout=None):
        return 0

    def kill(self):
        pass

    def signal(self, signum):
        pass


def stand_in_worker(number, job, slot, events):
    """Writes a run as the worker would and queues its events: accuracy peaks at lr 0.01,
    a learning rate above 0.3 ends in a NaN loss."""
    from cnnstudio.project import load_project

    run_dir = Path(job.run_dir)
    rundir = RunDirectory(run_dir)
    rundir.create()
    job.save(run_dir / "job.json")
    rate = load_project(job.project).training["learning_rate"]
    log = []
    epochs = job.epochs or 2

    def emit(name, **fields):
        event = {"v": 1, "event": name, "time": 0.0, **fields}
        log.append(event)
        events.put((number, event))

    emit("started", mode="train", train_examples=48)
    if rate > 0.3:
        emit("error", category="nan_loss", message="The loss became NaN.", detail="")
        emit("finished", status="failed")
        rundir.write_run(status="failed")
    else:
        for epoch in range(1, epochs + 1):
            accuracy = max(0.0, 1 - abs(math.log10(rate) + 2) / 4) * epoch / epochs
            emit("epoch", epoch=epoch, val_accuracy=accuracy, val_loss=1 - accuracy, seconds=1.0,
                 confusion_matrix=[[1, 0], [0, 1]])
        emit("finished", status="completed")
        rundir.write_run(status="completed")
    (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in log))
    events.put((number, None))
    return TrialWorker(number, run_dir, slot, StandInProcess(), open(run_dir / "worker.log", "a"), job.mode)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(scheduler_module, "start_worker", stand_in_worker)
    return small_digits(tmp_path, classes=2, per_class=10)


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_sampled_sweeps_stop_at_the_trial_budget_and_record_failures(project, tmp_path, sampler):
    space = {"training.learning_rate": {"log_uniform": [1e-4, 1.0]}}
    sweep = create_sweep(project, space, tmp_path / sampler, sampler=sampler, trials=12, epochs=2, seed=3)
    counts = Scheduler(sweep.path).run()
    assert sum(counts.values()) == 12 and counts.get("running", 0) == 0
    from cnnstudio.commands.sweep import load_rows

    config, rows, best = load_rows(sweep.path)
    failed = [r for r in rows if r.status == "failed"]
    assert all(r.failure == "nan_loss" and r.settings["training.learning_rate"] > 0.3 for r in failed)
    assert all(r.status == "completed" for r in rows if r.settings["training.learning_rate"] <= 0.3)
    assert best is not None and best.value == max(r.value for r in rows if r.status == "completed")
    assert len({r.number for r in rows}) == 12
    assert Scheduler(sweep.path).run() == counts  # the budget is spent: resume starts nothing


def test_second_objective_marks_the_pareto_set(project, tmp_path):
    space = {"training.learning_rate": {"choices": [0.01, 0.001]}, "node:c1.filters": {"choices": [2, 6]}}
    sweep = create_sweep(project, space, tmp_path / "pareto", sampler="grid", epochs=1, second_objective="macs")
    Scheduler(sweep.path).run()
    from cnnstudio.commands.sweep import load_rows

    _config, rows, _best = load_rows(sweep.path)
    assert len(rows) == 4
    pareto = {(r.settings["training.learning_rate"], r.settings["node:c1.filters"]) for r in rows if r.pareto}
    assert pareto == {(0.01, 2)}  # the most accurate is also the cheapest
    assert all(r.second_value == r.macs for r in rows)
    assert all(len(r.curve) == 1 for r in rows)  # curves for the Experiments plots, two objectives too


def test_an_invalid_trial_is_recorded_and_the_sweep_goes_on(project, tmp_path):
    space = {"list": [{"node:c1.kernel_size": 31}, {"training.learning_rate": 0.01}]}  # 31 > the 32-pixel input after c1
    sweep = create_sweep(project, space, tmp_path / "invalid", epochs=1)
    counts = Scheduler(sweep.path).run()
    from cnnstudio.commands.sweep import load_rows

    _config, rows, _best = load_rows(sweep.path)
    broken = next(r for r in rows if "node:c1.kernel_size" in r.settings)
    assert broken.status == "failed" and broken.failure == "invalid_architecture", broken
    assert counts == {"completed": 1, "failed": 1}


def test_slots_one_trial_per_gpu_or_cores_split(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpus = plan_slots(None, gpu_count=4)
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in gpus] == ["0", "1", "2", "3"]
    pairs = plan_slots(None, gpus_per_trial=2, gpu_count=4)
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in pairs] == ["0,1", "2,3"]
    cpu = plan_slots(2, gpu_count=0, cpu_count=2)
    assert len(cpu) == 2 and all(s.env["TF_NUM_INTRAOP_THREADS"] == "1" for s in cpu)
    assert plan_slots(None, gpu_count=0, cpu_count=8)[0].env["TF_NUM_INTRAOP_THREADS"] == "8"
    with pytest.raises(Exception, match="--gpus-per-trial 3"):
        plan_slots(None, gpus_per_trial=3, gpu_count=2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")  # the user's choice of GPUs is kept
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in plan_slots(None, gpu_count=2)] == ["2", "5"]


def test_a_spent_time_budget_starts_no_trial(project, tmp_path):
    space = {"training.learning_rate": {"log_uniform": [1e-4, 1.0]}}
    sweep = create_sweep(project, space, tmp_path / "timed", sampler="random", time_limit_minutes=1e-9)
    assert Scheduler(sweep.path).run() == {}  # no --trials: only the clock stops a random search
