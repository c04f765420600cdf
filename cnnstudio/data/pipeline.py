"""The tf.data input pipeline: uint8 images, a full reshuffle every epoch, decode once, prefetch.

Each iteration over the dataset is one epoch:
  1. the epoch starts with a seeded permutation of the whole file list (a full shuffle, not
     a window); epoch e's order depends only on (seed, e), so a resumed run (epoch_offset)
     sees the order it would have seen;
  2. until every usable image is cached, the epoch decodes, in blocks of 8 files of one decoder
     (pipeline_plan), one map call per block with no branch per image (a branch inside the map
     costs about what a small JPEG's scaled decoding saves). Each file's decoder is fixed in
     numpy before the graph runs: plain 8-bit JPEG/PNG files that the scan marked
     (formats.native_decodable, looked up in bulk by formats.native_flags) are decoded by
     TensorFlow, JPEGs at 1/2-1/8 scale when their frame header's size still covers the input
     size; everything else (EXIF-rotated, CMYK, 16-bit, palette, alpha, BMP, GIF, WebP, TIFF, and
     files never scanned) goes through the scanner's own Pillow code, so the scan and training
     agree on what is readable. Shuffled epochs take each decoder's files in epoch order, 8 at a
     time, a block coming out where its last file stood: the order (and so every batch, replayed
     epochs included) is a pure function of (seed, epoch, files), and a resumed run skipping k
     batches sees the same ones. Unshuffled sets come out in the files' order exactly. Each
     batch is written to the cache;
  3. a file that fails is left out; when the epoch ends it is reported once in `skipped`
     with the reason, and left out of later epochs (a TensorFlow failure drops its block of 8:
     those of its files that Pillow can read move to Pillow and come back the next epoch);
  4. once everything is cached, an epoch is one gather per batch from the cache;
  5. batch, prefetch.
The cache is a TensorFlow variable in memory, or for datasets larger than RAM one
memory-mapped file in the user's cache folder, keyed by the files' paths, sizes and
modification times (so a change makes a new one) and reused by later runs. Its "filled" mask
is saved every few seconds, pixels flushed first, so a run stopped mid-epoch resumes: the
next decoding epoch reads the images already there instead of decoding them (a TensorFlow
block when all its files are there; Pillow's file by file). One file, not
shards: rows have a fixed size, so a row is found by its index with no table, the OS pages in
only what is read, and the mask says which rows are valid.
Pixel values of the two decoders can differ by rounding (TensorFlow resizes without
antialiasing, like keras.utils.image_dataset_from_directory; Pillow with it).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from cnnstudio.data import formats, pipeline_decode, pipeline_plan
from cnnstudio.data.cache import cache_root
from cnnstudio.data.pipeline_plan import PILLOW
from cnnstudio.fileio import write_json_atomic

SAVE_INTERVAL = 5.0  # seconds between saves of the disk cache's filled mask during an epoch

# The pipeline's functions have no Python control flow on tensors: AutoGraph has nothing to convert.
plain = tf.autograph.experimental.do_not_convert


def epoch_order(count: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The file order of one epoch: a permutation that depends only on (seed, epoch)."""
    if not shuffle:
        return np.arange(count, dtype=np.int64)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(count).astype(np.int64)


def _disk_store(count: int, shape: tuple[int, int, int], where: str, key: str):
    folder = cache_root() / "pipeline" if where == "disk" else Path(where).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    data_path, mask_path = folder / f"{key}.u8", folder / f"{key}.filled.npy"
    exists = data_path.exists() and data_path.stat().st_size == count * int(np.prod(shape))
    array = np.memmap(data_path, dtype=np.uint8, mode="r+" if exists else "w+", shape=(count, *shape))
    filled = np.zeros(count, dtype=bool)
    failed: dict[int, str] = {}
    if exists and mask_path.exists():
        try:
            mask = np.load(mask_path)
            if mask.shape == (count,):
                filled = mask.astype(bool)
            failed_path = mask_path.with_name(mask_path.name.replace(".filled.npy", ".failed.json"))
            if failed_path.exists():
                failed = {int(k): str(v) for k, v in json.loads(failed_path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError):
            pass
    return array, filled, mask_path, failed


class _Loader:
    """The Python side: file list, epoch counter, Pillow decoding, failure bookkeeping, disk cache."""

    def __init__(self, files, image_shape, resize, cache, skipped, epoch_offset, shuffle, seed):
        self.paths = [str(path) for path, _label in files]
        self.labels = np.asarray([int(label) for _path, label in files], dtype=np.int32)
        self.shape = tuple(int(v) for v in image_shape)
        self.resize, self.shuffle, self.seed = resize, shuffle, seed
        self.bad = np.zeros(len(self.paths), dtype=bool)
        self.reasons: dict[int, str] = {}  # Pillow failures of this epoch, until finish() reports them
        self.failures: dict[int, str] = {}  # every file left out for good, with the reason
        self.skipped = skipped
        self.epoch = int(epoch_offset) - 1
        self.lock = threading.Lock()
        # (replay from the cache?, files in output order): set by advance() each epoch.
        self.plan: tuple[bool, np.ndarray] = (False, np.zeros(0, np.int64))
        # Each file's decoder (pipeline_plan kinds; a file TensorFlow fails on moves to Pillow),
        # found in a helper thread (file headers) while the graph is being built.
        self._kinds: np.ndarray | None = None
        self._kinds_error: BaseException | None = None
        self.decoders: tuple[int, ...] | None = None  # with `branch`: set once the kinds are known
        self.branch = np.zeros(0, np.int32)
        self._kinds_thread = threading.Thread(target=self._find_kinds, name="cnnstudio-decoder-kinds", daemon=True)
        self._kinds_thread.start()
        self.disk = None
        self.saved = time.monotonic()
        self.cached = cache is not None
        self.complete = False  # set when a decoding epoch ends with nothing left to retry
        if cache not in (None, "memory"):
            array, filled, mask_path, failed = _disk_store(len(self.paths), self.shape, cache, self._key())
            self.disk = (array, filled, mask_path)
            for index, reason in failed.items():  # found by an earlier run on the same files
                if 0 <= index < len(self.paths):
                    self._fail(index, reason)
            self.complete = bool((filled | self.bad).all())

    def _find_kinds(self) -> None:
        try:
            self._kinds = pipeline_plan.decoder_kinds(self.paths, *self.shape)
        except BaseException as exc:  # re-raised where the kinds are first needed
            self._kinds_error = exc

    @property
    def kinds(self) -> np.ndarray:
        if self.decoders is None:
            self._kinds_thread.join()
            if self._kinds_error is not None:
                raise self._kinds_error
            # The graph has a branch only for the decoders this file list needs (tracing is set-up time).
            self.decoders, self.branch = pipeline_decode.branch_table(self._kinds)
        return self._kinds

    def _key(self) -> str:
        digest = hashlib.sha1(repr((self.shape, self.resize)).encode())
        for path in self.paths:
            try:
                stat = os.stat(path)
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError:
                digest.update(f"{path}\0missing\n".encode())
        return digest.hexdigest()[:24]

    def advance(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start the next epoch; return its blocks to decode (pipeline_plan.blocks: indices,
        lengths, kinds; PILLOW, whose Python side reads the disk cache, for a block already
        cached), or none when it replays the cache."""
        with self.lock:
            self.epoch += 1
            order = epoch_order(len(self.paths), self.seed, self.epoch, self.shuffle)
            order = order[~self.bad[order]]
            indices, lengths, kinds = pipeline_plan.blocks(order, self.kinds, keep_order=not self.shuffle)
            replay = self.complete and self.cached
            self.plan = (replay, pipeline_plan.flatten(indices, lengths))
        if replay:
            return indices[:0], lengths[:0], kinds[:0]
        if self.disk is not None:  # already in the disk cache (a run stopped mid-epoch): read, not decode
            kinds = np.where(self.disk[1][indices].all(axis=1), PILLOW, kinds).astype(np.int32)
        return indices, lengths, self.branch[kinds]

    def replay_indices(self) -> np.ndarray:
        replay, order = self.plan
        return order if replay else order[:0]

    def pillow_block(self, indices, length) -> tuple[np.ndarray, np.ndarray]:
        """The block's images that the disk cache has or Pillow reads, and their indices;
        a file that fails is left out, its reason kept for finish()."""
        images, kept = [], []
        filled = self.disk[1] if self.disk is not None else None
        for index in (int(i) for i in indices[: int(length)]):
            if filled is not None and filled[index]:
                images.append(np.asarray(self.disk[0][index]))
                kept.append(index)
                continue
            try:
                images.append(formats.load_image(self.paths[index], self.shape, self.resize))
                kept.append(index)
            except formats.UnusableImage as exc:
                self.reasons[index] = str(exc)
            except Exception as exc:  # whatever Pillow raises, the epoch goes on without this file
                self.reasons[index] = f"could not be decoded ({type(exc).__name__}: {exc})"
        if not images:
            return np.zeros((0, *self.shape), np.uint8), np.zeros(0, np.int64)
        return np.stack(images), np.asarray(kept, np.int64)

    def disk_read(self, index) -> np.ndarray:
        return np.asarray(self.disk[0][index])

    def disk_write(self, indices, images) -> np.ndarray:
        self.disk[0][indices] = images
        self.disk[1][indices] = True
        if time.monotonic() - self.saved > SAVE_INTERVAL:
            self._save_mask()  # a run stopped mid-epoch keeps what it decoded up to here
        return images

    def _save_mask(self) -> None:
        array, filled, mask_path = self.disk
        array.flush()  # the pixels reach the file before the mask says they are there
        tmp = mask_path.with_suffix(".tmp.npy")
        np.save(tmp, filled)
        os.replace(tmp, mask_path)
        self.saved = time.monotonic()

    def finish(self, missing) -> np.ndarray:
        """End of a decoding epoch: report the files that failed; TensorFlow failures retry with Pillow."""
        if self.plan[0]:
            return np.int64(0)  # a replayed epoch decoded nothing
        if self.disk is not None:
            missing = np.flatnonzero(~self.disk[1])
        retry = []
        for index in (int(i) for i in missing):
            if self.bad[index]:
                continue
            reason = self.reasons.pop(index, None)
            if reason is None:  # TensorFlow failed on its block (this file or another): ask Pillow
                try:
                    formats.load_image(self.paths[index], self.shape, self.resize)
                    retry.append(index)
                    self.kinds[index] = PILLOW
                    continue
                except formats.UnusableImage as exc:
                    reason = str(exc)
            self._fail(index, reason)
        self.complete = not retry
        if self.disk is not None:
            self._save_mask()
            mask_path = self.disk[2]
            failed = {str(i): self.failures[i] for i in np.flatnonzero(self.bad)}
            write_json_atomic(mask_path.with_name(mask_path.name.replace(".filled.npy", ".failed.json")), failed)
        return np.int64(len(retry))

    def _fail(self, index: int, reason: str) -> None:
        self.bad[index] = True
        self.failures[index] = reason
        entry = (self.paths[index], reason)
        if self.skipped is not None and entry not in self.skipped:  # one report per file
            self.skipped.append(entry)


def _memory_budget() -> int:
    """Bytes the in-memory cache may take: half the machine's RAM."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def _cpu_variable(shape: list[int], dtype, uninitialized: bool = False) -> tf.Variable:
    """A plain CPU variable for the pipeline's state, even when called inside a tf.distribute scope.

    tf.data runs on the CPU; a strategy scope would mirror the variable onto every GPU, so it
    is created in a helper thread, where no strategy scope is active (scopes are per thread).
    """

    def create():
        with tf.device("/cpu:0"):
            # uninitialized: no zero-fill of a cache whose rows are only read once written (`done`).
            value = tf.raw_ops.Empty(shape=shape, dtype=dtype, init=False) if uninitialized else tf.zeros(shape, dtype)
            return tf.Variable(value, trainable=False)

    if not tf.distribute.has_strategy():
        return create()
    result: list[tf.Variable] = []
    thread = threading.Thread(target=lambda: result.append(create()), name="cnnstudio-pipeline-state")
    thread.start()
    thread.join()
    return result[0]


def build_dataset(
    files: list[tuple[str, int]],
    image_shape: tuple[int, int, int],
    batch_size: int,
    shuffle: bool,
    seed: int,
    resize: str = "stretch",
    cache: str | None = "memory",
    drop_remainder: bool = False,
    skipped: list | None = None,
    epoch_offset: int = 0,
) -> tf.data.Dataset:
    """A dataset of (uint8 images [B, H, W, C], int32 labels [B]); each iteration is one epoch.

    cache: "memory" (becomes "disk" when the decoded images would take over half the RAM),
    "disk" (a memory-mapped file under ~/.cache/cnnstudio/pipeline, reused by later runs on
    unchanged files), a folder path for that file, or None (decode every epoch).
    skipped: a list that receives (path, reason) once for each file that cannot be decoded;
    such a file is left out of that epoch and every later one.
    epoch_offset: the epoch number of the first iteration (a resumed run sees the same order).
    """
    if resize not in formats.RESIZE_POLICIES:
        raise ValueError(f"resize must be one of {formats.RESIZE_POLICIES}. Received: resize={resize!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    height, width, channels = (int(v) for v in image_shape)
    count = len(files)
    if count == 0:
        empty = (np.zeros((0, height, width, channels), np.uint8), np.zeros((0,), np.int32))
        return tf.data.Dataset.from_tensor_slices(empty).batch(batch_size, drop_remainder=drop_remainder)
    if cache == "memory" and count * height * width * channels > _memory_budget():
        cache = "disk"  # the decoded images would not fit comfortably in RAM
    loader = _Loader(files, image_shape, resize, cache, skipped, epoch_offset, shuffle, seed)
    memory = cache == "memory"
    paths = tf.constant(loader.paths)
    labels = tf.constant(loader.labels)
    # Which indices produced an image this epoch (in memory: which are cached); the cache itself.
    done = _cpu_variable([count], tf.int8)
    if memory:
        store = _cpu_variable([count, height, width, channels], tf.uint8, uninitialized=True)
    image_spec = [height, width, channels]

    @plain
    def plan(_):
        """Advance the epoch: its blocks of files to decode, in order, and each block's decoder."""
        indices, lengths, kinds = tf.numpy_function(loader.advance, [], (tf.int64, tf.int32, tf.int32),
                                                    stateful=True)
        return tf.reshape(indices, [-1, pipeline_plan.BLOCK]), tf.reshape(lengths, [-1]), tf.reshape(kinds, [-1])

    @plain
    def keep(images, indices):
        """Cache a decoded batch (memory or disk) and mark its indices as done: one write per batch."""
        if not memory and cache is not None:
            images = tf.numpy_function(loader.disk_write, [indices, images], tf.uint8, stateful=True)
            images = tf.ensure_shape(images, [None, *image_spec])
        marks = tf.ones_like(indices, tf.int8)
        writes = [done.scatter_update(tf.IndexedSlices(marks, indices))]
        if memory:
            writes.append(store.scatter_update(tf.IndexedSlices(images, indices)))
        with tf.control_dependencies(writes):
            return tf.identity(images), tf.gather(labels, indices)

    @plain
    def finish_then_replay(_):
        """After a decoding epoch: report failures, reset the bookkeeping (no batch). In a replaying
        epoch (nothing decoded: finish does nothing): the files to gather from the cache, in order."""
        missing = tf.reshape(tf.where(done.value() == 0), [-1])
        retried = tf.numpy_function(loader.finish, [missing], tf.int64, stateful=True)
        with tf.control_dependencies([retried]):
            # Memory cache: `done` doubles as "cached", so it is only cleared without one.
            reset = done.assign(tf.zeros([count], tf.int8)) if not memory else tf.no_op()
        with tf.control_dependencies([reset]):
            return tf.reshape(tf.numpy_function(loader.replay_indices, [], tf.int64, stateful=True), [-1])

    @plain
    def gather_batch(index):
        if memory:
            images = tf.raw_ops.ResourceGather(resource=store.handle, indices=index, dtype=tf.uint8)
        else:
            images = tf.numpy_function(loader.disk_read, [index], tf.uint8, stateful=True)
            images = tf.ensure_shape(images, [None, *image_spec])
        return images, tf.gather(labels, index)

    # The end-of-epoch bookkeeping and the replay from the cache (one stream) are traced first: the decoders'
    # branches wait for the files' kinds (header reads in a helper thread meanwhile).
    replay = tf.data.Dataset.from_tensors(0).map(finish_then_replay).unbatch()
    replay = replay.batch(batch_size, drop_remainder=drop_remainder)
    replay = replay.map(gather_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    loader.kinds  # noqa: B018 (waits for the helper thread: the decoders in use are known)
    decode_block = pipeline_decode.block_decoder(height, width, channels, resize, tuple(loader.decoders))
    loader_id = tf.constant(pipeline_decode.register(loader), tf.int64)

    @plain
    def load(indices, length, kind):
        # One switch per block, not per image. A file TensorFlow fails on raises here and
        # ignore_errors drops its block; finish() hands the block's files to Pillow.
        images, kept = decode_block(paths, loader_id, indices, length, kind)
        return tf.ensure_shape(images, [None, *image_spec]), tf.ensure_shape(kept, [None])

    # One iteration = one epoch, without flat_map (which rebuilds its inner pipeline every epoch):
    # the plan advances the epoch when the iteration starts; the streams concatenated after it
    # (the end-of-epoch bookkeeping, then the replay from the cache) read that plan when they start.
    # Every decoder runs in one parallel map, a block of files per call, so the order needs no merging.
    decoded = tf.data.Dataset.from_tensors(0).map(plan).unbatch()
    decoded = decoded.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).ignore_errors()
    # Blocks become batches in one copy (rebatch = unbatch + batch); batches are cached whole, the
    # last partial one too (drop_remainder acts afterwards).
    dataset = decoded.rebatch(batch_size).map(keep)
    if drop_remainder:
        dataset = dataset.filter(plain(lambda images, _labels: tf.shape(images)[0] == batch_size))
    dataset = dataset.concatenate(replay)
    if drop_remainder:
        spec = [batch_size, *image_spec]
        dataset = dataset.map(plain(lambda x, y: (tf.ensure_shape(x, spec), tf.ensure_shape(y, [batch_size]))))
    return dataset.prefetch(tf.data.AUTOTUNE)
