"""Which decoder reads each file, and the blocks of same-decoder files an epoch decodes (numpy only).

The tf.data pipeline decodes BLOCK files per map call with no branch per image: every file of
a block has the same decoder, fixed before the graph runs. A branch (switch, cond) inside the
map costs about as much per image as a small JPEG's scaled decoding saves, so the choice is
made here, in numpy, from what the scan learnt (formats.native_lookup: the native flag and the
size it read from the header; the JPEG's frame header is read here only for files the scan did not
give a size for): the size gives the DCT scale that still covers the input size, like Pillow's draft.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.data import formats

BLOCK = 8  # files per map call
# Decoder kinds: Pillow (numpy_function); TensorFlow decode_image (PNG, or JPEG at full scale);
# TensorFlow decode_jpeg at 1/2, 1/4, 1/8 scale.
PILLOW, NATIVE, JPEG_2, JPEG_4, JPEG_8 = range(5)
JPEG_RATIOS = {JPEG_2: 2, JPEG_4: 4, JPEG_8: 8}


def decoder_kinds(paths: list[str], height: int, width: int, channels: int) -> np.ndarray:
    """Each file's decoder kind (uint8): Pillow unless the scan marked it plain JPEG/PNG."""
    kinds = np.full(len(paths), PILLOW, dtype=np.uint8)
    if channels not in (1, 3):
        return kinds  # RGBA input: Pillow composes alpha the scanner's way
    native, sizes = formats.native_lookup(paths)  # sizes: the scan's header reads (0 when unknown)
    kinds[native] = NATIVE
    jpeg = np.fromiter((path.lower().endswith((".jpg", ".jpeg", ".jpe", ".jfif")) for path in paths), bool, len(paths))
    # A PNG stays NATIVE; a JPEG under another suffix is decoded at full scale (still right).
    candidates = np.flatnonzero(native & jpeg)
    for position in candidates[(sizes[candidates] == 0).any(axis=1)].tolist():
        size = formats.jpeg_size(paths[position])  # not known from a scan: read its frame header
        if size is not None:
            sizes[position] = size
    room = np.minimum(sizes[candidates, 0] // height, sizes[candidates, 1] // width)
    kinds[candidates[room >= 2]] = JPEG_2
    kinds[candidates[room >= 4]] = JPEG_4
    kinds[candidates[room >= 8]] = JPEG_8
    return kinds


def blocks(order: np.ndarray, kinds: np.ndarray, keep_order: bool, size: int = BLOCK):
    """Split an epoch's file order into blocks of at most `size` files of one kind.

    keep_order: blocks are runs of consecutive files (the output order is `order` exactly).
    Otherwise each kind's files are taken in epoch order, `size` at a time, and a block comes
    out where its last file stood (partial blocks at the end): the output order stays close to
    `order` and is a pure function of (order, kinds), so a resumed run sees the same batches.
    Returns (indices [n, size] padded with the block's last file, lengths [n], kinds [n]).
    """
    order = np.asarray(order, dtype=np.int64)
    if len(order) == 0:
        return np.zeros((0, size), np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    kind = kinds[order].astype(np.int64)
    if keep_order:
        run_start = np.flatnonzero(np.r_[True, kind[1:] != kind[:-1]])
        run_length = np.diff(np.r_[run_start, len(order)])
        pieces = -(-run_length // size)
        starts = np.repeat(run_start, pieces) + size * (np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces,
                                                                                             pieces))
        ends = np.minimum(starts + size, np.repeat(run_start + run_length, pieces))
        positions = starts[:, None] + np.arange(size)[None, :]
        positions = np.minimum(positions, ends[:, None] - 1)
        return order[positions], (ends - starts).astype(np.int32), kind[starts].astype(np.int32)
    # Stable sort by kind: each kind's files in epoch order; rank within the kind.
    by_kind = np.argsort(kind, kind="stable")
    sorted_kind = kind[by_kind]
    kind_start = np.searchsorted(sorted_kind, sorted_kind, side="left")
    rank = np.arange(len(order)) - kind_start
    counts = np.bincount(sorted_kind)
    block_id = rank // size
    # Blocks per kind and a global block number: kind-major.
    per_kind = -(-counts // size)
    first_block = np.cumsum(per_kind) - per_kind
    number = first_block[sorted_kind] + block_id
    total = int(per_kind.sum())
    lengths = np.bincount(number, minlength=total).astype(np.int32)
    positions = np.zeros((total, size), np.int64)
    positions[number, rank % size] = by_kind
    # Pad each partial block with its last file.
    column = np.arange(size)[None, :]
    last = positions[np.arange(total), lengths - 1]
    positions = np.where(column < lengths[:, None], positions, last[:, None])
    block_kind = np.repeat(np.arange(len(counts)), per_kind).astype(np.int32)
    # A full block comes out where its last file stood; partial ones after all of those, by kind.
    emit = np.where(lengths == size, last, len(order) + block_kind)
    chosen = np.argsort(emit, kind="stable")
    return order[positions[chosen]], lengths[chosen], block_kind[chosen]


def flatten(indices: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The files of `blocks` in output order (padding removed)."""
    mask = np.arange(indices.shape[1])[None, :] < lengths[:, None]
    return indices[mask]
