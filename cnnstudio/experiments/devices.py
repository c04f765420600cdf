"""Where trials run: one slot per GPU (each worker sees only its own), or CPU slots with the
cores split between them. Pure Python (nvidia-smi, no TensorFlow in the scheduler)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from cnnstudio.errors import StudioError


@dataclass(frozen=True)
class Slot:
    """One place a trial worker runs: its name and the environment it is started with."""

    name: str
    env: dict[str, str] = field(default_factory=dict)


def local_gpu_count() -> int:
    """GPUs nvidia-smi lists, restricted by CUDA_VISIBLE_DEVICES when it is set."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v for v in visible.split(",") if v.strip() and not v.strip().startswith("-")]
        if not ids:
            return 0
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    try:
        out = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    count = sum(1 for line in out.splitlines() if line.startswith("GPU "))
    return min(count, len(ids)) if visible is not None else count


def visible_gpu_ids(count: int) -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [v.strip() for v in (visible or "").split(",") if v.strip() and not v.strip().startswith("-")]
    return ids[:count] if visible is not None and ids else [str(i) for i in range(count)]


def plan_slots(parallel: int | None, gpus_per_trial: int = 1, gpu_count: int | None = None,
               cpu_count: int | None = None) -> list[Slot]:
    """The slots of a sweep: GPUs when there are any (one trial per GPU unless told
    otherwise), else `parallel` CPU slots sharing the cores evenly."""
    if parallel is not None and parallel < 1:
        raise StudioError(f"--parallel must be at least 1. Received: {parallel}")
    if gpus_per_trial < 1:
        raise StudioError(f"--gpus-per-trial must be at least 1. Received: {gpus_per_trial}")
    gpu_count = local_gpu_count() if gpu_count is None else gpu_count
    if gpu_count:
        ids = visible_gpu_ids(gpu_count)
        groups = [ids[i:i + gpus_per_trial] for i in range(0, len(ids) - gpus_per_trial + 1, gpus_per_trial)]
        if not groups:
            raise StudioError(f"--gpus-per-trial {gpus_per_trial}: this machine has only {gpu_count} GPU(s).")
        count = parallel or len(groups)
        return [Slot(f"GPU {','.join(groups[i % len(groups)])}",
                     {"CUDA_VISIBLE_DEVICES": ",".join(groups[i % len(groups)])}) for i in range(count)]
    count = parallel or 1
    cores = cpu_count or os.cpu_count() or 1
    threads = str(max(1, cores // count))
    # TensorFlow reads these at start-up; OMP covers oneDNN's own pool.
    env = {"CUDA_VISIBLE_DEVICES": "-1", "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": "1"
           if count > 1 else threads, "OMP_NUM_THREADS": threads}
    return [Slot(f"CPU {i + 1}/{count}" if count > 1 else "CPU", dict(env)) for i in range(count)]
