"""Builders for the insertable blocks of the palette (residual, inception, dense, ...).

Each builder adds grouped nodes to a Graph after a given node and returns the block's
output node. Its arguments are ParamSpecs, so the editor generates the block's form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import GraphError
from cnnstudio.graph.analysis import analyze
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


class _Builder:
    """Adds nodes named `<group>_<stem>` inside one group."""

    def __init__(self, graph: Graph, group: str):
        self.graph = graph
        existing = set(graph.groups())
        chosen, i = group, 1
        while chosen in existing:  # a second block of the same kind gets its own group
            chosen = f"{group}_{i}"
            i += 1
        self.group = chosen
        self.prefix = chosen.rsplit("/", 1)[-1]

    def add(self, type_name: str, stem: str, inputs: list[str], sub: str = "", **params: Any) -> str:
        name = self.graph.unique_name(f"{self.prefix}_{stem}")
        group = f"{self.group}/{sub}" if sub else self.group
        return self.graph.add_layer(type_name, inputs, name=name, group=group, **params)

    def conv_bn_relu(self, source: str, stem: str, filters: int, kernel: int, strides: int = 1,
                     relu: bool = True, groups: int = 1, sub: str = "") -> str:
        x = self.add("Conv2D", f"{stem}_conv", [source], sub, filters=filters, kernel_size=kernel,
                     strides=strides, padding="same", use_bias=False, groups=groups)
        x = self.add("BatchNorm", f"{stem}_bn", [x], sub)
        if relu:
            x = self.add("Activation", f"{stem}_relu", [x], sub, function="relu")
        return x


def _shortcut(b: _Builder, after: str, out_channels: int, strides: int) -> str:
    if strides == 1 and _channels(b.graph, after) == out_channels:
        return after
    x = b.add("Conv2D", "proj_conv", [after], filters=out_channels, kernel_size=1, strides=strides,
              padding="same", use_bias=False)
    return b.add("BatchNorm", "proj_bn", [x])


def residual_basic(graph: Graph, after: str, group: str = "res_block", filters: int = 64, strides: int = 1) -> str:
    b = _Builder(graph, group)
    x = b.conv_bn_relu(after, "a", filters, 3, strides)
    x = b.conv_bn_relu(x, "b", filters, 3, relu=False)
    merged = b.add("Add", "add", [x, _shortcut(b, after, filters, strides)])
    return b.add("Activation", "out", [merged], function="relu")


def residual_bottleneck(graph: Graph, after: str, group: str = "bottleneck", filters: int = 64,
                        strides: int = 1, expansion: int = 4) -> str:
    b = _Builder(graph, group)
    x = b.conv_bn_relu(after, "a", filters, 1)
    x = b.conv_bn_relu(x, "b", filters, 3, strides)
    x = b.conv_bn_relu(x, "c", filters * expansion, 1, relu=False)
    merged = b.add("Add", "add", [x, _shortcut(b, after, filters * expansion, strides)])
    return b.add("Activation", "out", [merged], function="relu")


def preactivation(graph: Graph, after: str, group: str = "preact_block", filters: int = 64, strides: int = 1) -> str:
    b = _Builder(graph, group)
    x = b.add("BatchNorm", "pre_bn", [after])
    x = b.add("Activation", "pre_relu", [x], function="relu")
    shortcut = after
    if strides != 1 or _channels(graph, after) != filters:
        shortcut = b.add("Conv2D", "proj_conv", [x], filters=filters, kernel_size=1, strides=strides,
                         padding="same", use_bias=False)
    x = b.add("Conv2D", "a_conv", [x], filters=filters, kernel_size=3, strides=strides, padding="same",
              use_bias=False)
    x = b.add("BatchNorm", "b_bn", [x])
    x = b.add("Activation", "b_relu", [x], function="relu")
    x = b.add("Conv2D", "b_conv", [x], filters=filters, kernel_size=3, padding="same", use_bias=False)
    return b.add("Add", "add", [x, shortcut])


def inception(graph: Graph, after: str, group: str = "inception", f1: int = 64, f3_reduce: int = 96,
              f3: int = 128, f5_reduce: int = 16, f5: int = 32, pool_proj: int = 32) -> str:
    b = _Builder(graph, group)
    relu = {"activation": "relu", "padding": "same"}
    one = b.add("Conv2D", "1x1", [after], filters=f1, kernel_size=1, **relu)
    red3 = b.add("Conv2D", "3x3_reduce", [after], filters=f3_reduce, kernel_size=1, **relu)
    three = b.add("Conv2D", "3x3", [red3], filters=f3, kernel_size=3, **relu)
    red5 = b.add("Conv2D", "5x5_reduce", [after], filters=f5_reduce, kernel_size=1, **relu)
    five = b.add("Conv2D", "5x5", [red5], filters=f5, kernel_size=5, **relu)
    pool = b.add("MaxPool2D", "pool", [after], pool_size=3, strides=1, padding="same")
    proj = b.add("Conv2D", "pool_proj", [pool], filters=pool_proj, kernel_size=1, **relu)
    return b.add("Concatenate", "concat", [one, three, five, proj])


def dense_block(graph: Graph, after: str, group: str = "dense_block", layers: int = 4, growth: int = 32,
                bottleneck: bool = True, transition: bool = True, compression: float = 0.5) -> str:
    b = _Builder(graph, group)
    x = after
    for i in range(1, layers + 1):
        sub = f"layer{i}"
        y = b.add("BatchNorm", f"l{i}_bn1", [x], sub)
        y = b.add("Activation", f"l{i}_relu1", [y], sub, function="relu")
        if bottleneck:
            y = b.add("Conv2D", f"l{i}_conv1", [y], sub, filters=4 * growth, kernel_size=1, use_bias=False)
            y = b.add("BatchNorm", f"l{i}_bn2", [y], sub)
            y = b.add("Activation", f"l{i}_relu2", [y], sub, function="relu")
        y = b.add("Conv2D", f"l{i}_conv2", [y], sub, filters=growth, kernel_size=3, padding="same", use_bias=False)
        x = b.add("Concatenate", f"l{i}_concat", [x, y], sub)
    if not transition:
        return x
    channels = _channels(graph, x)
    if channels is None:
        raise GraphError(f"Dense block after '{after}': its input shape is unknown, so the transition "
                         "cannot size its 1×1 convolution. Fix the graph above it first.", node=after)
    x = b.add("BatchNorm", "trans_bn", [x], "transition")
    x = b.add("Activation", "trans_relu", [x], "transition", function="relu")
    x = b.add("Conv2D", "trans_conv", [x], "transition", filters=max(1, int(channels * compression)),
              kernel_size=1, use_bias=False)
    return b.add("AvgPool2D", "trans_pool", [x], "transition", pool_size=2, strides=2)


def resnext_block(graph: Graph, after: str, group: str = "resnext_block", cardinality: int = 32,
                  width: int = 4, filters: int = 256, strides: int = 1) -> str:
    b = _Builder(graph, group)
    inner = cardinality * width
    x = b.conv_bn_relu(after, "a", inner, 1)
    x = b.conv_bn_relu(x, "b", inner, 3, strides, groups=cardinality)
    x = b.conv_bn_relu(x, "c", filters, 1, relu=False)
    merged = b.add("Add", "add", [x, _shortcut(b, after, filters, strides)])
    return b.add("Activation", "out", [merged], function="relu")


def dual_path_block(graph: Graph, after: str, group: str = "dpn_block", bottleneck: int = 96,
                    residual: int = 256, increment: int = 16, groups: int = 32, strides: int = 1) -> str:
    """DPN: a grouped bottleneck whose output is split into a residual part (added) and a
    dense part (concatenated), here kept as one tensor: [residual + shortcut, dense]."""
    b = _Builder(graph, group)
    x = b.conv_bn_relu(after, "a", bottleneck, 1)
    x = b.conv_bn_relu(x, "b", bottleneck, 3, strides, groups=groups)
    res = b.add("Conv2D", "c_res", [x], filters=residual, kernel_size=1, use_bias=False)
    dense = b.add("Conv2D", "c_dense", [x], filters=increment, kernel_size=1, use_bias=False)
    merged = b.add("Add", "add", [res, _shortcut(b, after, residual, strides)])
    joined = b.add("Concatenate", "concat", [merged, dense])
    x = b.add("BatchNorm", "out_bn", [joined])
    return b.add("Activation", "out", [x], function="relu")


def mlpconv(graph: Graph, after: str, group: str = "mlpconv", filters: int = 192, kernel: int = 5,
            mlp1: int = 160, mlp2: int = 96, strides: int = 1) -> str:
    b = _Builder(graph, group)
    x = b.add("Conv2D", "conv", [after], filters=filters, kernel_size=kernel, strides=strides, padding="same",
              activation="relu")
    x = b.add("Conv2D", "mlp1", [x], filters=mlp1, kernel_size=1, activation="relu")
    return b.add("Conv2D", "mlp2", [x], filters=mlp2, kernel_size=1, activation="relu")


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
