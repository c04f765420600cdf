"""The folder index: names, labels, sizes from metadata only; cached; rescans report what changed."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cnnstudio.data.index import build_index, load_index, refresh_index
from cnnstudio.data.progress import TaskCancelled, TaskState
from cnnstudio.errors import DatasetError


def _tree(root, files):
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return _tree(tmp_path / "images", {
        "cat/b.png": b"12", "cat/a.jpg": b"1", "cat/deep/c.png": b"123", "cat/notes.txt": b"x",
        "cat/.hidden.png": b"x", "dog/z.PNG": b"1234", "loose.png": b"0",
    })


@pytest.mark.parametrize("stat_relative_to_directory", [True, False])  # False: how Windows lists
def test_index_lists_names_labels_and_sizes_without_opening_files(folder, monkeypatch, stat_relative_to_directory):
    import builtins

    from cnnstudio.data import index as index_module

    if stat_relative_to_directory and not index_module._STAT_DIR_FD:
        pytest.skip("this platform's stat takes no directory descriptor")
    monkeypatch.setattr(index_module, "_STAT_DIR_FD", stat_relative_to_directory)
    (folder / "dog" / "dir.png").mkdir()  # a folder named like an image is walked, not listed
    (folder / "dog" / ".cache").mkdir()  # hidden folders are skipped
    (folder / "dog" / ".cache" / "x.png").write_bytes(b"1")
    (folder / "dog" / "gone.png").symlink_to(folder / "nowhere.png")  # a broken link is left out

    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda path, *a, **k: (opened.append(str(path)), real_open(path, *a, **k))[1])
    index = build_index(folder)
    assert not [p for p in opened if str(folder) in p]  # metadata only
    assert index.layout == "classes" and index.class_names == ["cat", "dog"]
    assert index.paths == ["cat/a.jpg", "cat/b.png", "cat/deep/c.png", "dog/z.PNG"]
    assert index.labels.tolist() == [0, 0, 0, 1] and index.sizes.tolist() == [1, 2, 3, 4]
    assert index.counts() == {"cat": 3, "dog": 1}
    assert index.loose == ["loose.png"] and index.ignored == 2  # notes.txt and .hidden.png
    assert index.subsets.tolist() == [-1] * 4


def test_split_layout_and_bad_folders(tmp_path):
    root = _tree(tmp_path / "split", {"train/a/1.png": b"1", "val/a/2.png": b"2", "test/b/3.png": b"3"})
    index = build_index(root)
    assert index.layout == "split" and index.paths == ["test/b/3.png", "train/a/1.png", "val/a/2.png"]
    assert [index.subset_of(i) for i in range(3)] == ["test", "train", "val"]
    assert index.class_names == ["a", "b"] and index.labels.tolist() == [1, 0, 0]
    with pytest.raises(DatasetError, match="no such folder"):
        build_index(tmp_path / "missing")
    _tree(tmp_path / "mixed", {"train/a/1.png": b"1", "cats/2.png": b"2"})
    with pytest.raises(DatasetError, match="mixes split folders"):
        build_index(tmp_path / "mixed")


def test_rescan_reports_new_modified_and_removed_files(folder):
    first = refresh_index(folder)
    assert not first.from_cache and len(first.changed) == 4
    cached = load_index(folder)
    assert cached is not None and cached.paths == first.index.paths
    assert np.array_equal(cached.sizes, first.index.sizes) and cached.class_names == ["cat", "dog"]
    again = refresh_index(folder)
    assert again.from_cache and len(again.changed) == 0 and again.removed == 0
    (folder / "cat" / "b.png").write_bytes(b"longer")  # modified: size changes
    (folder / "dog" / "new.png").write_bytes(b"5")
    os.remove(folder / "cat" / "a.jpg")
    changed = refresh_index(folder)
    assert [changed.index.paths[i] for i in changed.changed] == ["cat/b.png", "dog/new.png"]
    assert changed.removed == 1
    assert len(refresh_index(folder).changed) == 0  # the new index was stored


def test_listing_can_be_cancelled(folder):
    state = TaskState()
    state.cancel()
    with pytest.raises(TaskCancelled):
        build_index(folder, state)


def test_header_checks_resume_after_a_cancel(tmp_path, monkeypatch):
    import io

    from PIL import Image

    from cnnstudio.data import cache, scan

    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "images"
    for i in range(40):
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4), (i, 2 * i, 3 * i)).save(buffer, "PNG")
        _tree(root, {f"{'ab'[i % 2]}/{i:02d}.png": buffer.getvalue()})

    def cancel_midway(state):
        if state.message == "checking images" and state.done >= 15:
            state.cancel()

    with pytest.raises(TaskCancelled):
        scan.scan_folder(root, progress=TaskState(cancel_midway, min_interval=0), workers=1)
    done = int((cache.load_scan_cache(root, build_index(root)).checked > 0).sum())
    assert 15 <= done < 40  # the checked files were kept
    inspected = []
    real = scan._inspect_entry
    monkeypatch.setattr(scan, "_inspect_entry", lambda path, *a: (inspected.append(path), real(path, *a))[1])
    result = scan.scan_folder(root)
    assert len(inspected) == 40 - done and len(result.images) == 40


def test_unchanged_directories_are_not_listed_again(folder):
    old = 1_600_000_000_000_000_000  # directory mtimes well in the past: trusted
    for directory in (folder / "cat", folder / "cat" / "deep", folder / "dog"):
        os.utime(directory, ns=(old, old))
    first = refresh_index(folder)
    assert first.index.reused_directories == 0
    again = refresh_index(folder)
    assert again.index.reused_directories == 3 and len(again.changed) == 0
    assert again.index.paths == first.index.paths and again.index.ignored == first.index.ignored
    (folder / "dog" / "new.png").write_bytes(b"5")  # the dog folder's mtime moves: listed again
    added = refresh_index(folder)
    assert added.index.reused_directories == 2 and [added.index.paths[i] for i in added.changed] == ["dog/new.png"]
    # A just-changed directory is not trusted: the next rescan lists it again.
    assert refresh_index(folder).index.reused_directories == 2
    # An in-place rewrite keeps the directory's mtime: only a full listing (no previous index) sees it.
    (folder / "cat" / "b.png").write_bytes(b"rewritten")
    os.utime(folder / "cat", ns=(old, old))
    assert len(refresh_index(folder).changed) == 0
    assert build_index(folder).sizes[build_index(folder).paths.index("cat/b.png")] == 9
