"""Trials share the input statistics: computed by the first trial, loaded bit for bit by the next."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.data import prepare_data
from cnnstudio.experiments import trial_data
from cnnstudio.project import load_project
from tests.experiments.helpers import small_digits


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    project = load_project(small_digits(tmp_path, classes=2, per_class=10))
    project.preprocessing["normalization"] = "per_channel"
    prepare_data(project)  # the sweep fixes the split once
    return project


def test_statistics_are_computed_once_and_reused(project, monkeypatch):
    first = trial_data.load(project)
    assert trial_data.statistics_file(project).is_file()
    import cnnstudio.data as data_module

    def refuse(*args, **kwargs):
        raise AssertionError("statistics computed again")

    monkeypatch.setattr(data_module, "compute_statistics", refuse)
    second = trial_data.load(project)
    assert project.preprocessing["normalization"] == "per_channel"  # left as it was
    for name in ("channel_mean", "channel_std", "mean_image"):
        assert np.array_equal(getattr(first.statistics, name), getattr(second.statistics, name))
    assert np.array_equal(first.x_train, second.x_train)


def test_the_key_follows_the_settings_that_determine_the_statistics(project):
    key = trial_data.statistics_key(project)
    assert trial_data.statistics_key(project) == key
    project.preprocessing["statistics_images"] = 50
    assert trial_data.statistics_key(project) != key
    project.preprocessing["statistics_images"] = 2000
    project.augmentation["rotation"] = 30.0  # augmentation does not change the statistics
    assert trial_data.statistics_key(project) == key
