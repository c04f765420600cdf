"""Epoch order depends only on (seed, epoch), and a half-done epoch resumes where it stopped."""

from __future__ import annotations

import numpy as np

from cnnstudio.training.data_source import ArrayData, StreamData, epoch_permutation


def _labels(dataset):
    return [int(v) for _, labels in dataset for v in labels.numpy()]


def test_epoch_permutation_is_a_function_of_seed_and_epoch():
    a = epoch_permutation(50, 3, 1)
    assert np.array_equal(a, epoch_permutation(50, 3, 1))
    assert not np.array_equal(a, epoch_permutation(50, 3, 2))
    assert sorted(a) == list(range(50))


def test_array_data_skip_resumes_the_same_order():
    x = np.zeros((23, 2, 2, 1), np.uint8)
    y = np.arange(23, dtype=np.int32)
    data = ArrayData(x, y, None, None, ["a"])
    full = _labels(data.train_dataset(4, 5, seed=9))
    assert sorted(full) == list(range(23))
    assert _labels(data.train_dataset(4, 5, seed=9, skip_batches=2)) == full[10:]
    assert data.steps_per_epoch(5, False) == 5 and data.steps_per_epoch(5, True) == 4


def test_stream_data_skip_resumes_the_same_order(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    files = []
    for i in range(14):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((6, 6), i * 10, np.uint8), "L").save(path)
        files.append((str(path), i))
    data = StreamData({"train": files, "val": files[:4]}, (6, 6, 1), "stretch", ["x"])
    full = _labels(data.train_dataset(2, 4, seed=5))
    assert sorted(full) == list(range(14))
    assert _labels(data.train_dataset(2, 4, seed=5)) == full  # the same epoch again: the same order
    assert _labels(data.train_dataset(3, 4, seed=5)) != full
    assert _labels(data.train_dataset(2, 4, seed=5, skip_batches=2)) == full[8:]
    assert _labels(data.val_dataset(4)) == [0, 1, 2, 3]
