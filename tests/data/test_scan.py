"""Scanning folders: layouts, reasons, hidden files, errors, duplicates, cache, progress."""

from __future__ import annotations

import os
import shutil

import pytest

from cnnstudio.data import TaskCancelled, TaskState, scan_folder
from cnnstudio.data.cache import scan_cache_path
from cnnstudio.errors import DatasetError
from tests.data.helpers import save_image


def _listing(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*"))


def test_messy_folder_is_reported_and_left_untouched(make_folder):
    root = make_folder({"cat": 3, "dog": 3})
    save_image(root / "cat" / "chat noir é.png", seed=99)  # unicode name
    save_image(root / "dog" / "rgba.png", mode="RGBA", seed=98)
    save_image(root / "dog" / "cmyk.jpg", mode="CMYK", seed=97)
    save_image(root / "dog" / "sub" / "nested.gif", seed=96)
    (root / "cat" / "zero.jpg").write_bytes(b"")
    (root / "cat" / "notes.txt").write_text("a note")
    (root / "cat" / ".DS_Store").write_bytes(b"\0\1")
    (root / "dog" / "._dog_000.png").write_bytes(b"apple double")
    (root / ".hidden_dir").mkdir()
    save_image(root / ".hidden_dir" / "x.png")
    before = _listing(root)
    result = scan_folder(root)
    assert _listing(root) == before  # nothing moved, deleted or written
    report = result.to_json()
    assert report["classes"] == [{"name": "cat", "count": 4}, {"name": "dog", "count": 6}]
    assert report["images"] == 10
    assert report["unreadable"] == [{"path": "cat/zero.jpg", "reason": "zero bytes (empty file)"}]
    assert report["ignored"] == 3  # notes.txt, .DS_Store, ._dog_000.png
    assert report["modes"] == {"RGB": 7, "RGBA": 1, "CMYK": 1, "P": 1}  # the GIF is a palette image
    assert "cat/chat noir é.png" in {r.path for r in result.images}
    assert result.problem() is None


def test_split_layout_and_leakage(tmp_path):
    root = tmp_path / "data"
    for subset, count in (("train", 4), ("val", 2)):
        for name in ("a", "b"):
            for i in range(count):
                save_image(root / subset / name / f"{i}.png", seed=hash((subset, name, i)) % 10_000)
    shutil.copy(root / "train" / "a" / "0.png", root / "val" / "a" / "copy.png")
    shutil.copy(root / "train" / "b" / "0.png", root / "train" / "b" / "again.png")
    result = scan_folder(root)
    assert result.layout == "split"
    assert result.to_json()["subsets"] == {"train": 9, "val": 5}
    assert result.duplicates() == [["train/a/0.png", "val/a/copy.png"], ["train/b/0.png", "train/b/again.png"]]
    assert result.to_json()["leakage"] == [["train/a/0.png", "val/a/copy.png"]]
    assert any("leakage" in w for w in result.warnings())


def test_split_layout_rejects_class_missing_from_train(tmp_path):
    save_image(tmp_path / "d" / "train" / "a" / "1.png")
    save_image(tmp_path / "d" / "train" / "b" / "1.png", seed=2)
    save_image(tmp_path / "d" / "val" / "c" / "1.png", seed=3)
    with pytest.raises(DatasetError, match="'c' appears in val/ or test/ but not in train/"):
        scan_folder(tmp_path / "d")


@pytest.mark.parametrize(
    "layout,message",
    [
        ({"a": 2, "b": 0}, "class folder 'b' has no usable images"),
        ({"only": 3}, "only one class \\('only'\\)"),
        ({}, "no usable images found"),
    ],
)
def test_unusable_folders_are_clear_errors(make_folder, tmp_path, layout, message):
    root = make_folder(layout)
    root.mkdir(exist_ok=True)
    for name, count in layout.items():
        (root / name).mkdir(exist_ok=True)
        if count == 0:
            (root / name / "broken.png").write_text("nope")
    result = scan_folder(root)
    with pytest.raises(DatasetError, match=message):
        result.check()
    assert str(root) in result.problem()


def test_missing_folder_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        scan_folder(tmp_path / "nowhere")


def test_imbalance_is_reported(make_folder):
    result = scan_folder(make_folder({"many": 9, "few": 2}))
    assert result.imbalance() == {"ratio": 4.5, "largest": "many", "smallest": "few"}
    assert any("imbalance" in w for w in result.warnings())


def test_cache_is_used_and_refreshed_when_a_file_changes(make_folder, monkeypatch, private_cache):
    root = make_folder({"a": 3, "b": 3})
    first = scan_folder(root)
    assert scan_cache_path(root).exists()
    assert private_cache in scan_cache_path(root).parents  # never inside the dataset
    calls = []
    import cnnstudio.data.scan as scan_module

    real = scan_module._inspect_entry
    monkeypatch.setattr(scan_module, "_inspect_entry", lambda path, *a: calls.append(path) or real(path, *a))
    again = scan_folder(root)
    assert calls == [] and again.images == first.images
    target = root / "a" / "a_000.png"
    target.write_bytes(b"")  # the file changes (now empty)
    os.utime(target, ns=(1, 1))
    changed = scan_folder(root)
    assert calls == [str(target)]
    assert changed.unreadable == [("a/a_000.png", "zero bytes (empty file)")]
    calls.clear()
    scan_folder(root, verify=True)  # verification re-checks the usable files not yet verified
    assert len(calls) == 5


def test_verify_decodes_fully(make_folder):
    root = make_folder({"a": 2, "b": 2}, size=(64, 64))
    data = (root / "a" / "a_000.png").read_bytes()
    # Keep the IEND chunk so only a full decode notices the missing middle.
    (root / "a" / "a_000.png").write_bytes(data[: len(data) // 3] + data[-12:])
    assert len(scan_folder(root, use_cache=False).unreadable) == 0
    unreadable = scan_folder(root, verify=True, use_cache=False).unreadable
    assert [path for path, _reason in unreadable] == ["a/a_000.png"]
    assert "truncated or corrupt" in unreadable[0][1]


def test_progress_and_cancel(make_folder):
    root = make_folder({"a": 5, "b": 5})
    seen = []
    scan_folder(root, progress=lambda state: seen.append((state.done, state.total)), use_cache=False)
    assert seen[-1] == (10, 10)

    def cancel_at_once(state: TaskState) -> None:
        state.cancel()

    with pytest.raises(TaskCancelled):
        scan_folder(root, progress=TaskState(cancel_at_once, min_interval=0), use_cache=False)


def test_scanner_side_imports_neither_tensorflow_nor_qt():
    import subprocess
    import sys

    code = ("import sys; import cnnstudio.data, cnnstudio.data.preview, cnnstudio.commands.scan; "
            "bad = [m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules]; "
            "assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
