"""The tf.data input pipeline: uint8 batches, a full reshuffle every epoch, decode once, prefetch.

Images are decoded with the same Pillow code the scanner uses (cnnstudio.data.formats), so
every format the scan accepts (JPEG, PNG, BMP, GIF, WebP, TIFF; 16-bit, CMYK, palette, EXIF
orientation) trains, and a file that fails anyway is skipped and reported, never fatal.

How it runs: a Python generator yields one batch of indices at a time from a seeded
permutation of the whole file list (a full shuffle, not a window; epoch e's order depends
only on (seed, e)). Each index batch goes to a parallel map that returns the images: from
the cache when present, else decoded by a few threads (Pillow releases the GIL while
decoding and resizing) and written to the cache. The cache is an in-memory array or a
memory-mapped file in the user's cache folder; after the first epoch a batch costs one
gather. Each new iteration over the dataset is the next epoch, starting at `epoch_offset`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tensorflow as tf

from cnnstudio.data import formats
from cnnstudio.data.cache import cache_root


def epoch_order(count: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The file order of one epoch: a permutation that depends only on (seed, epoch)."""
    if not shuffle:
        return np.arange(count, dtype=np.int64)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(count).astype(np.int64)


class _Store:
    """Decoded, resized uint8 images by file index: in memory or in a memory-mapped file."""

    def __init__(self, count: int, shape: tuple[int, int, int], where: str | None, key: str):
        self.count, self.shape = count, shape
        self.filled = np.zeros(count, dtype=bool)
        self.array: np.ndarray | None = None
        self.mask_path: Path | None = None
        if where is None or where == "memory":
            self.array = np.empty((count, *shape), dtype=np.uint8) if count else None
            return
        folder = cache_root() / "pipeline" if where == "disk" else Path(where).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        data_path = folder / f"{key}.u8"
        self.mask_path = folder / f"{key}.filled.npy"
        exists = data_path.exists() and data_path.stat().st_size == count * int(np.prod(shape))
        self.array = np.memmap(data_path, dtype=np.uint8, mode="r+" if exists else "w+", shape=(count, *shape))
        if exists and self.mask_path.exists():
            try:
                mask = np.load(self.mask_path)
                if mask.shape == (count,):
                    self.filled = mask.astype(bool)
            except (OSError, ValueError):
                pass

    def flush(self) -> None:
        if self.mask_path is not None and isinstance(self.array, np.memmap):
            self.array.flush()
            tmp = self.mask_path.with_suffix(".tmp.npy")
            np.save(tmp, self.filled)
            os.replace(tmp, self.mask_path)


class _Loader:
    """Turns a batch of file indices into (images, labels), skipping files that fail."""

    def __init__(self, files, image_shape, resize, cache, skipped, epoch_offset, workers):
        self.paths = [str(path) for path, _label in files]
        self.labels = np.asarray([int(label) for _path, label in files], dtype=np.int32)
        self.shape = tuple(int(v) for v in image_shape)
        self.resize = resize
        self.bad = np.zeros(len(self.paths), dtype=bool)
        self.skipped = skipped
        self.epoch = int(epoch_offset) - 1
        self.lock = threading.Lock()
        self.workers = workers or min(16, os.cpu_count() or 2)
        self.store = _Store(len(self.paths), self.shape, cache, self._key()) if cache else None

    def _key(self) -> str:
        digest = hashlib.sha1(repr((self.shape, self.resize)).encode())
        for path in self.paths:
            try:
                stat = os.stat(path)
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError:
                digest.update(f"{path}\0missing\n".encode())
        return digest.hexdigest()[:24]

    def next_epoch(self) -> int:
        with self.lock:
            self.epoch += 1
            return self.epoch

    def _decode(self, index: int) -> np.ndarray | None:
        try:
            return formats.load_image(self.paths[index], self.shape, self.resize)
        except formats.UnusableImage as exc:
            reason = str(exc)
        except Exception as exc:  # anything else Pillow raises: still skip, never stop the epoch
            reason = f"could not be decoded ({type(exc).__name__}: {exc})"
        with self.lock:
            if not self.bad[index]:
                self.bad[index] = True
                if self.skipped is not None:
                    self.skipped.append((self.paths[index], reason))
        return None

    def load(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        indices = np.asarray(indices, dtype=np.int64)
        images = np.empty((len(indices), *self.shape), dtype=np.uint8)
        ok = ~self.bad[indices]
        store = self.store
        cached = store.filled[indices] & ok if store is not None else np.zeros(len(indices), dtype=bool)
        if cached.any():
            images[cached] = store.array[indices[cached]]
        todo = np.flatnonzero(ok & ~cached)
        if len(todo) > 1 and self.workers > 1:
            # A short-lived pool per batch: no idle threads outlive the dataset.
            with ThreadPoolExecutor(max_workers=min(self.workers, len(todo))) as pool:
                decoded = list(pool.map(self._decode, indices[todo].tolist()))
        else:
            decoded = [self._decode(int(i)) for i in indices[todo]]
        for position, image in zip(todo, decoded, strict=True):
            if image is None:
                ok[position] = False
                continue
            images[position] = image
            if store is not None:
                store.array[indices[position]] = image
                store.filled[indices[position]] = True
        return images[ok], self.labels[indices[ok]]

    def batches(self, batch_size: int, shuffle: bool, seed: int, drop_remainder: bool):
        order = epoch_order(len(self.paths), seed, self.next_epoch(), shuffle)
        order = order[~self.bad[order]]
        stop = len(order) - len(order) % batch_size if drop_remainder else len(order)
        for start in range(0, stop, batch_size):
            yield order[start : start + batch_size]
        if self.store is not None:
            self.store.flush()


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
    parallel_batches: int = 2,
    workers: int | None = None,
) -> tf.data.Dataset:
    """A dataset of (uint8 images [B, H, W, C], int32 labels [B]).

    cache: "memory", "disk" (a memory-mapped file under ~/.cache/cnnstudio/pipeline, reused by
    later runs on unchanged files), a folder path for that file, or None (decode every epoch).
    skipped: a list that receives (path, reason) for each file that fails to decode; such a
    file is left out of the batch (a batch can then be smaller) and of every later epoch.
    epoch_offset: the epoch number of the first iteration (a resumed run sees the same order).
    parallel_batches, workers: batches decoded at once, and decoding threads per batch
    (default: the CPU count; Pillow releases the GIL while it decodes and resizes).
    """
    if resize not in formats.RESIZE_POLICIES:
        raise ValueError(f"resize must be one of {formats.RESIZE_POLICIES}. Received: resize={resize!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    loader = _Loader(files, image_shape, resize, cache, skipped, epoch_offset, workers)
    height, width, channels = (int(v) for v in image_shape)

    def generate():
        yield from loader.batches(batch_size, shuffle, seed, drop_remainder)

    def load(indices):
        images, labels = tf.numpy_function(loader.load, [indices], (tf.uint8, tf.int32), stateful=True)
        images.set_shape([None, height, width, channels])
        labels.set_shape([None])
        return images, labels

    dataset = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec([None], tf.int64))
    dataset = dataset.map(load, num_parallel_calls=parallel_batches, deterministic=True)
    if drop_remainder:
        # A batch that lost a file to a decode failure is dropped too, keeping shapes static.
        dataset = dataset.filter(lambda images, _labels: tf.shape(images)[0] == batch_size)
        dataset = dataset.map(lambda images, labels: (tf.ensure_shape(images, [batch_size, height, width, channels]),
                                                      tf.ensure_shape(labels, [batch_size])))
    else:
        dataset = dataset.filter(lambda images, _labels: tf.shape(images)[0] > 0)
    return dataset.prefetch(tf.data.AUTOTUNE)
