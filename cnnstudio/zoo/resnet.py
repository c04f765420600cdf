"""ResNet (He et al. 2016): v1 and pre-activation v2, ImageNet and CIFAR layouts."""

from __future__ import annotations

from cnnstudio.errors import ParameterError
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo._knobs import STYLE, resolve_style
from cnnstudio.zoo._residual import BlockSpec, cifar_stem, head, imagenet_stem, stages

IMAGENET_BLOCKS = {
    18: ("basic", [2, 2, 2, 2]),
    34: ("basic", [3, 4, 6, 3]),
    50: ("bottleneck", [3, 4, 6, 3]),
    101: ("bottleneck", [3, 4, 23, 3]),
    152: ("bottleneck", [3, 8, 36, 3]),
    200: ("bottleneck", [3, 24, 36, 3]),
}

KNOBS = (
    ParamSpec("depth", "int", 50, "Weight layers. ImageNet: 18, 34 (basic blocks), 50, 101, "
              "152, 200 (bottlenecks). CIFAR: 6n+2 (20, 32, 44, 56, 110) with basic blocks, "
              "9n+2 (164, 1001) with bottlenecks.", minimum=8, maximum=2000),
    STYLE,
    ParamSpec("preact", "bool", False, "Pre-activation blocks BN-ReLU-conv (He et al. 2016, "
              "'Identity Mappings'), i.e. ResNet v2."),
    ParamSpec("bottleneck", "choice", "auto", "CIFAR block type: auto uses bottlenecks from depth 164 "
              "when depth = 9n+2 (164, 1001), basic blocks when depth = 6n+2 (20 ... 110).",
              choices=("auto", "basic", "bottleneck"), advanced=True),
    ParamSpec("conv_bias", "choice", "auto", "Bias on convolutions that BatchNorm follows. auto: "
              "on for ImageNet models as keras.applications does, off for CIFAR.",
              choices=("auto", "on", "off"), advanced=True),
)


def _bias(conv_bias: str, style: str) -> bool:
    return conv_bias == "on" or (conv_bias == "auto" and style == "imagenet")


def _cifar_blocks(depth: int, kind: str, name: str = "depth") -> tuple[str, int]:
    # He et al. use basic blocks up to 110 layers and bottlenecks from 164 (164 is also 6n+2).
    if kind == "auto" and depth >= 164 and (depth - 2) % 9 == 0:
        return "bottleneck", (depth - 2) // 9
    if kind in ("auto", "basic") and (depth - 2) % 6 == 0:
        return "basic", (depth - 2) // 6
    if kind in ("auto", "bottleneck") and (depth - 2) % 9 == 0:
        return "bottleneck", (depth - 2) // 9
    raise ParameterError(
        f"resnet: CIFAR {name} {depth} is not 6n+2 (basic blocks: 20, 32, 44, 56, 110) or 9n+2 "
        "(bottlenecks: 164, 1001). Received: depth=" + str(depth), field="depth")


def resnet(size: tuple[int, int], channels: int, classes: int, depth: int = 50,
           style: str = "auto", preact: bool = False, bottleneck: str = "auto",
           conv_bias: str = "auto") -> Graph:
    style = resolve_style(style, size)
    bias = _bias(conv_bias, style)
    version = "v2" if preact else ""
    b = GraphBuilder.network(f"resnet{depth}{version}", size, channels)
    if style == "imagenet":
        if depth not in IMAGENET_BLOCKS:
            raise ParameterError(
                f"resnet: ImageNet depth must be one of {', '.join(map(str, IMAGENET_BLOCKS))}. "
                f"Received: depth={depth}", field="depth")
        kind, blocks = IMAGENET_BLOCKS[depth]
        if bottleneck != "auto" and bottleneck != kind:
            raise ParameterError(f"resnet: ImageNet depth {depth} uses {kind} blocks; set "
                                 "bottleneck=auto.", field="bottleneck")
        x = imagenet_stem(b, 64, bias, preact)
        widths, in_channels = [64, 128, 256, 512], 64
    else:
        kind, n = _cifar_blocks(depth, bottleneck)
        blocks = [n, n, n]
        x = cifar_stem(b, 16, bias, preact)
        widths, in_channels = [16, 32, 64], 16
    expansion = 4 if kind == "bottleneck" else 1

    def spec(s: int, first: bool) -> BlockSpec:
        return BlockSpec(kind, widths[s], widths[s] * expansion, 2 if first and s else 1,
                         preact=preact, bias=bias)

    x = stages(b, x, in_channels, blocks, spec)
    return b.finish([head(b, x, classes, preact)])
