"""Recipes: pure setting changes, diff, project-file round trip, the CLI forms."""

from __future__ import annotations

import json

import pytest

from cnnstudio import cli
from cnnstudio.errors import ProjectFileError
from cnnstudio.project import Project, load_project, save_project, schema
from cnnstudio.project.recipes import RECIPES, apply, diff, get_recipe, recipe_changes
from tests.training.fixtures import tiny_graph


def _project(size: int = 8) -> Project:
    return Project(graph=tiny_graph(size=size), name="r")


def test_recipe_names_are_the_schema_choices():
    spec = next(s for s in schema.TRAINING if s.name == "recipe")
    assert spec.choices == ("none", *RECIPES)
    assert list(RECIPES) == ["quick", "small-data", "imbalanced", "finetune"]


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_round_trips_through_the_project_file(tmp_path, name):
    project = _project()
    before = project.graph.to_dict(), dict(project.dataset)
    changes = recipe_changes(name, project)
    apply(project, changes)
    loaded = load_project(save_project(project, tmp_path / "p.cnnproj"))
    assert loaded.training["recipe"] == name
    for section, key, value in changes:
        assert loaded.section(section)[key] == value, (section, key)
    # Architecture and data are never a recipe's business.
    assert (loaded.graph.to_dict(), loaded.dataset) == before
    assert not diff(loaded, changes)  # applied: nothing left to change


def test_diff_lists_only_real_changes_with_old_values():
    project = _project()
    project.training["class_weights"] = "balanced"
    changes = diff(project, recipe_changes("imbalanced", project))
    assert [(d.section, d.key, d.old, d.new) for d in changes] == [
        ("training", "best_metric", "val_accuracy", "macro_f1"), ("training", "recipe", "none", "imbalanced")]


def test_kept_settings_are_left_alone():
    changes = recipe_changes("quick", _project(), keep=(("training", "epochs"),))
    assert ("training", "epochs") not in {(s, k) for s, k, _ in changes}


def test_small_data_augmentation_follows_the_input_size():
    small = dict(((s, k), v) for s, k, v in recipe_changes("small-data", _project(size=8)))
    assert small[("augmentation", "translation")] == 0.1 and ("augmentation", "random_crop") not in small
    big = dict(((s, k), v) for s, k, v in recipe_changes("small-data", _project(size=96)))
    assert big[("augmentation", "random_crop")] == 0.1
    assert small[("training", "tta")] == "shifts"  # no mirrored TTA unless training mirrors
    project = _project()
    project.augmentation["flip_horizontal"] = True
    assert dict(((s, k), v) for s, k, v in recipe_changes("small-data", project))[("training", "tta")] == "flip_shifts"


def test_unknown_recipe_names_the_known_ones():
    with pytest.raises(ProjectFileError, match="quick, small-data, imbalanced, finetune"):
        get_recipe("fast")


def test_recipes_command_json(capsys, tmp_path):
    path = save_project(_project(), tmp_path / "p.cnnproj")
    assert cli.main(["recipes", "--json", "--project", str(path)]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [item["name"] for item in listing] == list(RECIPES)
    imbalanced = listing[2]
    assert imbalanced["settings"]["training.class_weights"] == "balanced"
    assert {"setting": "training.best_metric", "old": "val_accuracy", "new": "macro_f1"} in imbalanced["changes"]


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "fast"], "Unknown recipe 'fast'"),
    (["--set", "emma=true"], "--set emma: no such setting"),
    (["--set", "ema=maybe"], "must be true or false. Received: 'maybe'"),
    (["--set", "augmentation.rotation=400"], "rotation"),
])
def test_train_refuses_bad_recipe_and_settings(tmp_path, capsys, argv, message):
    path = save_project(_project(), tmp_path / "p.cnnproj")
    assert cli.main(["train", str(path), "--run-dir", str(tmp_path / "run"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_worker_applies_the_recipe_under_explicit_values(tmp_path):
    """A run's copy gets the recipe; --epochs and --set win over it; the project file is unchanged."""
    from cnnstudio.training.job import Job
    from cnnstudio.training.rundir import RunDirectory
    from cnnstudio.training.worker import _load_project

    path = save_project(_project(), tmp_path / "p.cnnproj")
    job = Job(str(path), str(tmp_path / "run"), epochs=3, recipe="small-data",
              overrides={"label_smoothing": 0.2, "augmentation.rotation": 5.0})
    project = _load_project(job, RunDirectory(tmp_path / "run"))
    assert project.training["recipe"] == "small-data" and project.training["ema"] is True
    assert project.training["epochs"] == 3 and project.training["label_smoothing"] == 0.2
    assert project.augmentation["rotation"] == 5.0 and project.augmentation["translation"] == 0.1
    assert load_project(path).training["recipe"] == "none"
