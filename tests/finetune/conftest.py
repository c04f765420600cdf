from __future__ import annotations

import pytest

from tests.export.helpers import make_project, train, write_dataset


@pytest.fixture(scope="session")
def source_run(tmp_path_factory):
    """A tiny run trained on dataset A (colours), the starting point of every fine-tuning test."""
    root = tmp_path_factory.mktemp("finetune-source")
    project = make_project(root, write_dataset(root / "colours"))
    return train(project, root / "run")


@pytest.fixture(scope="session")
def bars(tmp_path_factory):
    """Dataset B: two different classes (bar orientation)."""
    return write_dataset(tmp_path_factory.mktemp("bars") / "bars", kind="bars", per_class=12, seed=3)
