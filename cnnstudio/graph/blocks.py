"""Builders for the insertable blocks of the palette (residual, inception, dense, ...).

Each builder adds grouped nodes to a Graph after a given node and returns the block's
output node. Its arguments are ParamSpecs (defaults included), so the editor generates the
block's form. The residual, dense and inception units here are also what the zoo's
families are built from (cnnstudio/zoo), with keras.applications' node names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import GraphError
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec


@dataclass(frozen=True)
class BlockType:
    name: str
    label: str
    help: str
    params: tuple[ParamSpec, ...]
    build: Callable[..., str]

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.params}

    def check(self, values: dict[str, Any]) -> dict[str, Any]:
        out = self.defaults()
        for spec in self.params:
            if spec.name in values:
                out[spec.name] = spec.check(values[spec.name], self.label)
        return out


def _channels(graph: Graph, name: str) -> int | None:
    shape = analyze(graph).nodes.get(name)
    if shape is None or shape.output_shape is None or len(shape.output_shape) != 3:
        return None
    return shape.output_shape[2]


# ---- the units the palette's blocks and the zoo's families are made of -----------------------

# Node names inside one unit, by role: the palette's short ones, and keras.applications' ones
# (which the zoo uses so its networks match Keras layer by layer).
PALETTE_RESIDUAL = {"conv1": "a_conv", "bn1": "a_bn", "relu1": "a_relu", "conv2": "b_conv", "bn2": "b_bn",
                    "relu2": "b_relu", "conv3": "c_conv", "bn3": "c_bn", "shortcut_conv": "proj_conv",
                    "shortcut_bn": "proj_bn", "preact_bn": "pre_bn", "preact_relu": "pre_relu",
                    "dropout": "dropout", "add": "add", "out": "out"}
KERAS_RESIDUAL = {"conv1": "1_conv", "bn1": "1_bn", "relu1": "1_relu", "conv2": "2_conv", "bn2": "2_bn",
                  "relu2": "2_relu", "conv3": "3_conv", "bn3": "3_bn", "shortcut_conv": "0_conv",
                  "shortcut_bn": "0_bn", "preact_bn": "preact_bn", "preact_relu": "preact_relu",
                  "dropout": "dropout", "add": "add", "out": "out"}
PALETTE_DENSE = {"bn0": "bn1", "relu0": "relu1", "conv1": "conv1", "bn1": "bn2", "relu1": "relu2",
                 "conv2": "conv2", "concat": "concat"}
KERAS_DENSE = {"bn0": "0_bn", "relu0": "0_relu", "conv1": "1_conv", "bn1": "1_bn", "relu1": "1_relu",
               "conv2": "2_conv", "concat": "concat"}


def _named(unit: str, roles: dict[str, str]):
    return lambda role: f"{unit}_{roles[role]}" if unit else roles[role]


def residual_unit(b: GraphBuilder, x: str, in_channels: int | None, *, kind: str, width: int, out: int,
                  strides: int, names: dict[str, str], unit: str = "", preact: bool = False,
                  bias: bool = False, groups: int = 1, dropout: float = 0.0, stride_on_3x3: bool = True,
                  bn: dict[str, Any] | None = None) -> str:
    """One residual block, y = F(x) + shortcut(x): "basic" (two 3×3) or "bottleneck" (1×1,
    3×3 with `groups`, 1×1 to `out`). The shortcut is a 1×1 projection (+BN) when the shape
    changes. `preact` puts BN-ReLU before the convolutions (ResNet v2: no BN or ReLU after
    the sum, and no bias on a convolution a BatchNorm follows). `bn`: BatchNorm parameters."""
    bn = bn or {}
    name = _named(unit, names)

    def conv(source: str, role: str, filters: int, kernel: int, stride: int, with_bias: bool, g: int = 1) -> str:
        padding = "same" if stride == 1 or kernel == 1 else kernel // 2
        return b.conv(source, name(role), filters, kernel, strides=stride, padding=padding, use_bias=with_bias,
                      groups=g)

    def bn_relu(source: str, index: int) -> str:
        return b.relu(b.bn(source, name(f"bn{index}"), **bn), name(f"relu{index}"))

    project = strides != 1 or in_channels != out
    if preact:
        y = b.relu(b.bn(x, name("preact_bn"), **bn), name("preact_relu"))
        shortcut = conv(y, "shortcut_conv", out, 1, strides, bias) if project else x
    else:
        y, shortcut = x, x
        if project:
            shortcut = b.bn(conv(x, "shortcut_conv", out, 1, strides, bias), name("shortcut_bn"), **bn)
    inner_bias = bias and not preact
    if kind == "basic":
        y = bn_relu(conv(y, "conv1", width, 3, strides, inner_bias), 1)
        if dropout:
            y = b.add("Dropout", y, name("dropout"), rate=dropout)
        y, last = conv(y, "conv2", out, 3, 1, bias), 2
    else:
        first, middle = (1, strides) if stride_on_3x3 else (strides, 1)
        y = bn_relu(conv(y, "conv1", width, 1, first, inner_bias), 1)
        y = bn_relu(conv(y, "conv2", width, 3, middle, inner_bias, groups), 2)
        y, last = conv(y, "conv3", out, 1, 1, bias), 3
    if not preact:
        y = b.bn(y, name(f"bn{last}"), **bn)
    y = b.add("Add", [shortcut, y], name("add"))
    return y if preact else b.relu(y, name("out"))


def dense_layer(b: GraphBuilder, x: str, growth: int, bottleneck: bool, names: dict[str, str], unit: str,
                bn: dict[str, Any] | None = None) -> str:
    """One DenseNet layer: BN-ReLU-(1×1 to 4k, BN-ReLU)-3×3 to k, concatenated to its input."""
    bn = bn or {}
    name = _named(unit, names)
    y = b.relu(b.bn(x, name("bn0"), **bn), name("relu0"))
    if bottleneck:
        y = b.conv(y, name("conv1"), 4 * growth, 1, use_bias=False)
        y = b.relu(b.bn(y, name("bn1"), **bn), name("relu1"))
    y = b.conv(y, name("conv2"), growth, 3, use_bias=False)
    return b.add("Concatenate", [x, y], name("concat"))


def dense_transition(b: GraphBuilder, x: str, channels: int, compression: float, unit: str,
               bn: dict[str, Any] | None = None) -> tuple[str, int]:
    """DenseNet's transition: BN-ReLU, 1×1 keeping θ of the channels, 2×2 average pooling."""
    out = max(1, int(channels * compression))
    x = b.bn_relu(x, unit, **(bn or {}))
    x = b.conv(x, f"{unit}_conv", out, 1, use_bias=False)
    return b.add("AvgPool2D", x, f"{unit}_pool", pool_size=2, strides=2), out


def inception_module(b: GraphBuilder, x: str, unit: str, f1: int, f3_reduce: int, f3: int, f5_reduce: int,
                     f5: int, pool_proj: int, output: str = "concat") -> str:
    """Parallel 1×1, 3×3 and 5×5 convolutions (ReLU, 1×1 reductions first) and a 3×3 max
    pool with a 1×1 projection, concatenated (GoogLeNet)."""
    def name(stem: str) -> str:
        return f"{unit}_{stem}" if unit else stem

    one = b.conv(x, name("1x1"), f1, 1, activation="relu")
    three = b.conv(b.conv(x, name("3x3_reduce"), f3_reduce, 1, activation="relu"), name("3x3"), f3, 3,
                   activation="relu")
    five = b.conv(b.conv(x, name("5x5_reduce"), f5_reduce, 1, activation="relu"), name("5x5"), f5, 5,
                  activation="relu")
    pool = b.add("MaxPool2D", x, name("pool"), pool_size=3, strides=1, padding="same")
    pool = b.conv(pool, name("pool_proj"), pool_proj, 1, activation="relu")
    return b.add("Concatenate", [one, three, five, pool], name(output))


# ---- the palette's blocks (arguments and their defaults: the ParamSpecs in BLOCKS) -------------


def residual_basic(graph: Graph, after: str, group: str, filters: int, strides: int) -> str:
    b = GraphBuilder.block(graph, group)
    return residual_unit(b, after, _channels(graph, after), kind="basic", width=filters, out=filters,
                         strides=strides, names=PALETTE_RESIDUAL)


def residual_bottleneck(graph: Graph, after: str, group: str, filters: int, strides: int, expansion: int) -> str:
    b = GraphBuilder.block(graph, group)
    return residual_unit(b, after, _channels(graph, after), kind="bottleneck", width=filters,
                         out=filters * expansion, strides=strides, names=PALETTE_RESIDUAL)


def preactivation(graph: Graph, after: str, group: str, filters: int, strides: int) -> str:
    b = GraphBuilder.block(graph, group)
    return residual_unit(b, after, _channels(graph, after), kind="basic", width=filters, out=filters,
                         strides=strides, names=PALETTE_RESIDUAL, preact=True)


def resnext_block(graph: Graph, after: str, group: str, cardinality: int, width: int, filters: int,
                  strides: int) -> str:
    b = GraphBuilder.block(graph, group)
    return residual_unit(b, after, _channels(graph, after), kind="bottleneck", width=cardinality * width,
                         out=filters, strides=strides, groups=cardinality, names=PALETTE_RESIDUAL)


def inception(graph: Graph, after: str, group: str, f1: int, f3_reduce: int, f3: int, f5_reduce: int, f5: int,
              pool_proj: int) -> str:
    b = GraphBuilder.block(graph, group)
    return inception_module(b, after, "", f1, f3_reduce, f3, f5_reduce, f5, pool_proj)


def dense_block(graph: Graph, after: str, group: str, layers: int, growth: int, bottleneck: bool,
                transition: bool, compression: float) -> str:
    b = GraphBuilder.block(graph, group)
    x = after
    for i in range(1, layers + 1):
        with b.scope(f"layer{i}"):
            x = dense_layer(b, x, growth, bottleneck, PALETTE_DENSE, f"l{i}")
    if not transition:
        return x
    channels = _channels(graph, x)
    if channels is None:
        raise GraphError(f"Dense block after '{after}': its input shape is unknown, so the transition "
                         "cannot size its 1×1 convolution. Fix the graph above it first.", node=after)
    with b.scope("transition"):
        x, _ = dense_transition(b, x, channels, compression, "trans")
    return x


def dual_path_block(graph: Graph, after: str, group: str, bottleneck: int, residual: int, increment: int,
                    groups: int, strides: int) -> str:
    """DPN: a grouped bottleneck whose output is split into a residual part (added) and a
    dense part (concatenated), here kept as one tensor: [residual + shortcut, dense]."""
    b = GraphBuilder.block(graph, group)

    def conv_bn_relu(source: str, stem: str, filters: int, kernel: int, stride: int = 1, g: int = 1) -> str:
        x = b.conv(source, f"{stem}_conv", filters, kernel, strides=stride, use_bias=False, groups=g)
        return b.bn_relu(x, stem)

    x = conv_bn_relu(after, "a", bottleneck, 1)
    x = conv_bn_relu(x, "b", bottleneck, 3, strides, groups)
    res = b.conv(x, "c_res", residual, 1, padding="valid", use_bias=False)
    dense = b.conv(x, "c_dense", increment, 1, padding="valid", use_bias=False)
    shortcut = after
    if strides != 1 or _channels(graph, after) != residual:
        shortcut = b.bn(b.conv(after, "proj_conv", residual, 1, strides=strides, use_bias=False), "proj_bn")
    merged = b.add("Add", [res, shortcut], "add")
    joined = b.add("Concatenate", [merged, dense], "concat")
    return b.add("Activation", b.bn(joined, "out_bn"), "out", function="relu")


def mlpconv(graph: Graph, after: str, group: str, filters: int, kernel: int, mlp1: int, mlp2: int,
            strides: int) -> str:
    b = GraphBuilder.block(graph, group)
    x = b.conv(after, "conv", filters, kernel, strides=strides, activation="relu")
    x = b.conv(x, "mlp1", mlp1, 1, padding="valid", activation="relu")
    return b.conv(x, "mlp2", mlp2, 1, padding="valid", activation="relu")


def _int(name: str, default: int, help: str, low: int = 1, high: int = 8192, label: str = "") -> ParamSpec:
    return ParamSpec(name, "int", default, help, label=label, minimum=low, maximum=high)


FILTERS = _int("filters", 64, "K, filters of the block's convolutions (its output channels).", label="Filters K")
STRIDES = _int("strides", 1, "S of the first 3×3 convolution: 2 halves the map (a projection shortcut follows).",
               high=4, label="Stride S")

BLOCKS: dict[str, BlockType] = {
    block.name: block
    for block in (
        BlockType("residual_basic", "Residual (basic)", "Two 3×3 convolutions plus an identity shortcut "
                  "(ResNet-18/34): y = F(x) + x.", (FILTERS, STRIDES), residual_basic),
        BlockType("residual_bottleneck", "Residual (bottleneck)", "1×1 reduce, 3×3, 1×1 expand ×4, plus the "
                  "shortcut (ResNet-50/101/152).",
                  (FILTERS, STRIDES, _int("expansion", 4, "Output channels = K × expansion.", high=16)),
                  residual_bottleneck),
        BlockType("preactivation", "Pre-activation residual", "BN-ReLU before each convolution, identity "
                  "path left clean (ResNet v2).", (FILTERS, STRIDES), preactivation),
        BlockType("inception", "Inception", "Parallel 1×1, 3×3 and 5×5 convolutions and a pooled branch, "
                  "concatenated; 1×1 reductions keep it cheap (GoogLeNet).",
                  (_int("f1", 64, "Filters of the 1×1 branch."), _int("f3_reduce", 96, "1×1 reduction before 3×3."),
                   _int("f3", 128, "Filters of the 3×3 branch."), _int("f5_reduce", 16, "1×1 reduction before 5×5."),
                   _int("f5", 32, "Filters of the 5×5 branch."), _int("pool_proj", 32, "1×1 after the 3×3 max pool.")),
                  inception),
        BlockType("dense_block", "Dense block + transition", "Each layer sees every earlier map "
                  "(concatenated) and adds k channels; a transition halves maps (DenseNet).",
                  (_int("layers", 4, "Layers in the block.", high=128),
                   _int("growth", 32, "k, channels each layer adds.", label="Growth k"),
                   ParamSpec("bottleneck", "bool", True, "1×1 convolution to 4k channels first (DenseNet-B)."),
                   ParamSpec("transition", "bool", True, "End with BN-ReLU-1×1 conv-2×2 avg pool."),
                   ParamSpec("compression", "float", 0.5, "θ: the transition keeps this share of channels.",
                             minimum=0.05, maximum=1.0)),
                  dense_block),
        BlockType("resnext_block", "ResNeXt grouped block", "Bottleneck whose 3×3 is split into C groups "
                  "of width d (\"32×4d\").",
                  (_int("cardinality", 32, "C, the number of groups.", high=256, label="Cardinality C"),
                   _int("width", 4, "d, channels per group.", label="Width d"),
                   _int("filters", 256, "Output channels of the block."), STRIDES), resnext_block),
        BlockType("dual_path_block", "Dual-path block", "Grouped bottleneck with a residual path (added) "
                  "and a dense path (concatenated) (DPN).",
                  (_int("bottleneck", 96, "Channels of the grouped 3×3."), _int("residual", 256, "Residual channels."),
                   _int("increment", 16, "Channels added to the dense path."),
                   _int("groups", 32, "Groups of the 3×3 convolution.", high=256), STRIDES), dual_path_block),
        BlockType("mlpconv", "mlpconv", "A convolution followed by two 1×1 convolutions: a tiny MLP "
                  "sliding over the map (Network in Network).",
                  (_int("filters", 192, "K of the spatial convolution."),
                   _int("kernel", 5, "F of the spatial convolution.", high=11, label="Filter size F"),
                   _int("mlp1", 160, "Filters of the first 1×1."), _int("mlp2", 96, "Filters of the second 1×1."),
                   STRIDES), mlpconv),
    )
}


def build_block(graph: Graph, block: str, after: str, group: str | None = None, **values: Any) -> str:
    """Add block `block` after node `after`; returns the output node name."""
    if block not in BLOCKS:
        raise GraphError(f"Unknown block {block!r}: choose one of {', '.join(BLOCKS)}.")
    if after not in graph:
        raise GraphError(f"Insert the block after an existing node; {after!r} is not one.", node=after)
    kind = BLOCKS[block]
    args = kind.check(values)
    return kind.build(graph, after, group=group or block, **args)
