"""Run worker processes and read run directories in tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.training.checkpoints import load_checkpoint
from cnnstudio.training.job import Job
from cnnstudio.training.process import WorkerProcess

REPO = Path(__file__).resolve().parents[2]
ENV = {"CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


def write_job(folder: Path, project: Path, run_dir: Path, **fields: Any) -> Path:
    fields.setdefault("data_source", "tests.training.fixtures:tiny_data")
    job = Job(str(project), str(run_dir), **fields)
    return job.save(folder / f"job-{run_dir.name}-{fields.get('mode', 'train')}.json")


def run_worker(job_file: Path, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, list[dict]]:
    worker = WorkerProcess(job_file, env={**ENV, **(env or {})}, cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        events = list(worker.events())
        code = worker.wait(timeout)
    finally:
        worker.kill()
    assert worker.raw_lines == [], f"non-event output on stdout: {worker.raw_lines[:3]}"
    return code, events


def final_weights(run_dir: Path) -> list[np.ndarray]:
    checkpoint = load_checkpoint(run_dir / "checkpoints", "last")
    assert checkpoint is not None
    return checkpoint.model


def metrics_epochs(run_dir: Path) -> list[int]:
    lines = (run_dir / "metrics.csv").read_text().splitlines()[1:]
    return [int(line.split(",")[0]) for line in lines]


def run_status(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text())
