"""The tf.data pipeline: every usable image once per epoch, reshuffled, reproducible, failures skipped."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cnnstudio.data import formats
from cnnstudio.data.pipeline import build_dataset, epoch_order
from tests.data.helpers import make_class_folder


@pytest.fixture
def files(tmp_path):
    root = make_class_folder(tmp_path / "img", {"a": 7, "b": 6}, size=(10, 8))
    out = [(str(p), 0 if p.parent.name == "a" else 1) for p in sorted(root.rglob("*.png"))]
    return out


def _epoch(dataset):
    images, labels = [], []
    for x, y in dataset:
        assert x.dtype == tf.uint8 and y.dtype == tf.int32
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)


def _fingerprints(images):
    return [img.tobytes() for img in images]


def test_every_image_once_per_epoch_in_a_new_order(files):
    reference = {formats.load_image(p, (6, 6, 3)).tobytes(): label for p, label in files}
    dataset = build_dataset(files, (6, 6, 3), batch_size=4, shuffle=True, seed=3)
    orders = []
    for _epoch_number in range(3):
        images, labels = _epoch(dataset)
        prints = _fingerprints(images)
        assert sorted(prints) == sorted(reference)  # each usable image exactly once
        assert all(reference[p] == label for p, label in zip(prints, labels, strict=True))
        orders.append(prints)
    assert orders[0] != orders[1] != orders[2]  # reshuffled every epoch (from the cache after epoch 1)


def test_order_is_reproducible_and_resumable(files):
    first = build_dataset(files, (6, 6, 3), 5, shuffle=True, seed=11, cache=None)
    orders = [_fingerprints(_epoch(first)[0]) for _ in range(3)]
    resumed = build_dataset(files, (6, 6, 3), 5, shuffle=True, seed=11, cache="memory", epoch_offset=2)
    assert _fingerprints(_epoch(resumed)[0]) == orders[2]
    other_seed = build_dataset(files, (6, 6, 3), 5, shuffle=True, seed=12)
    assert _fingerprints(_epoch(other_seed)[0]) != orders[0]
    assert list(epoch_order(5, 0, 0, shuffle=False)) == [0, 1, 2, 3, 4]


def test_decode_failures_are_skipped_and_reported(files, tmp_path):
    broken = tmp_path / "img" / "a" / "zzz_broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    gone = str(tmp_path / "img" / "b" / "deleted_after_scan.png")
    skipped: list = []
    dataset = build_dataset(files + [(str(broken), 0), (gone, 1)], (6, 6, 3), 4, shuffle=True, seed=0,
                            skipped=skipped)
    for _ in range(2):
        images, _labels = _epoch(dataset)
        assert len(images) == len(files)
    assert sorted(path for path, _reason in skipped) == sorted([str(broken), gone])  # reported once each
    assert all(reason for _path, reason in skipped)


def test_drop_remainder_gives_static_batches(files):
    dataset = build_dataset(files, (6, 6, 1), 4, shuffle=False, seed=0, drop_remainder=True)
    assert dataset.element_spec[0].shape.as_list() == [4, 6, 6, 1]
    assert sum(int(y.shape[0]) for _x, y in dataset) == 12


def test_disk_cache_is_reused_and_outside_the_dataset(files, private_cache):
    dataset = build_dataset(files, (6, 6, 3), 4, shuffle=False, seed=0, cache="disk")
    first, _ = _epoch(dataset)
    stored = list((private_cache / "pipeline").glob("*.u8"))
    assert len(stored) == 1
    again = build_dataset(files, (6, 6, 3), 4, shuffle=False, seed=0, cache="disk")
    second, _ = _epoch(again)
    assert np.array_equal(first, second)


def test_empty_file_list_is_an_empty_dataset():
    assert list(build_dataset([], (4, 4, 3), 2, shuffle=True, seed=0)) == []


def test_scanned_plain_files_decode_in_the_graph_like_pillow(tmp_path):
    from cnnstudio.data import scan_folder

    root = make_class_folder(tmp_path / "plain", {"a": 4, "b": 4}, size=(6, 6))
    scan_folder(root)  # marks the plain PNGs as TensorFlow-decodable
    files = [(str(p), 0) for p in sorted(root.rglob("*.png"))]
    assert all(formats.is_native(path) for path, _label in files)
    images, _labels = _epoch(build_dataset(files, (6, 6, 3), 3, shuffle=False, seed=0, cache=None))
    expected = np.stack([formats.load_image(path, (6, 6, 3)) for path, _label in files])
    assert np.array_equal(images, expected)


def test_graph_decoder_failures_fall_back_to_pillow_or_are_reported(tmp_path, files):
    from tests.data.helpers import save_image

    tiff = save_image(tmp_path / "x" / "pillow_only.tif", size=(10, 8), fmt="TIFF")
    broken = tmp_path / "x" / "broken.png"
    broken.write_bytes((tmp_path / "img" / "a" / "a_000.png").read_bytes()[:60])
    formats.remember_native({str(tiff): True, str(broken): True})  # wrongly marked plain
    skipped: list = []
    dataset = build_dataset(files + [(str(tiff), 1), (str(broken), 0)], (6, 6, 3), 4, shuffle=True, seed=0,
                            skipped=skipped)
    first, _ = _epoch(dataset)
    second, _ = _epoch(dataset)
    assert len(first) == len(files)  # TensorFlow could not read the TIFF: retried with Pillow next epoch
    assert len(second) == len(files) + 1
    assert [path for path, _reason in skipped] == [str(broken)]
    assert "truncated" in skipped[0][1]


def test_builds_inside_a_distribution_strategy_scope(files):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        dataset = build_dataset(files, (6, 6, 3), 4, shuffle=True, seed=0)
    for _ in range(2):  # a decoding epoch, then one from the cache
        assert sum(int(y.shape[0]) for _x, y in dataset) == len(files)
    assert sum(1 for _ in strategy.experimental_distribute_dataset(dataset)) == 4


def test_memory_cache_too_big_for_ram_goes_to_disk(files, monkeypatch, private_cache):
    import cnnstudio.data.pipeline as pipeline

    monkeypatch.setattr(pipeline, "_memory_budget", lambda: 100)
    dataset = build_dataset(files, (6, 6, 3), 4, shuffle=True, seed=0, cache="memory")
    assert sum(int(y.shape[0]) for _x, y in dataset) == len(files)
    assert list((private_cache / "pipeline").glob("*.u8"))


def test_disk_cache_remembers_failures_across_builds(files, tmp_path):
    broken = tmp_path / "img" / "b" / "zz_broken.png"
    broken.write_bytes(b"not an image at all")
    every = files + [(str(broken), 1)]
    skipped: list = []
    first = build_dataset(every, (6, 6, 3), 4, shuffle=True, seed=0, cache="disk", skipped=skipped)
    assert sum(int(y.shape[0]) for _x, y in first) == len(files)
    # The training engine rebuilds the dataset each epoch with the same `skipped` list.
    again = build_dataset(every, (6, 6, 3), 4, shuffle=True, seed=0, cache="disk", skipped=skipped,
                          epoch_offset=1)
    assert sum(int(y.shape[0]) for _x, y in again) == len(files)
    assert skipped == [(str(broken), "not an image (Pillow cannot identify the content)")]
    fresh: list = []  # a new run on the same files hears about it too
    build_dataset(every, (6, 6, 3), 4, shuffle=True, seed=0, cache="disk", skipped=fresh)
    assert fresh == skipped


def test_large_jpeg_decoded_at_reduced_scale_matches_pillow(tmp_path):
    from PIL import Image

    from cnnstudio.data import scan_folder

    yy, xx = np.mgrid[0:240, 0:320]
    for name, phase in (("a", 0), ("b", 1)):
        array = np.stack([xx * 0.7 + phase * 40, yy, (xx + yy) * 0.4], axis=-1)
        path = tmp_path / "big" / name / f"{name}.jpg"
        path.parent.mkdir(parents=True)
        Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(path, quality=95)
    scan_folder(tmp_path / "big")
    files = [(str(p), 0) for p in sorted((tmp_path / "big").rglob("*.jpg"))]
    assert all(formats.is_native(path) for path, _label in files)
    images, _ = _epoch(build_dataset(files, (30, 40, 3), 2, shuffle=False, seed=0, cache=None))
    expected = np.stack([formats.load_image(path, (30, 40, 3)) for path, _label in files])
    assert np.abs(images.astype(int) - expected.astype(int)).mean() < 4
