from __future__ import annotations

import pytest

from tests.export.helpers import write_dataset


@pytest.fixture(scope="session")
def source_run(colour_run):
    """A tiny run trained on dataset A (colours), the starting point of every fine-tuning test."""
    return colour_run


@pytest.fixture(scope="session")
def bars(tmp_path_factory):
    """Dataset B: two different classes (bar orientation)."""
    return write_dataset(tmp_path_factory.mktemp("bars") / "bars", kind="bars", per_class=12, seed=3)
