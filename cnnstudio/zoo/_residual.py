"""Residual blocks shared by ResNet, Wide ResNet and ResNeXt.

Names follow keras.applications ("conv3_block2_1_conv"), groups follow "stage3/block2".
`bias` puts a bias on convolutions; `preact` blocks never bias a convolution that a
BatchNorm follows (keras.applications V2 convention), v1 blocks bias all or none.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnstudio.graph.blocks import KERAS_RESIDUAL, residual_unit
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.zoo._knobs import KERAS_BN_EPSILON


@dataclass(frozen=True)
class BlockSpec:
    kind: str  # "basic" or "bottleneck"
    width: int  # channels of the 3×3 convolution(s)
    out: int  # channels leaving the block
    stride: int
    preact: bool = False
    bias: bool = False
    groups: int = 1  # ResNeXt cardinality on the 3×3
    dropout: float = 0.0  # Wide ResNet: between the two 3×3 convolutions
    stride_on_3x3: bool = False  # ResNeXt / v1.5 place the stride on the 3×3


def residual_block(b: GraphBuilder, x: str, in_channels: int, spec: BlockSpec, stage: int,
                   index: int) -> str:
    """One block (the palette's residual unit with keras.applications names); the shortcut is
    projected by a 1×1 convolution when the shape changes."""
    with b.scope(f"stage{stage}/block{index}"):
        return residual_unit(
            b, x, in_channels, kind=spec.kind, width=spec.width, out=spec.out, strides=spec.stride,
            names=KERAS_RESIDUAL, unit=f"conv{stage}_block{index}", preact=spec.preact, bias=spec.bias,
            groups=spec.groups, dropout=spec.dropout, stride_on_3x3=spec.stride_on_3x3,
            bn={"epsilon": KERAS_BN_EPSILON},
        )


def imagenet_stem(b: GraphBuilder, filters: int, bias: bool, preact: bool) -> str:
    """7×7/2 convolution (P=3) and 3×3/2 max pooling (P=1): 224 -> 112 -> 56."""
    with b.scope("stem"):
        x = b.conv(b.input, "conv1_conv", filters, 7, strides=2, padding=3, use_bias=bias)
        if not preact:
            x = b.bn_relu(x, "conv1", epsilon=KERAS_BN_EPSILON)
        return b.add("MaxPool2D", x, "pool1_pool", pool_size=3, strides=2, padding=1)


def cifar_stem(b: GraphBuilder, filters: int, bias: bool, preact: bool) -> str:
    """3×3 convolution keeping 32×32 (He et al. 2016, section 4.2)."""
    with b.scope("stem"):
        x = b.conv(b.input, "conv1_conv", filters, 3, use_bias=bias)
        if not preact:
            x = b.bn_relu(x, "conv1", epsilon=KERAS_BN_EPSILON)
        return x


def head(b: GraphBuilder, x: str, classes: int, preact: bool) -> str:
    with b.scope("head"):
        if preact:
            x = b.bn_relu(x, "post", epsilon=KERAS_BN_EPSILON)
        x = b.add("GlobalAvgPool2D", x, "avg_pool")
        return b.add("Dense", x, "predictions", units=classes, activation="softmax")


def stages(b: GraphBuilder, x: str, in_channels: int, blocks: list[int], make_spec) -> str:
    """Stack the stages; make_spec(stage_index, first_block) -> BlockSpec."""
    for s, count in enumerate(blocks):
        for i in range(count):
            spec = make_spec(s, i == 0)
            x = residual_block(b, x, in_channels, spec, stage=s + 2, index=i + 1)
            in_channels = spec.out
    return x
