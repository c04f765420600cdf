"""The project model: one undo stack for graph and settings edits, with change notifications."""

from __future__ import annotations

import pytest

from cnnstudio.errors import StudioError
from cnnstudio.graph import commands as graph_commands
from cnnstudio.graph.model import Graph
from cnnstudio.project.commands import Composite, SetField, SetSetting, apply_settings
from cnnstudio.project.file import Project, load_project
from cnnstudio.project.model import Change, ProjectModel


def small_project() -> Project:
    g = Graph(name="net")
    g.add_layer("Input", name="input", height=16, width=16, channels=1)
    g.add_layer("Flatten", ["input"], name="flat")
    g.add_layer("Dense", ["flat"], name="fc", units=3)
    return Project(graph=g, name="net")


def observed(model: ProjectModel) -> list[Change]:
    seen: list[Change] = []
    model.subscribe(seen.append)
    return seen


def test_settings_and_graph_edits_share_one_history():
    model = ProjectModel(small_project())
    seen = observed(model)
    assert model.set_setting("training", "batch_size", 64)
    model.push(graph_commands.Rename("fc", "head"))
    assert Change("settings", "training", "batch_size") in seen and Change("graph") in seen
    assert model.dirty and model.undo_label == "Rename 'fc' to 'head'"
    assert model.undo() and "fc" in model.graph
    assert model.undo() and model.setting("training", "batch_size") == 32
    assert not model.dirty and not model.can_undo
    assert seen[-2] == Change("settings", "training", "batch_size", undo=True)
    assert model.redo() and model.setting("training", "batch_size") == 64


def test_a_setting_is_checked_against_the_schema_and_names_the_field():
    model = ProjectModel(small_project())
    with pytest.raises(StudioError, match="batch_size"):
        model.set_setting("training", "batch_size", -5)
    with pytest.raises(StudioError, match="no setting 'batch_sise'"):
        model.set_setting("training", "batch_sise", 8)
    assert not model.can_undo and model.setting("training", "batch_size") == 32


def test_same_value_is_no_step_and_repeated_edits_of_one_key_merge():
    model = ProjectModel(small_project())
    assert not model.set_setting("training", "batch_size", 32)
    for value in (33, 34, 35):
        model.set_setting("training", "batch_size", value)
    model.set_setting("training", "epochs", 3)
    assert model.undo() and model.setting("training", "epochs") != 3
    assert model.undo() and model.setting("training", "batch_size") == 32  # the three clicks: one step
    assert not model.can_undo


def test_saved_state_is_not_merged_away(tmp_path):
    model = ProjectModel(small_project())
    model.set_setting("training", "batch_size", 40)
    model.save(tmp_path / "p.cnnproj")
    model.set_setting("training", "batch_size", 41)
    assert model.dirty
    model.undo()
    assert not model.dirty and model.setting("training", "batch_size") == 40
    assert load_project(tmp_path / "p.cnnproj").training["batch_size"] == 40


def test_composite_is_one_step_and_rolls_back_when_a_part_fails():
    model = ProjectModel(small_project())
    recipe = apply_settings({"training": {"optimizer": "sgd", "learning_rate": 0.01},
                             "augmentation": {"flip_horizontal": True}}, "Apply recipe")
    model.push(recipe)
    assert model.setting("training", "optimizer") == "sgd" and model.setting("augmentation", "flip_horizontal")
    assert model.undo_label == "Apply recipe"
    model.undo()
    assert model.setting("training", "optimizer") == "adam" and not model.setting("augmentation", "flip_horizontal")
    broken = Composite("Broken", [SetSetting("training", "epochs", 7), graph_commands.Rename("nope", "x")])
    with pytest.raises(StudioError):
        model.push(broken)
    assert model.setting("training", "epochs") != 7
    assert not model.can_undo and model.redo_label == "Apply recipe"  # a failed push records nothing


def test_curation_fields_are_commands_too():
    model = ProjectModel(small_project())
    seen = observed(model)
    model.push(SetField("exclusions", ["a/1.png"]))
    assert model.project.exclusions == ["a/1.png"] and Change("fields", key="exclusions") in seen
    model.undo()
    assert model.project.exclusions == []
    with pytest.raises(StudioError, match="Unknown project field"):
        SetField("graph", None)


def test_open_starts_a_fresh_history_and_tells_observers():
    model = ProjectModel(small_project())
    model.set_setting("training", "epochs", 9)
    seen = observed(model)
    other = small_project()
    model.open(other, dirty=True)
    assert model.project is other and not model.can_undo and model.dirty
    assert seen[0] == Change("project")
    unsubscribe = model.subscribe(seen.append)
    unsubscribe()
    model.mark_modified()
