from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnstudio.errors import StudioError
from cnnstudio.graph import analyze
from cnnstudio.project import FORMAT_VERSION, Project, load_project, save_project
from cnnstudio.project.file import MIGRATIONS
from tests.graph.test_analysis import lenet


def test_round_trip(tmp_path):
    project = Project(lenet(), name="LeNet")
    project.training["batch_size"] = 64
    project.exclusions.append("cat/bad.jpg")
    project.relabels["dog/x.png"] = "cat"
    path = save_project(project, tmp_path / "p.cnnproj")
    loaded = load_project(path)
    assert loaded.to_dict() == project.to_dict()
    assert loaded.training["batch_size"] == 64
    assert loaded.path == path
    assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION


def test_save_is_atomic_and_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "p.cnnproj"
    save_project(Project(lenet(), name="first"), path)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_project(Project(lenet(), name="second"), path)
    assert load_project(path).name == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["p.cnnproj"]  # no temp file left behind


def test_version_1_files_are_migrated(tmp_path):
    old = {"format_version": 1, "name": "old", "graph": lenet().to_dict(), "training": {"epochs": 3}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    project = load_project(path)
    assert project.name == "old" and project.training["epochs"] == 3
    assert len(project.graph) == len(lenet())
    assert project.exclusions == [] and project.relabels == {}
    assert set(MIGRATIONS) == set(range(1, FORMAT_VERSION))


FIXTURES = Path(__file__).parent / "fixtures"


def test_a_version_1_file_loads_forever(tmp_path):
    """lenet-v1.cnnproj is a format-1 document as the first commit's code wrote it (the graph
    under "graph", no curation fields): it must keep loading, with its settings, in every version."""
    original = FIXTURES / "lenet-v1.cnnproj"
    assert json.loads(original.read_text(encoding="utf-8"))["format_version"] == 1
    project = load_project(original)
    assert project.name == "LeNet-5 digits"
    assert [node.name for node in project.graph] == ["input", "c1", "s2", "c3", "s4", "flatten", "f5", "f6", "output"]
    assert analyze(project.graph).total_params == 61706  # LeNet-5 on 32×32×1, as the v1 code counted
    assert project.training["optimizer"] == "sgd_momentum" and project.training["epochs"] == 12
    assert project.training["learning_rate"] == 0.01 and project.training["batch_size"] == 64
    assert project.augmentation["rotation"] == 10.0
    assert project.dataset["validation_fraction"] == 0.2
    assert project.exclusions == [] and project.relabels == {}
    resaved = load_project(save_project(project, tmp_path / "now.cnnproj"))
    assert resaved.to_dict() == project.to_dict()
    assert json.loads((tmp_path / "now.cnnproj").read_text())["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "is empty"),
        ('{"architecture": {"nodes": [', "truncated"),
        ("[1, 2]", "one JSON object"),
        ('{"format_version": 99, "architecture": {"nodes": []}}', "newer CNN Studio"),
        ('{"architecture": {"nodes": []}, "colour": 1}', "unknown field 'colour'"),
        ('{"name": "x"}', "'architecture' section is missing"),
        ('{"architecture": {"nodes": [{"name": "a", "type": "Warp"}]}}', "unknown layer type 'Warp'"),
        ('{"architecture": {"nodes": []}, "training": {"epochs": -3}}', "epochs"),
        ('{"architecture": {"nodes": []}, "training": {"optimizer": "magic"}}', "optimizer"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, content, expected):
    path = tmp_path / "bad.cnnproj"
    path.write_text(content)
    with pytest.raises(StudioError) as info:
        load_project(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "b.cnnproj"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(StudioError, match="UTF-8"):
        load_project(binary)
    with pytest.raises(StudioError, match="no such file"):
        load_project(tmp_path / "missing.cnnproj")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_fuzz_random_json_raises_only_studio_errors(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("fuzz") / "f.cnnproj"
    path.write_text(json.dumps(value))
    try:
        project = load_project(path)
    except StudioError as exc:
        assert str(path) in str(exc)  # every refusal names the file
        return
    # Loading succeeds only for a real project document, and what loads saves and loads again.
    assert isinstance(value, dict) and ("architecture" in value or "graph" in value)
    assert load_project(save_project(project, path)).to_dict() == project.to_dict()


VALID = Project(lenet()).to_dict()
KEYS = ["name", "architecture", "training", "dataset", "preprocessing", "augmentation", "exclusions", "relabels", "split", "format_version"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KEYS), json_values, st.integers(0, 8), st.sampled_from(["name", "type", "params", "inputs", "group", "position", "trainable"]))
def test_fuzz_mutated_projects_raise_only_studio_errors(tmp_path_factory, key, value, node_index, node_key):
    data = json.loads(json.dumps(VALID))
    if key == "architecture" and node_index < len(data["architecture"]["nodes"]):
        data["architecture"]["nodes"][node_index][node_key] = value
    else:
        data[key] = value
    path = tmp_path_factory.mktemp("fuzz") / "m.cnnproj"
    path.write_text(json.dumps(data))
    try:
        project = load_project(path)
    except StudioError as exc:
        assert str(path) in str(exc)  # every refusal names the file
        return
    analyze(project.graph)  # a loaded project never makes the analysis raise
    assert load_project(save_project(project, path)).to_dict() == project.to_dict()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2000))
def test_fuzz_truncated_files(tmp_path_factory, cut):
    text = json.dumps(VALID, indent=2)
    path = tmp_path_factory.mktemp("fuzz") / "t.cnnproj"
    path.write_text(text[: cut % len(text)])
    with pytest.raises(StudioError):
        load_project(path)


def test_save_as_elsewhere_keeps_relative_paths_pointing_at_the_same_files(tmp_path):
    (tmp_path / "a" / "images").mkdir(parents=True)
    (tmp_path / "a" / "m.weights.npz").write_bytes(b"x")
    project = Project(lenet())
    project.dataset["folder"] = "images"
    project.weights = "m.weights.npz"
    save_project(project, tmp_path / "a" / "p.cnnproj")
    save_project(project, tmp_path / "b" / "deeper" / "p.cnnproj")
    moved = load_project(tmp_path / "b" / "deeper" / "p.cnnproj")
    assert moved.dataset["folder"] == "../../a/images"
    assert moved.dataset_folder().resolve() == (tmp_path / "a" / "images").resolve()
    assert moved.weights_file().resolve() == (tmp_path / "a" / "m.weights.npz").resolve()
