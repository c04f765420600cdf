"""The columnar scan result: records on access, the report as the per-record code made it, the npz cache."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import numpy as np
import pytest

from cnnstudio.data import cache, formats
from cnnstudio.data.index import build_index
from cnnstudio.data.scan import ImageRecord, duplicate_groups, leakage_groups, scan_folder
from tests.data.helpers import save_image


@pytest.fixture
def messy(tmp_path):
    """Split layout with duplicates across subsets, unusable files, several sizes, modes and formats."""
    root = tmp_path / "messy"
    seed = 0
    for subset, count in (("train", 5), ("val", 2), ("test", 2)):
        for name in ("a", "b", "c"):
            for i in range(count):
                seed += 1
                save_image(root / subset / name / f"{i}.png", size=(8 + i % 3, 6), seed=seed)
    save_image(root / "train" / "a" / "cmyk.jpg", mode="CMYK", seed=500)
    save_image(root / "train" / "b" / "gray.png", mode="L", seed=501)
    save_image(root / "train" / "b" / "sub" / "p.gif", seed=502)
    save_image(root / "test" / "c" / "rgba.png", mode="RGBA", seed=503)
    shutil.copy(root / "train" / "a" / "0.png", root / "val" / "a" / "copy.png")
    shutil.copy(root / "train" / "a" / "0.png", root / "test" / "b" / "copy2.png")
    shutil.copy(root / "train" / "b" / "0.png", root / "train" / "b" / "again.png")
    (root / "train" / "c" / "zero.jpg").write_bytes(b"")
    (root / "val" / "c" / "bad.png").write_text("nope")
    save_image(root / "train" / "loose.png", seed=504)
    return root


def _report_from_records(result) -> dict:
    """The report as it was computed from a list of ImageRecord (before the result became columnar)."""
    images = list(result.images)
    counts = Counter(r.class_name for r in images)
    groups = duplicate_groups(images)
    subset_of = {r.path: r.subset for r in images}
    return {
        "classes": [{"name": n, "count": counts.get(n, 0)} for n in result.class_names],
        "images": len(images),
        "sizes": [{"size": s, "count": c} for s, c in Counter(f"{r.width}x{r.height}" for r in images).most_common(20)],
        "modes": dict(Counter(r.mode for r in images).most_common()),
        "formats": dict(Counter(r.format for r in images).most_common()),
        "duplicates": groups,
        "leakage": leakage_groups(groups, subset_of),
        "subsets": dict(Counter(r.subset for r in images)),
    }


def test_report_matches_the_per_record_computation(messy):
    result = scan_folder(messy)
    report = result.to_json()
    expected = _report_from_records(result)
    assert {key: report[key] for key in expected} == expected
    # And the facts themselves, so the comparison above cannot pass on two equally wrong answers.
    assert report["images"] == 34 and report["layout"] == "split"
    assert report["unreadable"] == [{"path": "train/c/zero.jpg", "reason": "zero bytes (empty file)"},
                                    {"path": "val/c/bad.png",
                                     "reason": "not an image (Pillow cannot identify the content)"}]
    assert report["duplicates"] == [["test/b/copy2.png", "train/a/0.png", "val/a/copy.png"],
                                    ["train/b/0.png", "train/b/again.png"]]
    assert report["leakage"] == [["test/b/copy2.png", "train/a/0.png", "val/a/copy.png"]]
    assert list(report["subsets"].items()) == [("test", 8), ("train", 19), ("val", 7)]
    assert report["modes"] == {"RGB": 30, "CMYK": 1, "L": 1, "P": 1, "RGBA": 1}
    assert report["formats"] == {"PNG": 32, "JPEG": 1, "GIF": 1}
    assert report["loose_files"] == ["train/loose.png"]
    assert report["classes"] == [{"name": "a", "count": 11}, {"name": "b", "count": 13}, {"name": "c", "count": 10}]
    assert json.loads(json.dumps(report)) == report  # plain JSON types only


def test_images_is_a_read_only_sequence_of_records(messy):
    result = scan_folder(messy)
    images = result.images
    assert len(images) == 34 and bool(images)
    first = images[0]
    assert isinstance(first, ImageRecord)
    assert first == ImageRecord("test/a/0.png", "a", "test", 8, 6, "RGB", "PNG", first.digest)
    assert len(first.digest) == 32 and int(first.digest, 16) >= 0  # blake2b-128 in hex, as before
    assert images[-1] == list(images)[-1] and images[1:3] == list(images)[1:3]
    assert images[:5] == list(images)[:5] and images == list(images)
    with pytest.raises(IndexError):
        images[34]
    with pytest.raises(TypeError):
        images[0] = first  # type: ignore[index]
    # The columns are aligned with the index; unusable files are not among the records.
    index = result.index
    assert len(result.usable) == len(index) == 36 and int(result.usable.sum()) == 34
    assert [index.paths[p] for p in np.flatnonzero(~result.usable)] == ["train/c/zero.jpg", "val/c/bad.png"]
    cat = result.class_positions("c")
    assert [index.paths[p] for p in cat][:2] == ["test/c/0.png", "test/c/1.png"] and len(cat) == 10
    gray = images[[r.path for r in images].index("train/b/gray.png")]
    assert (gray.mode, gray.width, gray.height) == ("L", 12, 10)


def test_native_flags_reach_the_pipeline_without_a_path_dict(messy):
    scan_folder(messy)
    assert formats.is_native(str(messy / "train" / "a" / "0.png"))
    assert formats.is_native(str(messy / "train" / "b" / "gray.png"))
    assert not formats.is_native(str(messy / "test" / "c" / "rgba.png"))  # alpha: Pillow composites it
    assert not formats.is_native(str(messy / "train" / "b" / "sub" / "p.gif"))
    assert not formats.is_native(str(messy / "train" / "c" / "zero.jpg"))
    assert not formats.is_native(str(messy / "elsewhere.png"))


def test_the_cache_is_columnar_and_reused(messy, monkeypatch):
    first = scan_folder(messy)
    path = cache.scan_cache_path(messy)
    assert path.suffix == ".npz"
    with np.load(path) as data:
        assert int(data["version"]) == cache.CACHE_VERSION and data["digests"].shape == (36, 16)
    import cnnstudio.data.scan as scan_module

    calls = []
    real = scan_module._inspect_entry
    monkeypatch.setattr(scan_module, "_inspect_entry", lambda p, *a: calls.append(p) or real(p, *a))
    again = scan_folder(messy)
    assert calls == [] and again.to_json() == first.to_json() and again.images == first.images
    # A new file and a removed one: only the new one is read; the other rows are matched by path.
    save_image(messy / "train" / "a" / "new.png", seed=900)
    (messy / "train" / "c" / "zero.jpg").unlink()
    changed = scan_folder(messy)
    assert calls == [str(messy / "train" / "a" / "new.png")]
    assert changed.unreadable == [("val/c/bad.png", "not an image (Pillow cannot identify the content)")]
    assert len(changed.images) == 35
    # Only a removal: nothing to read, but the cache is rewritten to match (no path matching next time).
    (messy / "val" / "c" / "bad.png").unlink()
    calls.clear()
    assert cache.load_scan_cache(messy, build_index(messy)).stale
    assert scan_folder(messy).unreadable == [] and calls == []
    assert not cache.load_scan_cache(messy, build_index(messy)).stale


@pytest.mark.parametrize("damage", ["garbage", "truncated", "old_json", "other_folder", "short_column", "bad_code"])
def test_a_stale_or_corrupt_cache_is_ignored(messy, damage, monkeypatch):
    expected = scan_folder(messy).to_json()
    path = cache.scan_cache_path(messy)
    if damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "old_json":  # what version 2 wrote: ignored, and removed at the next save
        path.unlink()
        path.with_suffix(".json").write_text(json.dumps({"version": 2, "folder": str(messy.resolve()),
                                                         "entries": {"train/a/0.png": {"reason": "x"}}}))
    else:
        with np.load(path) as data:
            arrays = dict(data)
        if damage == "other_folder":
            arrays["folder"] = np.str_("/somewhere/else")
        elif damage == "short_column":
            arrays["widths"] = arrays["widths"][:-1]
        else:
            arrays["mode_codes"] = arrays["mode_codes"] + 100  # codes beyond the table of modes
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
    import cnnstudio.data.scan as scan_module

    calls = []
    real = scan_module._inspect_entry
    monkeypatch.setattr(scan_module, "_inspect_entry", lambda p, *a: calls.append(p) or real(p, *a))
    assert scan_folder(messy).to_json() == expected
    assert len(calls) == 36  # nothing was trusted: every file read again
    assert not path.with_suffix(".json").exists()
    assert int((cache.load_scan_cache(messy, build_index(messy)).checked > 0).sum()) == 36  # rewritten whole


def test_per_file_memory_is_a_few_dozen_bytes(make_folder):
    root = make_folder({"a": 20, "b": 20})
    result = scan_folder(root)
    columns = (result.usable, result.widths, result.heights, result.mode_codes, result.format_codes,
               result.digests, result.native, result.positions)
    assert sum(array.nbytes for array in columns) / len(result.index) <= 40
    assert not any(isinstance(value, list) and len(value) == 40 for value in vars(result).values())
