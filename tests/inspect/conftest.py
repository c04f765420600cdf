from __future__ import annotations

import pytest

from tests.export.helpers import make_project, train, write_dataset


@pytest.fixture(scope="session")
def inspect_run(tmp_path_factory):
    """A 16x16 three-class run (coloured squares on noise), trained for a few epochs, with a test split."""
    from cnnstudio.project import load_project, save_project

    root = tmp_path_factory.mktemp("inspect-run")
    path = make_project(root, write_dataset(root / "colours", per_class=20))
    project = load_project(path)
    project.dataset["test_fraction"] = 0.15
    save_project(project, path)
    return train(path, root / "run")
