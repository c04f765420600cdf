from __future__ import annotations

import pytest

from tests.export.helpers import make_project, train, write_dataset


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A 16x16 three-class run trained for a few epochs on a folder of PNG files."""
    root = tmp_path_factory.mktemp("export-run")
    data = write_dataset(root / "colours")
    project = make_project(root, data)
    return train(project, root / "run")
