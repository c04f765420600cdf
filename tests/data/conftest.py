"""Data-test fixtures: a private scan cache and a folder factory."""

from __future__ import annotations

import pytest

from tests.data.helpers import make_class_folder


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Keep every scan/pipeline cache inside the test's temporary folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CNNSTUDIO_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def make_folder(tmp_path):
    def make(classes: dict[str, int], name="images", **kwargs):
        return make_class_folder(tmp_path / name, classes, **kwargs)

    return make
