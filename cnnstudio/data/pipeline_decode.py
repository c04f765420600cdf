"""The graph side of a decoding epoch: one block of files of one decoder per call, no branch per image.

block_decoder(...) is a tf.function made once per (input size, resize policy, decoders) and
shared by every dataset the process builds with them: its graph (a switch over the decoders,
each decoding BLOCK files) is traced once, not again for the validation set or the next run.
The Pillow branch calls back into the dataset's loader through a registry id.
"""

from __future__ import annotations

import functools
import itertools
import weakref

import numpy as np
import tensorflow as tf

from cnnstudio.data.pipeline_plan import BLOCK, JPEG_RATIOS, NATIVE, PILLOW

_LOADERS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_NEXT_ID = itertools.count(1)


def register(loader) -> int:
    """An id by which the shared decoder reaches `loader` (kept while the loader lives)."""
    number = next(_NEXT_ID)
    _LOADERS[number] = loader
    return number


def _pillow_block(loader_id, indices, length):
    return _LOADERS[int(loader_id)].pillow_block(indices, length)


def resized(image, height: int, width: int, policy: str):
    """One decoded image -> float32 [1, height, width, C], not yet rounded (done once per block)."""
    if policy == "stretch":  # the common case in as few ops as possible: tf.image.resize's own kernel
        return tf.raw_ops.ResizeBilinear(images=tf.raw_ops.ExpandDims(input=image, axis=0), size=[height, width],
                                         half_pixel_centers=True)
    image = tf.cast(image, tf.float32)
    if policy == "pad":
        image = tf.image.resize_with_pad(image, height, width)
    else:
        if policy == "center_crop":
            h, w = tf.cast(tf.shape(image)[0], tf.float32), tf.cast(tf.shape(image)[1], tf.float32)
            scale = tf.maximum(width / w, height / h)
            crop_h = tf.clip_by_value(tf.cast(tf.round(height / scale), tf.int32), 1, tf.shape(image)[0])
            crop_w = tf.clip_by_value(tf.cast(tf.round(width / scale), tf.int32), 1, tf.shape(image)[1])
            top, left = (tf.shape(image)[0] - crop_h) // 2, (tf.shape(image)[1] - crop_w) // 2
            image = image[top : top + crop_h, left : left + crop_w]
        image = tf.image.resize(image, (height, width))
    return image[None]


def to_uint8(images):
    return tf.cast(tf.clip_by_value(tf.round(images), 0.0, 255.0), tf.uint8)


@functools.lru_cache(maxsize=32)
def block_decoder(height: int, width: int, channels: int, resize: str, decoders: tuple[int, ...]):
    """f(paths, loader_id, indices [BLOCK], length, branch) -> (uint8 images [n, H, W, C], indices [n]).

    `branch` is the position of the block's decoder in `decoders`. A file TensorFlow cannot
    decode raises (the caller drops the block); Pillow leaves out what it cannot read.
    """
    spec = [height, width, channels]

    def tf_block(paths, indices, decode):
        names = tf.unstack(tf.gather(paths, indices), num=BLOCK)
        images = [resized(decode(tf.raw_ops.ReadFile(filename=name)), height, width, resize) for name in names]
        return to_uint8(tf.concat(images, 0)), indices

    def pillow_block(loader_id, indices, length):
        images, kept = tf.numpy_function(_pillow_block, [loader_id, indices, length], (tf.uint8, tf.int64),
                                         stateful=True)
        return tf.ensure_shape(images, [None, *spec]), tf.ensure_shape(kept, [None])

    def native(data):  # PNG, or JPEG at full scale
        return tf.raw_ops.DecodeImage(contents=data, channels=channels, dtype=tf.uint8, expand_animations=False)

    def jpeg(ratio):
        return lambda data: tf.raw_ops.DecodeJpeg(contents=data, channels=channels, ratio=ratio)

    @tf.function(autograph=False, input_signature=[
        tf.TensorSpec([None], tf.string), tf.TensorSpec([], tf.int64), tf.TensorSpec([BLOCK], tf.int64),
        tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])
    def decode(paths, loader_id, indices, length, branch):
        every = {
            PILLOW: lambda: pillow_block(loader_id, indices, length),
            NATIVE: lambda: tf_block(paths, indices, native),
            **{kind: lambda ratio=ratio: tf_block(paths, indices, jpeg(ratio)) for kind, ratio in JPEG_RATIOS.items()},
        }
        images, kept = tf.switch_case(branch, [every[decoder] for decoder in decoders])
        count = tf.minimum(length, tf.shape(kept)[0])  # a padded block is cut; Pillow's has its own count
        return tf.ensure_shape(images[:count], [None, *spec]), tf.ensure_shape(kept[:count], [None])

    return decode


def branch_table(kinds: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
    """The decoders a file list needs (Pillow always: the fallback) and kind -> branch position."""
    decoders = tuple(sorted(set(np.unique(kinds).tolist()) | {PILLOW}))
    branch = np.zeros(max(decoders) + 1, np.int32)
    branch[list(decoders)] = np.arange(len(decoders))
    return decoders, branch
