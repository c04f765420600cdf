"""Block builders: every block builds a valid, grouped subgraph with the expected shapes."""

from __future__ import annotations

import pytest

from cnnstudio.errors import GraphError
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.blocks import BLOCKS, build_block
from cnnstudio.graph.model import Graph


def stem(channels: int = 64) -> Graph:
    g = Graph()
    g.add_layer("Input", name="input", height=32, width=32, channels=3)
    g.add_layer("Conv2D", ["input"], name="stem", filters=channels, kernel_size=3, padding="same")
    return g


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_every_block_is_valid_and_grouped(block):
    g = stem()
    before = set(g.names)
    out = build_block(g, block, "stem")
    result = analyze(g)
    assert result.valid, result.errors
    added = [n for n in g.names if n not in before]
    assert added and all(g[n].group.split("/")[0] == block for n in added)
    assert out in added
    # Every block's args are ParamSpecs whose defaults pass their own check.
    kind = BLOCKS[block]
    assert kind.check({}) == kind.defaults()


def test_residual_identity_and_projection():
    g = stem(64)
    out = build_block(g, "residual_basic", "stem", filters=64)
    assert not any("proj" in n for n in g.names)
    out2 = build_block(g, "residual_basic", out, filters=128, strides=2)
    assert any(n.startswith("residual_basic_1_proj") for n in g.names)
    assert analyze(g).nodes[out2].output_shape == (16, 16, 128)


def test_bottleneck_shapes_and_params():
    g = stem(256)
    out = build_block(g, "residual_bottleneck", "stem", filters=64)
    result = analyze(g)
    assert result.nodes[out].output_shape == (32, 32, 256)
    # 1x1 256->64, 3x3 64->64, 1x1 64->256 (no bias) + 3 BN (4 values per channel)
    block_params = sum(result.nodes[n].param_count for n in g.members("residual_bottleneck"))
    assert block_params == 256 * 64 + 9 * 64 * 64 + 64 * 256 + 4 * (64 + 64 + 256)


def test_inception_concatenates_branches():
    g = stem(192)
    out = build_block(g, "inception", "stem")
    assert analyze(g).nodes[out].output_shape == (32, 32, 64 + 128 + 32 + 32)


def test_dense_block_growth_and_transition():
    g = stem(64)
    out = build_block(g, "dense_block", "stem", layers=6, growth=32)
    assert analyze(g).nodes[out].output_shape == (16, 16, (64 + 6 * 32) // 2)
    g2 = stem(64)
    out2 = build_block(g2, "dense_block", "stem", layers=3, growth=12, transition=False, bottleneck=False)
    assert analyze(g2).nodes[out2].output_shape == (32, 32, 64 + 36)


def test_resnext_groups_the_3x3():
    g = stem(256)
    build_block(g, "resnext_block", "stem", cardinality=32, width=4, filters=256)
    grouped = [n for n in g if n.type == "Conv2D" and n.params.get("groups", 1) == 32]
    assert len(grouped) == 1 and grouped[0].params["filters"] == 128


def test_bad_arguments_are_user_errors():
    g = stem()
    with pytest.raises(GraphError):
        build_block(g, "nope", "stem")
    with pytest.raises(GraphError):
        build_block(g, "mlpconv", "missing")
    with pytest.raises(GraphError):
        build_block(g, "mlpconv", "stem", filters=0)
