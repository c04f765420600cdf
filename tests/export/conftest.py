from __future__ import annotations

import pytest

from tests.export.helpers import make_project, train, write_dataset


@pytest.fixture(scope="session")
def trained_run(colour_run):
    """A 16x16 three-class run trained for a few epochs on a folder of PNG files."""
    return colour_run


@pytest.fixture(scope="session")
def augmented_run(tmp_path_factory):
    """A run with augmentation on, ZCA whitening and the center_crop resize policy."""
    from cnnstudio.project import load_project, save_project

    root = tmp_path_factory.mktemp("export-augmented")
    path = make_project(root, write_dataset(root / "colours", seed=5), epochs=2)
    project = load_project(path)
    project.augmentation.update(flip_horizontal=True, rotation=10.0, brightness=0.1, saturation=0.1,
                                random_crop=0.1)
    project.preprocessing.update(normalization="zca", resize="center_crop")
    save_project(project, path)
    return train(path, root / "run")
