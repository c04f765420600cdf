"""Where the engine gets batches: a seam between the loop and cnnstudio.data.

The loop needs, for epoch e, the training batches in an order that depends only on
(seed, e), so a resumed run sees exactly the data an uninterrupted one would, and can skip
the batches of a half-done epoch. `ArrayData` does that from uint8 arrays in memory;
`load_project_data` decodes the project's image folder once through cnnstudio.data into
such arrays (or streams the files per epoch when they would not fit in memory).

Under MultiWorkerMirroredStrategy the two divide the work differently (docs/distributed.md):
ArrayData is built whole by every worker, and each worker keeps its slice of every global
batch (auto-sharding by DATA); StreamData gives each worker a fixed shard of the file list
(`WorkerShards`), so each worker reads and decodes only its own files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.errors import DatasetError

# Above this many decoded bytes the images are streamed from disk each epoch instead.
MEMORY_LIMIT = 2 * 1024**3


def epoch_permutation(count: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the training examples in `epoch` (0-based): a function of seed and epoch."""
    return np.random.default_rng([int(seed), int(epoch), 0x5EED]).permutation(count)


@dataclass
class ArrayData:
    """Training/validation images as uint8 arrays [N,H,W,C] with int labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    class_names: list[str]
    statistics: Any = None
    split: dict[str, Any] | None = None
    skipped: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    val_paths: list[str] | None = None  # file of each validation row (per-image predictions)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def train_count(self) -> int:
        return len(self.x_train)

    @property
    def val_count(self) -> int:
        return 0 if self.x_val is None else len(self.x_val)

    def steps_per_epoch(self, batch_size: int, drop_remainder: bool) -> int:
        count = self.train_count
        return count // batch_size if drop_remainder else math.ceil(count / batch_size)

    def train_dataset(self, epoch: int, batch_size: int, seed: int, skip_batches: int = 0,
                      drop_remainder: bool = False):
        import tensorflow as tf

        order = epoch_permutation(self.train_count, seed, epoch)[skip_batches * batch_size:]
        dataset = tf.data.Dataset.from_tensor_slices((self.x_train[order], self.y_train[order].astype(np.int32)))
        return _finish(dataset.batch(batch_size, drop_remainder=drop_remainder))

    def val_dataset(self, batch_size: int):
        import tensorflow as tf

        if self.x_val is None or not len(self.x_val):
            return None
        dataset = tf.data.Dataset.from_tensor_slices((self.x_val, self.y_val.astype(np.int32)))
        return _finish(dataset.batch(batch_size))


def _finish(dataset, sharded_by_hand: bool = False):
    import tensorflow as tf

    options = tf.data.Options()
    # Without a shard of its own, every worker builds the same dataset and takes its share of
    # every global batch (DATA); a worker's own shard must not be sharded again (OFF).
    policy = tf.data.experimental.AutoShardPolicy
    options.experimental_distribute.auto_shard_policy = policy.OFF if sharded_by_hand else policy.DATA
    options.deterministic = True
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


@dataclass(frozen=True)
class WorkerShards:
    """How a multi-worker run divides a streamed file list: worker w reads files[w::workers].

    The shard is fixed for the whole run (so each worker's decoded-image cache holds only its
    files), strided over the path-sorted list (a class folder's files lie together, so every
    shard has every class in proportion), and shuffled per epoch by (seed, epoch, worker).
    A step takes `batch_size / replicas` images on every replica: the global batch keeps its meaning.
    """

    workers: int
    replicas: int  # in sync, all workers together

    def __post_init__(self) -> None:
        if self.workers < 1 or self.replicas % self.workers:
            raise ValueError(f"replicas ({self.replicas}) must be a multiple of workers ({self.workers})")

    @property
    def local_replicas(self) -> int:
        return self.replicas // self.workers

    def replica_batch(self, batch_size: int) -> int:
        if batch_size % self.replicas:
            raise DatasetError(
                f"training.batch_size {batch_size} does not divide evenly between the {self.replicas} replicas of "
                f"this run ({self.workers} workers); choose a multiple of {self.replicas}."
            )
        return batch_size // self.replicas

    def shard(self, files: list[Any], worker: int) -> list[Any]:
        return list(files[worker::self.workers])

    def steps(self, count: int, batch_size: int) -> int:
        """Steps per epoch, the same on every worker: the smallest shard's full batches."""
        return (count // self.workers) // (self.replica_batch(batch_size) * self.local_replicas)

    def seed(self, seed: int, worker: int) -> int:
        """Worker w's shuffle seed: shards of equal size must not be shuffled in step."""
        return int(np.random.SeedSequence([int(seed), self.workers, worker]).generate_state(1)[0])

    def check(self, context) -> int:
        """This worker's index from tf.distribute's InputContext, checked against the plan."""
        if context.num_input_pipelines != self.workers or context.num_replicas_in_sync != self.replicas:
            raise DatasetError(
                f"The input was planned for {self.workers} workers and {self.replicas} replicas, but tf.distribute "
                f"runs {context.num_input_pipelines} input pipelines for {context.num_replicas_in_sync} replicas."
            )
        return int(context.input_pipeline_id)


@dataclass
class StreamData:
    """Images streamed from disk by cnnstudio.data's pipeline (datasets too big for memory).

    Epoch e's order depends only on (seed, e) there too (its `epoch_offset`); the decoded
    images are cached in a memory-mapped file that later epochs and runs reuse.
    """

    files: dict[str, list[tuple[str, int]]]
    image_shape: tuple[int, int, int]
    resize: str
    class_names: list[str]
    statistics: Any = None
    split: dict[str, Any] | None = None
    skipped: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    shards: WorkerShards | None = None  # set by shard_between: each worker reads its own files

    def shard_between(self, workers: int, replicas: int) -> None:
        """From now on each of `workers` workers reads only its shard of the files (see WorkerShards)."""
        self.shards = WorkerShards(int(workers), int(replicas)) if workers > 1 else None

    @property
    def val_paths(self) -> list[str]:
        return [path for path, _label in self.files.get("val") or []]

    @property
    def train_count(self) -> int:
        return len(self.files["train"])

    @property
    def val_count(self) -> int:
        return len(self.files.get("val") or [])

    def steps_per_epoch(self, batch_size: int, drop_remainder: bool) -> int:
        count = self.train_count
        if self.shards is not None:
            return self.shards.steps(count, batch_size)
        return count // batch_size if drop_remainder else math.ceil(count / batch_size)

    def train_dataset(self, epoch: int, batch_size: int, seed: int, skip_batches: int = 0,
                      drop_remainder: bool = False, input_context=None):
        """The epoch's batches; with `input_context` (sharded runs) this worker's per-replica batches."""
        from cnnstudio.data.pipeline import build_dataset

        if input_context is not None and self.shards is not None:
            return self._worker_train_dataset(input_context, epoch, batch_size, seed, skip_batches)
        dataset = build_dataset(self.files["train"], self.image_shape, batch_size, shuffle=True, seed=seed,
                                resize=self.resize, cache="disk", drop_remainder=drop_remainder,
                                skipped=self.skipped, epoch_offset=epoch)
        return _finish(dataset.skip(skip_batches))

    def _worker_train_dataset(self, context, epoch: int, batch_size: int, seed: int, skip_batches: int):
        from cnnstudio.data.pipeline import build_dataset

        shards = self.shards
        worker = shards.check(context)
        batch = shards.replica_batch(batch_size)
        dataset = build_dataset(shards.shard(self.files["train"], worker), self.image_shape, batch, shuffle=True,
                                seed=shards.seed(seed, worker), resize=self.resize, cache="disk",
                                drop_remainder=True, skipped=self.skipped, epoch_offset=epoch)
        # Every worker must give exactly `steps` batches per replica, or the others wait in the
        # all-reduce (or train on empty batches): a shard left short by unreadable files is
        # topped up from its next pass, which comes from the decoded cache.
        local = shards.local_replicas
        steps = shards.steps(self.train_count, batch_size)
        dataset = dataset.repeat().take(steps * local).skip(skip_batches * local)
        return _finish(dataset, sharded_by_hand=True)

    def val_dataset(self, batch_size: int, input_context=None):
        """Validation batches; with `input_context` (sharded runs) this worker's shard of them.

        Shards differ by one file at most; tf.distribute pads the shorter ones with empty
        batches, so every validation image counts exactly once.
        """
        from cnnstudio.data.pipeline import build_dataset

        if not self.val_count:
            return None
        files = self.files["val"]
        sharded = input_context is not None and self.shards is not None
        if sharded:
            files = self.shards.shard(files, self.shards.check(input_context))
            batch_size = self.shards.replica_batch(batch_size)
        return _finish(build_dataset(files, self.image_shape, batch_size, shuffle=False, seed=0,
                                     resize=self.resize, cache="disk", skipped=self.skipped),
                       sharded_by_hand=sharded)

    def distribute_train(self, strategy, epoch: int, batch_size: int, seed: int, skip_batches: int = 0):
        """The epoch for `strategy`: each worker builds its own shard (auto-sharding off)."""
        return strategy.distribute_datasets_from_function(
            lambda context: self.train_dataset(epoch, batch_size, seed, skip_batches, input_context=context))

    def distribute_val(self, strategy, batch_size: int):
        if not self.val_count:
            return None
        return strategy.distribute_datasets_from_function(
            lambda context: self.val_dataset(batch_size, input_context=context))


def load_project_data(project, folder: str | None = None, progress=None):
    """Scan, split and decode the project's images (to the graph's input size).

    Small enough datasets are decoded once into memory (ArrayData); bigger ones stream.
    """
    try:
        from cnnstudio.data import prepare_data
        from cnnstudio.data.pipeline import build_dataset
    except ImportError as exc:
        raise DatasetError(f"The dataset module is not available ({exc}); cannot read image folders.") from None
    if folder is not None:
        project.dataset["folder"] = str(folder)
    data = prepare_data(project, progress=progress)
    shape = tuple(int(d) for d in data.image_shape)
    resize = project.preprocessing.get("resize", "stretch")
    normalization = project.preprocessing.get("normalization", "rescale")
    statistics = None
    if normalization not in ("none", "rescale"):
        statistics = data.statistics(max_images=int(project.preprocessing.get("statistics_images", 2000)))
    warnings = list(getattr(data, "warnings", []) or [])
    sizes = sum(len(data.files.get(s) or []) for s in ("train", "val")) * int(np.prod(shape))
    if sizes > MEMORY_LIMIT:
        return StreamData(dict(data.files), shape, resize, list(data.class_names), statistics, project.split,
                          warnings=warnings)
    skipped: list[Any] = []
    arrays: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    for subset in ("train", "val"):
        files = list(data.files.get(subset) or [])
        arrays[subset] = None
        if not files:
            continue
        dataset = build_dataset(files, shape, 256, shuffle=False, seed=0, resize=resize, cache=None,
                                skipped=skipped)
        xs, ys = [], []
        for images, labels in dataset:
            xs.append(images.numpy())
            ys.append(labels.numpy())
        if xs:
            arrays[subset] = (np.concatenate(xs).astype(np.uint8), np.concatenate(ys).astype(np.int32))
    if arrays["train"] is None:
        raise DatasetError("The split has no readable training images: add images or lower the validation share.")
    val = arrays["val"]
    result = ArrayData(arrays["train"][0], arrays["train"][1], None if val is None else val[0],
                       None if val is None else val[1], list(data.class_names), statistics=statistics,
                       split=project.split, skipped=skipped)
    failed = {path for path, _reason in skipped}
    result.val_paths = [path for path, _label in data.files.get("val") or [] if path not in failed]
    result.warnings = warnings
    return result
