"""The whole data flow on the sample digits: scan, split, statistics, pipeline, layers, Keras fit."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from cnnstudio.data import prepare_data
from cnnstudio.data.pipeline import build_dataset
from cnnstudio.modeling.augmentation import augmentation_layers
from cnnstudio.modeling.preprocessing import preprocessing_layers
from tests.data.test_split import make_project

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


def test_sample_digits_train_end_to_end(tmp_path):
    project = make_project(SAMPLE, height=16, width=16, channels=1, validation_fraction=0.2)
    project.preprocessing["normalization"] = "per_channel"
    project.augmentation.update(translation=0.05, brightness=0.1)
    data = prepare_data(project)
    assert data.class_names == [str(i) for i in range(10)]
    assert len(data.files["train"]) == 400 and len(data.files["val"]) == 100
    assert data.counts("val") == dict.fromkeys(data.class_names, 10)  # stratified
    stats = data.statistics(max_images=200)

    keras.utils.set_random_seed(0)
    inputs = keras.Input(data.image_shape, dtype="uint8")
    x = inputs
    for layer in augmentation_layers(project.augmentation, seed=1) + preprocessing_layers(stats, project.preprocessing):
        x = layer(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    train = build_dataset(data.files["train"], data.image_shape, 32, shuffle=True, seed=3)
    val = build_dataset(data.files["val"], data.image_shape, 50, shuffle=False, seed=0)
    history = model.fit(train, validation_data=val, epochs=4, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.6  # chance is 0.1

    path = tmp_path / "digits.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    images = np.concatenate([x.numpy() for x, _y in val])
    assert np.allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-5)
