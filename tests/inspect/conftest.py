from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def inspect_run(tmp_path_factory):
    """A 16x16 three-class run (coloured squares on noise) with a test split; built once per test run."""
    from cnnstudio.project import load_project, save_project
    from tests.export.helpers import make_project, train, write_dataset
    from tests.shared import build_once

    def build(root):
        path = make_project(root, write_dataset(root / "colours", per_class=20))
        project = load_project(path)
        project.dataset["test_fraction"] = 0.15
        save_project(project, path)
        return train(path, root / "run")

    return build_once(tmp_path_factory, "inspect-run", build)
