"""Preprocessing and augmentation layers: equal to numpy, serialisable, training-only."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnstudio.data.statistics import normalize, statistics_from_array
from cnnstudio.errors import DatasetError, ParameterError
from cnnstudio.modeling.augmentation import ORDER, augmentation_layers, preview
from cnnstudio.modeling.preprocessing import preprocessing_layers
from tests.data.test_statistics import correlated_images

ALL_ON = {"flip_horizontal": True, "flip_vertical": True, "rotation": 30.0, "translation": 0.1, "zoom": 0.2,
          "random_crop": 0.2, "brightness": 0.2, "contrast": 0.3, "saturation": 0.4, "hue": 0.1,
          "probability": 1.0}


def _model(layers, shape):
    inputs = keras.Input(shape, dtype="uint8")
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("mode", ["none", "rescale", "per_channel", "mean_image", "pca", "zca"])
def test_preprocessing_equals_numpy_and_survives_saving(tmp_path, mode):
    images = correlated_images(count=300, shape=(4, 4, 3))
    stats = statistics_from_array(images, normalization=mode if mode in ("pca", "zca") else "rescale")
    model = _model(preprocessing_layers(stats, {"normalization": mode}), (4, 4, 3))
    out = model(images).numpy()
    expected = normalize(images, stats, mode)
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(out - expected).max() / scale < 1e-4
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(loaded(images).numpy(), out)


def test_preprocessing_errors():
    stats = statistics_from_array(np.zeros((2, 4, 4, 3), dtype=np.uint8))
    with pytest.raises(DatasetError, match="needs statistics"):
        preprocessing_layers(None, {"normalization": "per_channel"})
    with pytest.raises(DatasetError, match="no whitening"):
        preprocessing_layers(stats, {"normalization": "zca"})
    big = statistics_from_array(np.zeros((2, 48, 48, 3), dtype=np.uint8))
    with pytest.raises(ParameterError, match="limited to 4096 features"):
        preprocessing_layers(big, {"normalization": "pca"})


def test_augmentation_is_identity_at_inference_and_random_in_training(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 12, 12, 3), dtype=np.uint8)
    layers = augmentation_layers(ALL_ON, seed=5)
    assert len(layers) == 1
    model = _model(layers, (12, 12, 3))
    assert np.array_equal(model(images, training=False).numpy(), images.astype(np.float32))
    trained = model(images, training=True).numpy()
    assert trained.shape == images.shape and trained.min() >= 0 and trained.max() <= 255
    assert not np.allclose(trained, images)
    path = tmp_path / "aug.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.layers[1].get_config()["settings"] == layers[0].get_config()["settings"]
    assert np.array_equal(loaded(images, training=False).numpy(), images.astype(np.float32))


def test_no_augmentation_means_no_layer_and_probability_zero_is_identity():
    assert augmentation_layers({}, seed=0) == []
    images = np.arange(2 * 5 * 5 * 3, dtype=np.uint8).reshape(2, 5, 5, 3)
    out = preview(images, {**ALL_ON, "probability": 0.0}, variants=2)
    assert np.array_equal(out, np.repeat(images[:, None], 2, axis=1))


def test_each_augmentation_changes_images_and_preview_is_seeded():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    for name in ORDER:
        settings = {"flip_horizontal": True} if name == "flip" else {name: ALL_ON[name]}
        out = preview(images, settings, seed=2, variants=4)
        assert out.shape == (3, 4, 16, 16, 3) and out.dtype == np.uint8
        assert not np.array_equal(out, np.repeat(images[:, None], 4, axis=1)), name
    assert np.array_equal(preview(images, ALL_ON, seed=9), preview(images, ALL_ON, seed=9))


def test_colour_jitter_skips_hue_on_grayscale():
    images = np.full((2, 8, 8, 1), 100, dtype=np.uint8)
    out = preview(images, {"hue": 0.3, "saturation": 0.5}, variants=2)
    assert np.array_equal(out[:, 0], images)
    assert out.shape == (2, 2, 8, 8, 1)


def test_augment_dataset_applies_the_layer_in_the_pipeline():
    import tensorflow as tf

    from cnnstudio.modeling.augmentation import augment_dataset

    images = np.full((4, 8, 8, 3), 120, dtype=np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(4, np.int32))).batch(2)
    out = [x.numpy() for x, _y in augment_dataset(dataset, {"brightness": 0.5}, seed=3)]
    assert out[0].dtype == np.float32 and not np.allclose(out[0], 120)
    assert augment_dataset(dataset, {}, seed=0) is dataset
