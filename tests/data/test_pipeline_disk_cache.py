"""The persistent disk cache of decoded images: resumable mid-epoch, rebuilt when files change, read by later epochs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnnstudio.data.pipeline as pipeline
from cnnstudio.data import formats
from cnnstudio.data.pipeline import build_dataset
from tests.data.helpers import epoch_arrays, make_class_folder, save_image

SHAPE = (6, 6, 3)


@pytest.fixture
def files(tmp_path):
    root = make_class_folder(tmp_path / "img", {"a": 9, "b": 8}, size=(10, 8))
    return [(str(p), 0 if p.parent.name == "a" else 1) for p in sorted(root.rglob("*.png"))]


@pytest.fixture
def decodes(monkeypatch):
    """The files Pillow decodes (the test files are not scanned, so every decode goes through it)."""
    seen: list[str] = []
    original = formats.load_image

    def counting(path, *args, **kwargs):
        seen.append(str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(formats, "load_image", counting)
    return seen


def test_a_run_stopped_mid_epoch_resumes_from_what_it_cached(files, private_cache, decodes, monkeypatch):
    monkeypatch.setattr(pipeline, "SAVE_INTERVAL", 0.0)  # save the filled mask after every batch
    reference, reference_labels = epoch_arrays(build_dataset(files, SHAPE, 4, shuffle=False, seed=0, cache=None))
    decodes.clear()
    stopped = build_dataset(files, SHAPE, 4, shuffle=False, seed=0, cache="disk")
    for _batch in stopped.take(2):  # the run is killed after two batches: the epoch never ends
        pass
    del stopped
    masks = list((private_cache / "pipeline").glob("*.filled.npy"))
    assert len(masks) == 1
    filled = np.load(masks[0])
    assert 8 <= filled.sum() < len(files)  # at least the two batches written, not everything
    decodes.clear()
    resumed = build_dataset(files, SHAPE, 4, shuffle=False, seed=0, cache="disk")
    images, labels = epoch_arrays(resumed)
    assert np.array_equal(images, reference) and np.array_equal(labels, reference_labels)
    # Only the files that were not cached yet were decoded again.
    assert sorted(decodes) == sorted(path for (path, _label), done in zip(files, filled, strict=True) if not done)
    decodes.clear()
    again, _ = epoch_arrays(resumed)  # a later epoch reads the cache only
    assert decodes == [] and np.array_equal(again, reference)


def test_cache_is_rebuilt_when_a_file_changes(files, private_cache, decodes):
    first, _ = epoch_arrays(build_dataset(files, SHAPE, 4, shuffle=False, seed=0, cache="disk"))
    decodes.clear()
    second, _ = epoch_arrays(build_dataset(files, SHAPE, 4, shuffle=False, seed=0, cache="disk"))
    assert decodes == [] and np.array_equal(first, second)  # a new run on the same files: no decoding
    changed = files[3][0]
    save_image(Path(changed), size=(10, 8), seed=999)  # new content, new size and modification time
    decodes.clear()
    third, _ = epoch_arrays(build_dataset(files, SHAPE, 4, shuffle=False, seed=0, cache="disk"))
    assert len(decodes) == len(files)  # another key: the whole set is decoded into a new cache
    assert len(list((private_cache / "pipeline").glob("*.u8"))) == 2
    assert not np.array_equal(third[3], first[3])
    assert np.array_equal(np.delete(third, 3, axis=0), np.delete(first, 3, axis=0))


def test_later_epochs_read_the_disk_cache_in_a_new_order(files, decodes):
    dataset = build_dataset(files, SHAPE, 5, shuffle=True, seed=4, cache="disk")
    first, _ = epoch_arrays(dataset)
    decodes.clear()
    second, _ = epoch_arrays(dataset)
    assert decodes == []
    assert sorted(img.tobytes() for img in first) == sorted(img.tobytes() for img in second)
    assert [img.tobytes() for img in first] != [img.tobytes() for img in second]
