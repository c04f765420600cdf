"""Blocks of same-decoder files: each file's decoder fixed before the graph runs, epoch order kept reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnstudio.data import formats, pipeline_plan
from cnnstudio.data.pipeline import build_dataset, epoch_order
from cnnstudio.data.pipeline_plan import BLOCK, JPEG_2, JPEG_8, NATIVE, PILLOW, blocks, flatten
from tests.data.helpers import epoch_arrays, make_class_folder, save_image


def _check_blocks(order, kinds, keep_order):
    indices, lengths, block_kinds = blocks(order, kinds, keep_order)
    assert indices.shape == (len(lengths), BLOCK) and (1 <= lengths).all() and (lengths <= BLOCK).all()
    for row, length, kind in zip(indices, lengths, block_kinds, strict=True):
        assert (kinds[row] == kind).all()  # one decoder per block, padding included
        assert (row[length:] == row[length - 1]).all()
    return flatten(indices, lengths)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocks_keep_every_file_once_and_one_kind_per_block(seed):
    rng = np.random.default_rng(seed)
    kinds = rng.choice([PILLOW, NATIVE, JPEG_2, JPEG_8], size=203, p=[0.1, 0.2, 0.6, 0.1]).astype(np.uint8)
    order = epoch_order(len(kinds), seed, 3, shuffle=True)
    kept = _check_blocks(order, kinds, keep_order=True)
    assert np.array_equal(kept, order)  # unshuffled sets (validation) come out in file order exactly
    grouped = _check_blocks(order, kinds, keep_order=False)
    assert sorted(grouped.tolist()) == list(range(len(kinds)))
    assert np.array_equal(grouped, _check_blocks(order, kinds, keep_order=False))  # a pure function
    for kind in np.unique(kinds):  # within a decoder, files keep the epoch's order
        assert np.array_equal(grouped[kinds[grouped] == kind], order[kinds[order] == kind])
    # Full blocks come out where their last file stood: no file moves later by more than a few blocks.
    later = np.argsort(grouped) - np.argsort(order)
    assert later.max() < 4 * BLOCK * len(np.unique(kinds))


def test_blocks_of_an_emptyepoch_arrays():
    indices, lengths, kinds = blocks(np.zeros(0, np.int64), np.zeros(0, np.uint8), keep_order=False)
    assert indices.shape == (0, BLOCK) and len(lengths) == len(kinds) == 0


def _jpeg(path, size, exif=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    array = np.stack([xx % 256, yy % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
    image = Image.fromarray(array)
    extra = {}
    if exif:
        data = Image.Exif()
        data[0x010E] = "x" * 9000  # a large APP1 segment before the frame header
        extra["exif"] = data.tobytes()
    image.save(path, quality=92, **extra)
    return str(path)


def test_jpeg_size_reads_the_frame_header(tmp_path):
    plain = _jpeg(tmp_path / "a.jpg", (70, 50))
    big_exif = _jpeg(tmp_path / "b.jpg", (33, 41), exif=True)
    assert formats.jpeg_size(plain) == (50, 70)
    assert formats.jpeg_size(big_exif) == (41, 33)
    png = save_image(tmp_path / "c.png", size=(9, 7))
    assert formats.jpeg_size(str(png)) is None
    (tmp_path / "d.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00")  # cut inside the first segment
    assert formats.jpeg_size(str(tmp_path / "d.jpg")) is None
    assert formats.jpeg_size(str(tmp_path / "missing.jpg")) is None


def test_decoder_kinds_from_the_scan_and_the_jpeg_size(tmp_path):
    from cnnstudio.data import scan_folder

    root = tmp_path / "set"
    large = _jpeg(root / "a" / "large.jpg", (160, 130))  # room min(130 // 16, 160 // 16) = 8
    medium = _jpeg(root / "a" / "medium.jpg", (40, 36))  # room 2
    small = _jpeg(root / "b" / "small.jpg", (20, 20))  # room 1: full scale
    png = str(save_image(root / "b" / "plain.png", size=(40, 40)))
    scan_folder(root)
    unscanned = str(save_image(tmp_path / "elsewhere" / "x.png", size=(40, 40)))
    paths = [large, medium, small, png, unscanned]
    assert np.array_equal(formats.native_flags(paths), [formats.is_native(p) for p in paths])
    kinds = pipeline_plan.decoder_kinds(paths, 16, 16, 3)
    assert kinds.tolist() == [JPEG_8, JPEG_2, NATIVE, NATIVE, PILLOW]
    assert (pipeline_plan.decoder_kinds(paths, 16, 16, 4) == PILLOW).all()  # RGBA input: Pillow only


def test_scanned_files_need_no_header_read_unscanned_ones_fall_back(tmp_path, monkeypatch):
    from cnnstudio.data import scan_folder

    root = tmp_path / "set"
    large = _jpeg(root / "a" / "large.jpg", (160, 130))
    medium = _jpeg(root / "a" / "medium.jpg", (40, 36))
    scan_folder(root)
    loose = _jpeg(tmp_path / "loose" / "big.jpg", (64, 64))
    formats.remember_native({loose: True})  # native, but no size known: its header is read
    native, sizes = formats.native_lookup([large, medium, loose])
    assert native.tolist() == [True, True, True]
    assert sizes.tolist() == [[130, 160], [36, 40], [0, 0]]
    read = []
    real = formats.jpeg_size
    monkeypatch.setattr(formats, "jpeg_size", lambda path, *a: read.append(path) or real(path, *a))
    kinds = pipeline_plan.decoder_kinds([large, medium, loose], 16, 16, 3)
    assert kinds.tolist() == [JPEG_8, JPEG_2, pipeline_plan.JPEG_4] and read == [loose]


def test_mixed_decoders_every_image_once_and_the_same_batches_when_resumed(tmp_path):
    from cnnstudio.data import scan_folder

    root = tmp_path / "mixed"
    for i in range(11):
        _jpeg(root / "a" / f"j{i:02d}.jpg", (24 + 9 * i, 20 + 7 * i))  # ratios 1, 2 and 4 at 8x8
    make_class_folder(root, {"b": 6}, size=(10, 8))
    scan_folder(root)
    loose = make_class_folder(tmp_path / "loose", {"c": 5}, size=(10, 8))  # not scanned: Pillow
    files = [(str(p), 0) for p in sorted(root.rglob("*.*"))] + [(str(p), 1) for p in sorted(loose.rglob("*.png"))]
    kinds = pipeline_plan.decoder_kinds([p for p, _ in files], 8, 8, 3)
    assert {PILLOW, NATIVE, JPEG_2}.issubset(set(kinds.tolist()))
    shape = (8, 8, 3)
    reference = {formats.load_image(p, shape).tobytes() for p, _ in files if kinds[files.index((p, _))] == PILLOW}
    dataset = build_dataset(files, shape, 5, shuffle=True, seed=7, cache="memory")
    assert [spec.shape.as_list() for spec in dataset.element_spec] == [[None, *shape], [None]]  # Keras needs ranks
    epochs = [epoch_arrays(dataset)[0] for _ in range(3)]  # a decoding epoch, then two from the cache
    for images in epochs:
        assert len(images) == len(files) and len({img.tobytes() for img in images}) == len(files)
        assert reference <= {img.tobytes() for img in images}  # Pillow's files, exactly as Pillow reads them
    for epoch in (1, 2):  # a run resumed at this epoch, nothing cached yet, decodes the same batches
        resumed = build_dataset(files, shape, 5, shuffle=True, seed=7, cache=None, epoch_offset=epoch)
        assert np.array_equal(epoch_arrays(resumed)[0], epochs[epoch])
    in_order = epoch_arrays(build_dataset(files, shape, 5, shuffle=False, seed=0, cache=None))[0]
    one_by_one = [epoch_arrays(build_dataset([f], shape, 1, shuffle=False, seed=0, cache=None))[0][0] for f in files]
    assert np.array_equal(in_order, np.stack(one_by_one))  # unshuffled: the files' own order
