"""Which tf.distribute strategy runs the train step, chosen from the device setting.

- TF_CONFIG set with more than one worker: MultiWorkerMirroredStrategy (every process runs
  the same job; worker 0, the chief, writes the run directory).
- device "all" (or "auto" with several GPUs): MirroredStrategy over every local GPU
  (over every logical CPU when there is no GPU, which is how the tests run it).
- otherwise the default strategy on one device (gpu:N, cpu, or the first GPU for "auto").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import TrainingError


@dataclass
class Placement:
    strategy: Any
    name: str
    devices: list[str]
    workers: int = 1
    worker_index: int = 0

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    @property
    def is_chief(self) -> bool:
        return self.worker_index == 0


def enable_memory_growth() -> None:
    """Let several runs and the app share a GPU (must run before any GPU is touched)."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):
            pass  # already initialised: nothing we can change now


def cluster_from_env() -> tuple[int, int]:
    """(number of workers, this worker's index) from TF_CONFIG; (1, 0) without it."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 1, 0
    try:
        config = json.loads(raw)
        workers = len(config.get("cluster", {}).get("worker", []))
        task = config.get("task", {})
        index = int(task.get("index", 0))
    except (ValueError, TypeError, AttributeError) as exc:
        raise TrainingError(f"TF_CONFIG is not valid JSON describing a cluster ({exc}).") from None
    if task.get("type", "worker") != "worker":
        raise TrainingError("TF_CONFIG: only 'worker' tasks are supported (no chief/ps/evaluator).")
    return max(1, workers), index


def choose_strategy(device: str = "auto") -> Placement:
    import tensorflow as tf

    enable_memory_growth()
    workers, index = cluster_from_env()
    if workers > 1:
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO
        )
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or ["/cpu:0"]
        return Placement(strategy, "MultiWorkerMirroredStrategy", devices, workers, index)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    device = (device or "auto").strip().lower()
    if device == "all" or (device == "auto" and len(gpus) > 1):
        targets = gpus or cpus
        if len(targets) > 1:
            return Placement(tf.distribute.MirroredStrategy(devices=targets), "MirroredStrategy", targets)
        device = "auto"
    if device == "cpu":
        target = cpus[0]
    elif device.startswith("gpu"):
        number = device.partition(":")[2] or "0"
        if not number.isdigit() or int(number) >= len(gpus):
            raise TrainingError(
                f"training.device is {device!r} but this machine has {len(gpus)} GPU(s). "
                "Choose auto, cpu, all or gpu:N with N below the GPU count."
            )
        target = gpus[int(number)]
    elif device == "auto":
        # The default strategy: no dataset distribution overhead, the same path as model.fit.
        return Placement(tf.distribute.get_strategy(), "default", [gpus[0] if gpus else cpus[0]])
    else:
        raise TrainingError(f"training.device {device!r} is not auto, cpu, gpu:N or all.")
    return Placement(tf.distribute.OneDeviceStrategy(target), "OneDeviceStrategy", [target])


def split_cpu(count: int) -> None:
    """Expose `count` logical CPU devices (tests run MirroredStrategy on them)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
