"""Residual blocks shared by ResNet, Wide ResNet and ResNeXt.

Names follow keras.applications ("conv3_block2_1_conv"), groups follow "stage3/block2".
`bias` puts a bias on convolutions; `preact` blocks never bias a convolution that a
BatchNorm follows (keras.applications V2 convention), v1 blocks bias all or none.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnstudio.zoo._builder import KERAS_BN_EPSILON, Builder


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


def _conv(b: Builder, x: str, name: str, filters: int, kernel: int, stride: int, bias: bool,
          groups: int = 1) -> str:
    padding = "same" if stride == 1 or kernel == 1 else kernel // 2
    return b.conv(x, name, filters, kernel, strides=stride, padding=padding, use_bias=bias,
                  groups=groups)


def residual_block(b: Builder, x: str, in_channels: int, spec: BlockSpec, stage: int,
                   index: int) -> str:
    """One block; the shortcut is projected by a 1×1 convolution when the shape changes."""
    p = f"conv{stage}_block{index}"
    eps = KERAS_BN_EPSILON
    project = spec.stride != 1 or in_channels != spec.out
    with b.scope(f"stage{stage}/block{index}"):
        if spec.preact:
            pre = b.bn_relu(x, f"{p}_preact", eps)
            shortcut = _conv(b, pre, f"{p}_0_conv", spec.out, 1, spec.stride, spec.bias) if project else x
            y = pre
        else:
            shortcut = x
            if project:
                shortcut = _conv(b, x, f"{p}_0_conv", spec.out, 1, spec.stride, spec.bias)
                shortcut = b.bn(shortcut, f"{p}_0_bn", eps)
            y = x
        inner_bias = spec.bias and not spec.preact
        if spec.kind == "basic":
            y = _conv(b, y, f"{p}_1_conv", spec.width, 3, spec.stride, inner_bias)
            y = b.bn_relu(y, f"{p}_1", eps)
            if spec.dropout:
                y = b.add("Dropout", y, f"{p}_dropout", rate=spec.dropout)
            y = _conv(b, y, f"{p}_2_conv", spec.out, 3, 1, spec.bias)
            last = 2
        else:
            first_stride, mid_stride = (1, spec.stride) if spec.stride_on_3x3 else (spec.stride, 1)
            y = _conv(b, y, f"{p}_1_conv", spec.width, 1, first_stride, inner_bias)
            y = b.bn_relu(y, f"{p}_1", eps)
            y = _conv(b, y, f"{p}_2_conv", spec.width, 3, mid_stride, inner_bias, spec.groups)
            y = b.bn_relu(y, f"{p}_2", eps)
            y = _conv(b, y, f"{p}_3_conv", spec.out, 1, 1, spec.bias)
            last = 3
        if not spec.preact:
            y = b.bn(y, f"{p}_{last}_bn", eps)
        y = b.add("Add", [shortcut, y], f"{p}_add")
        if not spec.preact:
            y = b.relu(y, f"{p}_out")
        return y


def imagenet_stem(b: Builder, filters: int, bias: bool, preact: bool) -> str:
    """7×7/2 convolution (P=3) and 3×3/2 max pooling (P=1): 224 -> 112 -> 56."""
    with b.scope("stem"):
        x = b.conv(b.input, "conv1_conv", filters, 7, strides=2, padding=3, use_bias=bias)
        if not preact:
            x = b.bn_relu(x, "conv1", KERAS_BN_EPSILON)
        return b.add("MaxPool2D", x, "pool1_pool", pool_size=3, strides=2, padding=1)


def cifar_stem(b: Builder, filters: int, bias: bool, preact: bool) -> str:
    """3×3 convolution keeping 32×32 (He et al. 2016, section 4.2)."""
    with b.scope("stem"):
        x = b.conv(b.input, "conv1_conv", filters, 3, use_bias=bias)
        if not preact:
            x = b.bn_relu(x, "conv1", KERAS_BN_EPSILON)
        return x


def head(b: Builder, x: str, classes: int, preact: bool) -> str:
    with b.scope("head"):
        if preact:
            x = b.bn_relu(x, "post", KERAS_BN_EPSILON)
        x = b.add("GlobalAvgPool2D", x, "avg_pool")
        return b.add("Dense", x, "predictions", units=classes, activation="softmax")


def stages(b: Builder, x: str, in_channels: int, blocks: list[int], make_spec) -> str:
    """Stack the stages; make_spec(stage_index, first_block) -> BlockSpec."""
    for s, count in enumerate(blocks):
        for i in range(count):
            spec = make_spec(s, i == 0)
            x = residual_block(b, x, in_channels, spec, stage=s + 2, index=i + 1)
            in_channels = spec.out
    return x
