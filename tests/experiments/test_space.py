"""The search space: keys and ranges checked against the project, errors naming the key. Pure."""

from __future__ import annotations

import json
import sys

import pytest

from cnnstudio import zoo
from cnnstudio.cli import main
from cnnstudio.experiments.origin import zoo_origin
from cnnstudio.experiments.space import SpaceError, parse_space
from cnnstudio.experiments.trial_project import apply_settings
from cnnstudio.paths import sample_project
from cnnstudio.project import Project, load_project


@pytest.fixture
def sample():
    return load_project(sample_project())


def test_the_issue_forms_parse_and_grid_enumerates(sample):
    space = parse_space({"training.learning_rate": {"log_uniform": [1e-4, 1e-1]},
                         "augmentation.rotation": {"choices": [0, 10, 20]},
                         "node:c1.filters": {"int": [4, 8], "step": 2}}, sample)
    assert space.keys == ["training.learning_rate", "augmentation.rotation", "node:c1.filters"]
    grid = parse_space({"augmentation.rotation": {"choices": [0, 10, 20]},
                        "node:c1.filters": {"int": [4, 8], "step": 2}}, sample).grid()
    assert len(grid) == 9 and len({json.dumps(p, sort_keys=True) for p in grid}) == 9
    with pytest.raises(SpaceError, match="training.learning_rate: a grid needs choices"):
        space.grid()
    queue = parse_space({"list": [{"training.learning_rate": 0.01}, {"training.batch_size": 16}]}, sample)
    assert queue.grid() == [{"training.learning_rate": 0.01}, {"training.batch_size": 16}]


@pytest.mark.parametrize(("space", "named"), [
    ({"training.learning_rat": {"choices": [0.1]}}, "training.learning_rat"),
    ({"dataset.split_seed": {"choices": [1, 2]}}, "dataset.split_seed"),
    ({"training.learning_rate": {"log_uniform": [0.1, 0.001]}}, "training.learning_rate"),
    ({"training.learning_rate": {"log_uniform": [0, 0.1]}}, "training.learning_rate"),
    ({"training.learning_rate": {"uniform": [1e-3, 50.0]}}, "training.learning_rate"),  # above the field's maximum
    ({"augmentation.rotation": {"choices": []}}, "augmentation.rotation"),
    ({"training.optimizer": {"choices": ["adam", "lion"]}}, "training.optimizer"),
    ({"training.optimizer": {"uniform": [0, 1]}}, "training.optimizer"),
    ({"training.batch_size": {"int": [8.5, 32]}}, "training.batch_size"),
    ({"node:c9.filters": {"choices": [4]}}, "node:c9.filters"),
    ({"node:c1.filterz": {"choices": [4]}}, "node:c1.filterz"),
    ({"zoo:depth": {"choices": [20, 32]}}, "zoo:depth"),  # the sample was not made from the zoo
    ({"training.device": {"choices": ["cpu"]}}, "training.device"),
    ({"list": [{"training.epochs": 0}]}, "training.epochs"),
    ({"list": [{"augmentation.zoom": 0.1}, {"preprocessing.resize": "squash"}]}, "preprocessing.resize"),
])
def test_bad_spaces_name_the_key(sample, space, named):
    with pytest.raises(SpaceError) as caught:
        parse_space(space, sample)
    assert named in str(caught.value)


def test_cli_exits_2_naming_the_key(tmp_path, capsys):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"training.learning_rate": {"log_uniform": [1e-4, 1e-1]},
                                 "augmentation.rotatoin": {"choices": [0, 10]}}))
    out = tmp_path / "sweep"
    code = main(["sweep", str(sample_project()), "--space", str(space), "--trials", "2", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "augmentation.rotatoin" in err and "Traceback" not in err
    assert not out.exists()  # nothing written for a sweep that cannot start
    space.write_text("{not json")
    assert main(["sweep", str(sample_project()), "--space", str(space), "-o", str(out)]) == 2
    assert "not a readable JSON space file" in capsys.readouterr().err
    # A random search with no budget, and actions with start-only options, are refused too.
    space.write_text(json.dumps({"training.learning_rate": {"log_uniform": [1e-4, 1e-1]}}))
    assert main(["sweep", str(sample_project()), "--space", str(space), "-o", str(out)]) == 2
    assert "needs a budget" in capsys.readouterr().err
    space.write_text(json.dumps({"training.epochs": {"choices": [1, 2]}}))
    assert main(["sweep", str(sample_project()), "--space", str(space), "--sampler", "grid", "--epochs", "2",
                 "-o", str(out)]) == 2
    assert "training.epochs varies in the space" in capsys.readouterr().err
    assert main(["sweep", "show", str(out), "--trials", "3"]) == 2
    assert "--trials applies when starting a sweep" in capsys.readouterr().err
    assert main(["sweep", "show", str(out)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_zoo_knobs_rebuild_the_network(tmp_path):
    assert main(["zoo", "create", "resnet", "--set", "depth=20", "--input", "32x32x1", "--classes", "4",
                 "-o", str(tmp_path / "resnet.cnnproj")]) == 0
    project = load_project(tmp_path / "resnet.cnnproj")
    origin = zoo_origin(project)
    assert origin is not None and origin.family == "resnet" and origin.knobs["depth"] == 20
    assert origin.size == (32, 32) and origin.channels == 1 and origin.classes == 4
    space = parse_space({"zoo:depth": {"choices": [20, 32]}, "training.learning_rate": {"choices": [0.1]}}, project)
    deeper = apply_settings(project, space.grid()[1])
    assert deeper.graph.to_dict() == zoo.create("resnet", (32, 32), 1, 4, depth=32).to_dict()
    assert deeper.training["learning_rate"] == 0.1 and project.training["learning_rate"] != 0.1
    assert zoo_origin(deeper).knobs["depth"] == 32  # the trial's project can be swept again
    with pytest.raises(SpaceError, match="zoo:depth"):
        parse_space({"zoo:depth": {"choices": [20, 33]}}, project)
    with pytest.raises(SpaceError, match="zoo:width"):
        parse_space({"zoo:width": {"choices": [1]}}, project)
    from cnnstudio.experiments.trial_project import apply_command

    with pytest.raises(SpaceError, match="open the trial's project file"):
        apply_command(project, {"zoo:depth": 32}, "apply")  # a rebuilt network is not a settings edit


def test_node_settings_apply_to_a_copy(sample):
    trial = apply_settings(sample, {"node:c1.filters": 4, "augmentation.rotation": 20.0})
    assert trial.graph["c1"].params["filters"] == 4 and trial.augmentation["rotation"] == 20.0
    assert sample.graph["c1"].params["filters"] == 6 and sample.augmentation["rotation"] == 8.0
    assert isinstance(trial, Project)


def test_space_parsing_imports_no_heavy_modules():
    import subprocess

    code = ("import sys, json\nfrom cnnstudio.paths import sample_project\nfrom cnnstudio.project import load_project\n"
            "from cnnstudio.experiments.space import parse_space\n"
            "parse_space({'training.learning_rate': {'choices': [0.1]}}, load_project(sample_project()))\n"
            "print(json.dumps(sorted(m for m in ('tensorflow', 'keras', 'PySide6', 'optuna') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_value_text_round_trips_to_rules(sample):
    from cnnstudio.experiments.space import SettingResolver
    from cnnstudio.experiments.space_text import rule_from_text, suggested_text, text_from_rule

    resolver = SettingResolver(sample)
    spec = resolver.spec("training.learning_rate")
    assert rule_from_text(spec, "k", "1e-4 .. 1e-1 log") == {"log_uniform": [1e-4, 0.1]}
    assert rule_from_text(spec, "k", "0.01, 0.1") == {"choices": [0.01, 0.1]}
    filters = resolver.spec("node:c1.filters")
    assert rule_from_text(filters, "k", "4 .. 16 step 4") == {"int": [4, 16], "step": 4}
    assert text_from_rule({"int": [4, 16], "step": 4}) == "4 .. 16 step 4"
    optimizer = resolver.spec("training.optimizer")
    assert rule_from_text(optimizer, "k", "adam, sgd") == {"choices": ["adam", "sgd"]}
    assert rule_from_text(resolver.spec("augmentation.flip_horizontal"), "k", "true, false") == \
        {"choices": [True, False]}
    kernel = resolver.spec("node:c1.kernel_size")
    assert rule_from_text(kernel, "k", "3, [3, 5]") == {"choices": [3, [3, 5]]}
    with pytest.raises(SpaceError, match="node:c1.filters"):
        rule_from_text(filters, "node:c1.filters", "4 .. many")
    # Suggestions parse back into a valid space for every field of the schema.
    from cnnstudio.project import schema

    for section in ("training", "augmentation", "preprocessing"):
        for field in schema.SECTIONS[section]:
            key = f"{section}.{field.name}"
            if field.kind not in ("int", "float", "bool", "choice") or key == "training.device":
                continue
            rule = rule_from_text(field, key, suggested_text(field, sample.section(section)[field.name]))
            parse_space({key: rule}, sample)
