"""The zoo registry, knobs, groups and the `cnnstudio zoo` command (no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnnstudio import zoo
from cnnstudio.cli import main
from cnnstudio.errors import ParameterError, StudioError
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.params import ParamSpec
from cnnstudio.project import load_project

TEN = {"lenet5", "alexnet", "nin", "vgg", "googlenet", "resnet", "wrn", "resnext", "densenet", "dpn"}


def test_ten_families_with_knobs_as_paramspecs():
    assert set(zoo.names()) == TEN
    for family in zoo.families():
        assert family.reference and family.summary
        for spec in zoo.knob_specs(family.name):
            assert isinstance(spec, ParamSpec) and spec.help
            spec.check(spec.default)  # every default is valid for its own spec


@pytest.mark.parametrize("name", sorted(TEN))
def test_default_model_is_valid_and_grouped(name):
    graph = zoo.create(name)
    analysis = analyze(graph)
    assert analysis.valid, analysis.errors
    assert graph.outputs and all(analysis.nodes[o].output_shape[-1] == zoo.describe(name).classes
                                 for o in graph.outputs)
    grouped = [n for n in graph if n.group]
    assert len(grouped) >= len(graph) - 2  # everything but the input (and VGG-like pools)
    assert graph.groups()


def test_stage_block_groups():
    graph = zoo.create("resnet", (32, 32), 3, 10, depth=20)
    assert "stage3" in graph.groups() and "stage3/block2" in graph.groups()
    members = graph.members("stage3/block2")
    assert "conv3_block2_1_conv" in members and "conv3_block2_add" in members


def test_style_follows_input_size():
    small = zoo.create("resnet", (32, 32), 3, 10, depth=56)
    assert small["conv1_conv"].params["kernel_size"] == 3
    big = zoo.create("resnet", (224, 224), 3, 10, depth=50)
    assert big["conv1_conv"].params["kernel_size"] == 7
    with pytest.raises(ParameterError, match="6n\\+2"):
        zoo.create("resnet", (32, 32), 3, 10, depth=51)


def test_aux_heads_are_declared_outputs():
    graph = zoo.create("googlenet", aux_heads=True)
    assert graph.declared_outputs == ["predictions", "aux1_predictions", "aux2_predictions"]
    assert zoo.create("googlenet").declared_outputs == ["predictions"]


def test_knob_effects():
    plain, bn = zoo.create("vgg", depth=11), zoo.create("vgg", depth=11, batch_norm=True)
    assert sum(n.type == "BatchNorm" for n in bn) == 8 and not any(n.type == "BatchNorm" for n in plain)
    assert not any(n.type == "LRN" for n in zoo.create("alexnet", lrn=False))
    assert zoo.create("lenet5")["c1"].params["activation"] == "tanh"
    assert zoo.create("lenet5", variant="modern")["s2"].type == "MaxPool2D"
    wide = analyze(zoo.create("wrn", depth=16, widen=8)).total_params
    assert wide > 4 * analyze(zoo.create("wrn", depth=16, widen=4)).total_params / 2
    assert any(n.type == "Dropout" for n in zoo.create("wrn", depth=16, widen=1, dropout=0.3))
    grouped = zoo.create("resnext", depth=29, cardinality=8, width=4)
    assert grouped["conv2_block1_2_conv"].params["groups"] == 8
    assert grouped["conv2_block1_2_conv"].params["filters"] == 32


def test_unknown_names_and_knobs():
    with pytest.raises(StudioError, match="unknown architecture"):
        zoo.create("resnett")
    with pytest.raises(StudioError, match="no setting 'deep'"):
        zoo.create("resnet", deep=50)
    with pytest.raises(ParameterError, match="depth"):
        zoo.create("vgg", depth=17)
    with pytest.raises(ParameterError, match="at least"):
        zoo.create("alexnet", (64, 64))


def test_zoo_does_not_import_tensorflow_or_qt():
    code = ("import sys, cnnstudio.zoo as z; z.create('dpn'); "
            "print(any(m in sys.modules for m in ('tensorflow', 'keras', 'PySide6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_list(capsys):
    assert main(["zoo", "list"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in TEN)
    assert main(["zoo", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == zoo.names()
    resnext = next(d for d in data if d["name"] == "resnext")
    assert {k["name"] for k in resnext["knobs"]} >= {"depth", "cardinality", "width", "style"}


def test_cli_create_writes_a_project(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["zoo", "create", "resnext", "--set", "depth=29", "--set", "cardinality=8",
                 "--set", "width=64", "--input", "32x32x3", "--classes", "10", "-o", str(out)])
    assert code == 0
    project = load_project(out)
    analysis = analyze(project.graph)
    assert analysis.total_params == 34_484_170
    assert analysis.nodes["input"].output_shape == (32, 32, 3)
    assert analysis.nodes["predictions"].output_shape == (10,)
    assert "34,484,170" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["zoo", "create", "resnett", "-o", "x.json"], "unknown architecture"),
    (["zoo", "create", "resnet", "--set", "deep=50", "-o", "x.json"], "no setting"),
    (["zoo", "create", "resnet", "--set", "depth", "-o", "x.json"], "KEY=VALUE"),
    (["zoo", "create", "resnet", "--set", "depth=33", "--input", "32x32x3", "-o", "x.json"], "6n\\+2"),
    (["zoo", "create", "vgg", "--input", "32by32", "-o", "x.json"], "HxWxC"),
    (["zoo", "create", "vgg", "--classes", "0", "-o", "x.json"], "classes"),
])
def test_cli_errors_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    import re

    assert re.search(message, err)
    assert not (tmp_path / "x.json").exists()


def _knob_strategy(spec):
    from hypothesis import strategies as st

    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "int":
        values = st.integers(int(spec.minimum or 1), min(int(spec.maximum or 300), 300))
        return st.one_of(st.none(), values) if spec.optional else values
    values = st.sampled_from([0.0, 0.3, 0.5])
    return st.one_of(st.none(), values) if spec.optional else values


def test_any_settings_give_a_valid_graph_or_a_clear_error():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @st.composite
    def requests(draw):
        family = draw(st.sampled_from(zoo.families()))
        knobs = {spec.name: draw(_knob_strategy(spec)) for spec in family.knobs
                 if draw(st.booleans())}
        size = draw(st.sampled_from([28, 32, 48, 64, 96, 150, 227]))
        return family.name, size, draw(st.sampled_from([1, 3])), draw(st.integers(1, 20)), knobs

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests())
    def check(request):
        name, size, channels, classes, knobs = request
        try:
            graph = zoo.create(name, (size, size), channels, classes, **knobs)
        except StudioError as exc:
            assert str(exc)
            return
        analysis = analyze(graph)
        assert analysis.valid, (request, analysis.errors[0].message)

    check()


def test_settings_that_combine_into_an_impossible_network_are_refused():
    # Found by the property test above: each knob is in range, their product is not.
    with pytest.raises(StudioError, match="cardinality=118.*filters"):
        zoo.create("resnext", (32, 32), 1, 1, cardinality=118, width=139)
