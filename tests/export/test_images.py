"""The SavedModel's TF decoding matches the training loader (Pillow) for every resize policy."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnstudio.data import formats
from cnnstudio.export.images import decode_and_resize, find_images


@pytest.mark.parametrize("policy", ["stretch", "center_crop", "pad"])
@pytest.mark.parametrize("size", [(40, 30), (16, 16), (9, 20), (12, 7)])
def test_tf_resize_matches_training_loader(tmp_path, policy, size):
    import tensorflow as tf

    h, w = size
    rng = np.random.default_rng(h * w)
    y, x = np.mgrid[0:h, 0:w]
    image = np.stack([x * 255 / w, y * 255 / h, (x + y) % 7 * 30], -1)
    image = np.clip(image + rng.integers(-20, 20, image.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    path = tmp_path / "image.png"
    path.write_bytes(buffer.getvalue())
    expected = formats.load_image(str(path), (16, 16, 3), policy)
    got = decode_and_resize(tf.constant(buffer.getvalue()), 16, 16, 3, policy).numpy()
    # Pillow resamples in fixed point: one grey level of rounding apart at most.
    assert np.abs(expected.astype(int) - got.astype(int)).max() <= 1


def test_find_images_takes_every_class(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(5):
            Image.new("RGB", (4, 4)).save(tmp_path / name / f"{i}.png")
    picked = find_images(tmp_path, 4)
    assert len(picked) == 4 and {p.parent.name for p in picked} == {"a", "b"}
