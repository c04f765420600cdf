"""Decoding and resizing images the way training does, as TensorFlow ops.

The SavedModel's bytes signature and `cnnstudio predict` call these, so an image reaches
the exported model exactly as it reached the model during training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnstudio.errors import ExportError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
RESIZE_POLICIES = ("stretch", "center_crop", "pad")


def _scale_translate(image: Any, height: int, width: int, scale_y: Any, scale_x: Any,
                     shift_y: Any, shift_x: Any) -> Any:
    """Pillow's BILINEAR resampling (a triangle filter widened when shrinking) as one TF op."""
    import tensorflow as tf

    return tf.raw_ops.ScaleAndTranslate(
        images=image[None], size=tf.constant([height, width], tf.int32),
        scale=tf.stack([scale_y, scale_x]), translation=tf.stack([shift_y, shift_x]),
        kernel_type="triangle", antialias=True)[0]


def resize_image(image: Any, height: int, width: int, policy: str = "stretch") -> Any:
    """One decoded image [h,w,c] -> uint8 [height,width,c], mirroring cnnstudio.data.formats._resize."""
    import tensorflow as tf

    if policy not in RESIZE_POLICIES:
        raise ExportError(f"Unknown resize policy {policy!r}; use one of {', '.join(RESIZE_POLICIES)}.")
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    pixels = tf.cast(image, tf.float32)

    def stretch():
        return _scale_translate(pixels, height, width, height / h, width / w, 0.0, 0.0)

    def center_crop():
        scale = tf.maximum(width / w, height / h)
        left = (w - width / scale) / 2
        top = (h - height / scale) / 2
        return _scale_translate(pixels, height, width, scale, scale, -top * scale, -left * scale)

    def pad():
        scale = tf.minimum(width / w, height / h)
        new_w = tf.clip_by_value(tf.cast(tf.round(w * scale), tf.int32), 1, width)
        new_h = tf.clip_by_value(tf.cast(tf.round(h * scale), tf.int32), 1, height)
        resized = tf.raw_ops.ScaleAndTranslate(
            images=pixels[None], size=tf.stack([new_h, new_w]),
            scale=tf.stack([tf.cast(new_h, tf.float32) / h, tf.cast(new_w, tf.float32) / w]),
            translation=tf.zeros([2]), kernel_type="triangle", antialias=True)[0]
        resized = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
        return tf.cast(tf.image.pad_to_bounding_box(resized, (height - new_h) // 2, (width - new_w) // 2,
                                                     height, width), tf.float32)

    build = {"stretch": stretch, "center_crop": center_crop, "pad": pad}[policy]
    same = tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width))
    out = tf.cond(same, lambda: pixels, build)
    out = tf.ensure_shape(out, [height, width, None])
    return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)


def decode_image(data: Any, channels: int) -> Any:
    """Encoded JPEG/PNG/GIF/BMP bytes (scalar string tensor) -> uint8 [h,w,channels]."""
    import tensorflow as tf

    image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def decode_and_resize(data: Any, height: int, width: int, channels: int, policy: str) -> Any:
    return resize_image(decode_image(data, channels), height, width, policy)


def load_images(paths: list[Path], shape: tuple[int, int, int], policy: str) -> Any:
    """Image files -> uint8 [N,H,W,C] through the training loader; an unreadable file raises ExportError."""
    import numpy as np

    from cnnstudio.data import formats

    out = []
    for path in paths:
        try:
            out.append(formats.load_image(str(path), tuple(shape), policy))
        except formats.UnusableImage as exc:
            raise ExportError(f"{path}: {exc}.") from None
        except ValueError as exc:
            raise ExportError(f"{path}: {exc}") from None
    return np.stack(out) if out else np.zeros((0, *shape), np.uint8)


def find_images(folder: Path, limit: int) -> list[Path]:
    """Up to `limit` image files from a dataset folder, taken round-robin over its class folders."""
    if not folder or not Path(folder).is_dir():
        return []
    groups: dict[Path, list[Path]] = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            groups.setdefault(path.parent, []).append(path)
    picked: list[Path] = []
    lists = list(groups.values())
    index = 0
    while len(picked) < limit and any(index < len(group) for group in lists):
        for group in lists:
            if index < len(group) and len(picked) < limit:
                picked.append(group[index])
        index += 1
    return picked
