"""A multi-worker run on a streamed folder: each worker reads only its shard of the file list.

In process, with tf.distribute's InputContext standing in for each worker: the shards
partition the files, every epoch covers each file once, the order is a function of
(seed, epoch), skip_batches resumes exactly, and a shard left short is topped up.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cnnstudio.errors import DatasetError
from cnnstudio.training.data_source import ArrayData, StreamData, WorkerShards
from tests.training.mirrored_probe import count_opened_files


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """24 training files (value i at every pixel, i = 0..23, 3 classes in order) and 7 validation files."""
    from PIL import Image

    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    files = {"train": [], "val": []}
    for i in range(31):
        path = tmp_path / f"{i:02d}.png"
        Image.fromarray(np.full((4, 4), i, np.uint8), "L").save(path)
        files["train" if i < 24 else "val"].append((str(path), i * 3 // 24 if i < 24 else 0))
    return files


@pytest.fixture
def opened(monkeypatch):
    """Every file the pipeline opens, in order (TensorFlow's reads and Pillow's)."""
    from cnnstudio.data import formats

    paths: list[str] = []
    monkeypatch.setattr(tf.io, "read_file", tf.io.read_file)  # restored after the test
    monkeypatch.setattr(formats, "load_image", formats.load_image)
    count_opened_files(paths.append)
    return paths


def _context(worker: int, workers: int = 2, replicas: int = 2):
    return tf.distribute.InputContext(num_input_pipelines=workers, input_pipeline_id=worker,
                                      num_replicas_in_sync=replicas)


def _ids(dataset) -> list[list[int]]:
    """The file number of every image, batch by batch (each file is filled with its number)."""
    return [[int(v) for v in images.numpy()[:, 0, 0, 0]] for images, _labels in dataset]


def _stream(files, workers=2, replicas=2) -> StreamData:
    data = StreamData(files, (4, 4, 1), "stretch", ["a", "b", "c"])
    data.shard_between(workers, replicas)
    return data


def test_each_worker_decodes_only_its_shard_and_the_shards_cover_each_file_once(folder, opened):
    data = _stream(folder)
    assert data.steps_per_epoch(4, True) == 6  # 12 files per worker, 2 per step
    epochs = {}
    for worker in (0, 1):
        batches = _ids(data.train_dataset(0, 4, seed=3, input_context=_context(worker)))
        assert len(batches) == 6 and all(len(b) == 2 for b in batches)  # per-worker batch = global / workers
        seen = [i for b in batches for i in b]
        assert sorted(seen) == list(range(worker, 24, 2))  # its stride of the class-ordered list, once each
        assert sorted({int(p[-6:-4]) for p in opened}) == list(range(worker, 24, 2))  # and nothing else
        opened.clear()
        epochs[worker] = seen
    # Each epoch, the shards together are every training file exactly once.
    assert sorted(epochs[0] + epochs[1]) == list(range(24))
    # The workers do not shuffle in step (their own seeds).
    assert [i // 2 for i in epochs[0]] != [i // 2 for i in epochs[1]]


def test_worker_order_depends_only_on_seed_and_epoch_and_resumes_exactly(folder):
    data = _stream(folder)
    context = _context(1)
    first = _ids(data.train_dataset(2, 4, seed=5, input_context=context))
    assert _ids(data.train_dataset(2, 4, seed=5, input_context=context)) == first  # a fresh build, same order
    later = _ids(data.train_dataset(3, 4, seed=5, input_context=context))
    assert later != first and sorted(sum(later, [])) == sorted(sum(first, []))
    assert _ids(data.train_dataset(2, 4, seed=5, skip_batches=2, input_context=context)) == first[2:]


def test_several_replicas_per_worker_take_one_batch_each(folder):
    data = _stream(folder, workers=2, replicas=4)  # 2 devices on each of 2 machines
    assert data.steps_per_epoch(8, True) == 3  # 12 files per worker, 2 per replica, 4 per worker step
    batches = _ids(data.train_dataset(0, 8, seed=1, input_context=_context(0, replicas=4)))
    assert len(batches) == 6 and all(len(b) == 2 for b in batches)
    assert sorted(sum(batches, [])) == list(range(0, 24, 2))
    resumed = _ids(data.train_dataset(0, 8, seed=1, skip_batches=1, input_context=_context(0, replicas=4)))
    assert resumed == batches[2:]  # one step = one batch for each local replica


def test_a_shard_left_short_by_an_unreadable_file_is_topped_up(folder):
    broken = folder["train"][4][0]  # in worker 0's shard
    with open(broken, "wb") as handle:
        handle.write(b"not an image")
    data = _stream(folder)
    batches = _ids(data.train_dataset(0, 4, seed=2, input_context=_context(0)))
    # 11 readable files make 5 full batches; the sixth comes from the shard's next pass.
    assert len(batches) == 6 and all(len(b) == 2 for b in batches)
    first_pass = sum(batches[:5], [])
    assert len(set(first_pass)) == 10 and set(sum(batches, [])) <= set(range(0, 24, 2)) - {4}
    assert [path for path, _reason in data.skipped] == [broken]
    other = _ids(data.train_dataset(0, 4, seed=2, input_context=_context(1)))
    assert sorted(sum(other, [])) == list(range(1, 24, 2))


def test_validation_is_sharded_too(folder, opened):
    data = _stream(folder)
    for worker, expected in enumerate([[24, 26, 28, 30], [25, 27, 29]]):
        assert sum(_ids(data.val_dataset(4, input_context=_context(worker))), []) == expected
        assert sorted({int(p[-6:-4]) for p in opened}) == expected  # it reads its validation files only
        opened.clear()
    assert _ids(data.val_dataset(4)) == [[24, 25, 26, 27], [28, 29, 30]]  # without a context: the whole set


def test_auto_sharding_is_off_only_where_the_files_are_sharded_by_hand(folder):
    policy = tf.data.experimental.AutoShardPolicy
    data = _stream(folder)

    def auto_shard(dataset):
        return dataset.options().experimental_distribute.auto_shard_policy

    assert auto_shard(data.train_dataset(0, 4, seed=0, input_context=_context(0))) == policy.OFF
    assert auto_shard(data.val_dataset(4, input_context=_context(0))) == policy.OFF
    assert auto_shard(data.train_dataset(0, 4, seed=0)) == policy.DATA
    arrays = ArrayData(np.zeros((8, 2, 2, 1), np.uint8), np.zeros(8, np.int32), None, None, ["a"])
    assert not hasattr(arrays, "shard_between")  # in memory: every worker keeps its slice of each batch
    assert auto_shard(arrays.train_dataset(0, 4, seed=0)) == policy.DATA


def test_uneven_shards_agree_on_the_step_count(folder):
    files = {"train": folder["train"][:23], "val": []}  # shards of 12 and 11 files
    data = _stream(files)
    assert data.steps_per_epoch(4, True) == 5
    for worker in (0, 1):
        assert len(_ids(data.train_dataset(1, 4, seed=0, input_context=_context(worker)))) == 5


def test_a_batch_that_does_not_divide_between_replicas_is_refused(folder):
    data = _stream(folder, workers=2, replicas=4)
    with pytest.raises(DatasetError, match="batch_size 6 does not divide evenly between the 4 replicas"):
        data.steps_per_epoch(6, True)
    with pytest.raises(DatasetError, match="planned for 2 workers"):
        data.train_dataset(0, 8, seed=0, input_context=_context(0, workers=3, replicas=3))
    with pytest.raises(ValueError):
        WorkerShards(2, 3)
    single = StreamData(folder, (4, 4, 1), "stretch", ["a"])
    single.shard_between(1, 2)  # one worker (MirroredStrategy): no shards, the usual dataset
    assert single.shards is None and single.steps_per_epoch(4, True) == 6


def test_a_run_resumes_only_on_the_cluster_size_it_was_sharded_for(tmp_path):
    from types import SimpleNamespace

    from cnnstudio.errors import TrainingError
    from cnnstudio.training.checkpoints import Checkpoint
    from cnnstudio.training.loop import Trainer

    checkpoint = Checkpoint([], [], {"workers": 2, "progress": {}}, path=tmp_path / "last.npz")
    on_one = SimpleNamespace(placement=SimpleNamespace(workers=1))
    with pytest.raises(TrainingError, match=r"last.npz: this run trained on 2 worker\(s\).*this resume has 1"):
        Trainer.restore(on_one, checkpoint)
