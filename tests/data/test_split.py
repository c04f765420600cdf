"""prepare_data: curation, the stored deterministic stratified split, leakage, image shape."""

from __future__ import annotations

import shutil

import pytest

from cnnstudio.data import prepare_data
from cnnstudio.data.split import stratified_split
from cnnstudio.errors import DatasetError
from cnnstudio.graph.model import Graph
from cnnstudio.project import Project, load_project, save_project
from tests.data.helpers import save_image


def make_project(folder, height=8, width=8, channels=3, **dataset) -> Project:
    graph = Graph()
    graph.add_layer("Input", name="image", height=height, width=width, channels=channels)
    graph.add_layer("Flatten", ["image"], name="flat")
    graph.add_layer("Dense", ["flat"], name="out", units=2)
    project = Project(graph=graph)
    project.dataset.update(folder=str(folder), **dataset)
    return project


def test_split_is_deterministic_and_stratified():
    labels = {f"{c}/{i}.png": c for c, n in (("a", 50), ("b", 20), ("c", 10)) for i in range(n)}
    first = stratified_split(labels, 0.2, 0.1, seed=7)
    assert first == stratified_split(dict(reversed(labels.items())), 0.2, 0.1, seed=7)
    assert first != stratified_split(labels, 0.2, 0.1, seed=8)
    per_class = {c: sum(labels[p] == c for p in first["val"]) for c in "abc"}
    assert per_class == {"a": 10, "b": 4, "c": 2}
    assert {c: sum(labels[p] == c for p in first["test"]) for c in "abc"} == {"a": 5, "b": 2, "c": 1}
    everything = first["train"] + first["val"] + first["test"]
    assert sorted(everything) == sorted(labels)  # a partition: nothing lost, nothing twice


def test_tiny_classes_keep_a_training_image():
    split = stratified_split({"a/1": "a", "b/1": "b", "b/2": "b"}, 0.5, 0.5, seed=0)
    assert {"a/1", "b/1", "b/2"} & set(split["train"]) >= {"a/1"}
    assert any(p.startswith("b/") for p in split["train"])


def test_prepare_data_stores_and_reuses_the_split(make_folder, tmp_path):
    root = make_folder({"cat": 10, "dog": 10})
    project = make_project(root, validation_fraction=0.3)
    data = prepare_data(project)
    assert data.class_names == ["cat", "dog"]
    assert data.image_shape == (8, 8, 3)
    assert len(data.files["train"]) == 14 and len(data.files["val"]) == 6 and data.files["test"] == []
    assert all(path.startswith(str(root)) for path, _label in data.files["train"])
    assert project.split["subsets"]["val"] == sorted(project.split["subsets"]["val"])
    # The project file keeps the split: a reloaded project reproduces the run.
    saved = save_project(project, tmp_path / "p.cnnproj")
    reloaded = load_project(saved)
    assert reloaded.split == project.split
    # A new file is split on its own; the old assignment stays.
    save_image(root / "cat" / "new.png", seed=1234)
    again = prepare_data(reloaded)
    old_val = set(project.split["subsets"]["val"])
    assert old_val <= set(reloaded.split["subsets"]["val"])
    assert len(again.files["train"]) + len(again.files["val"]) == 21
    # Another seed is another split.
    project.dataset["split_seed"] = 1
    assert set(prepare_data(project).split["subsets"]["val"]) != old_val


def test_exclusions_and_relabels_never_touch_the_disk(make_folder):
    root = make_folder({"cat": 6, "dog": 6})
    before = sorted(p.name for p in root.rglob("*"))
    project = make_project(root, validation_fraction=0.0)
    project.exclusions = ["cat/cat_000.png"]
    project.relabels = {"cat/cat_001.png": "dog", "dog/dog_000.png": "bird"}
    data = prepare_data(project)
    assert data.class_names == ["bird", "cat", "dog"]
    labels = {path.split("/images/")[1]: data.class_names[label] for path, label in data.files["train"]}
    assert "cat/cat_000.png" not in labels
    assert labels["cat/cat_001.png"] == "dog" and labels["dog/dog_000.png"] == "bird"
    assert data.counts("train") == {"bird": 1, "cat": 4, "dog": 6}
    first_path = data.files["train"][0][0]
    assert data.relative_path(first_path) in {r.path for r in data.scan.images}
    assert sorted(p.name for p in root.rglob("*")) == before


def test_excluding_a_whole_class_is_an_error(make_folder):
    root = make_folder({"cat": 2, "dog": 2})
    project = make_project(root)
    project.exclusions = ["dog/dog_000.png", "dog/dog_001.png"]
    with pytest.raises(DatasetError, match="class 'dog' has no images left"):
        prepare_data(project)


def test_leakage_across_the_split_is_reported(make_folder):
    root = make_folder({"cat": 10, "dog": 10})
    for i in range(10):  # every cat has a twin: some twins must land in val
        shutil.copy(root / "cat" / f"cat_{i:03d}.png", root / "cat" / f"twin_{i:03d}.png")
    project = make_project(root, validation_fraction=0.3)
    data = prepare_data(project)
    assert data.leakage
    assert any("leakage" in w for w in data.warnings)
    for group in data.leakage:
        subsets = {s for s, paths in project.split["subsets"].items() for p in group if p in paths}
        assert "train" in subsets and subsets & {"val", "test"}


def test_split_layout_keeps_folder_subsets(tmp_path):
    root = tmp_path / "d"
    for subset, n in (("train", 5), ("val", 2), ("test", 1)):
        for c in ("a", "b"):
            for i in range(n):
                save_image(root / subset / c / f"{i}.png", seed=hash((subset, c, i)) % 100_000)
    data = prepare_data(make_project(root))
    assert [len(data.files[s]) for s in ("train", "val", "test")] == [10, 4, 2]


def test_input_without_fixed_size_is_an_error(make_folder):
    project = make_project(make_folder({"a": 2, "b": 2}), height=None)
    with pytest.raises(DatasetError, match="no fixed height and width"):
        prepare_data(project)


def test_no_folder_is_an_error():
    with pytest.raises(DatasetError, match="no dataset folder"):
        prepare_data(make_project(""))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=2, max_size=6),
    val=st.floats(0.0, 0.5),
    test=st.floats(0.0, 0.4),
    seed=st.integers(0, 2**31 - 1),
)
def test_split_properties(sizes, val, test, seed):
    labels = {f"c{c}/{i}.png": f"c{c}" for c, n in enumerate(sizes) for i in range(n)}
    split = stratified_split(labels, val, test, seed)
    everything = split["train"] + split["val"] + split["test"]
    assert sorted(everything) == sorted(labels)  # a partition
    assert split == stratified_split(labels, val, test, seed)  # deterministic
    for c, n in enumerate(sizes):
        in_train = sum(labels[p] == f"c{c}" for p in split["train"])
        in_val = sum(labels[p] == f"c{c}" for p in split["val"])
        assert in_train >= 1  # every class keeps a training image
        assert abs(in_val - n * val) <= 1 or n < 3  # stratified: each class's own share
