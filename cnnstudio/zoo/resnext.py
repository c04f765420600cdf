"""ResNeXt (Xie et al. 2017): grouped 3×3 convolutions of cardinality C."""

from __future__ import annotations

from cnnstudio.errors import ParameterError
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo._knobs import STYLE, resolve_style
from cnnstudio.zoo._residual import BlockSpec, cifar_stem, head, imagenet_stem, stages
from cnnstudio.zoo.resnet import IMAGENET_BLOCKS

KNOBS = (
    ParamSpec("depth", "int", 29, "Layers. ImageNet: 50, 101, 152; CIFAR: 9n+2 (29).",
              minimum=11, maximum=1000),
    ParamSpec("cardinality", "int", 8, "C, the number of groups of the 3×3 convolution.",
              minimum=1, maximum=256),
    ParamSpec("width", "int", 64, "d, the width of each group in the first stage "
              "(\"32×4d\": C=32, d=4); it doubles with each stage.", minimum=1, maximum=1024),
    STYLE,
)


def resnext(size: tuple[int, int], channels: int, classes: int, depth: int = 29,
            cardinality: int = 8, width: int = 64, style: str = "auto") -> Graph:
    """Xie et al. 2017: bottlenecks whose 3×3 convolution has C groups of d channels."""
    style = resolve_style(style, size)
    b = GraphBuilder.network(f"resnext{depth}_{cardinality}x{width}d", size, channels)
    if style == "imagenet":
        if depth not in (50, 101, 152):
            raise ParameterError(f"resnext: ImageNet depth must be 50, 101 or 152. Received: "
                                 f"depth={depth}", field="depth")
        blocks = IMAGENET_BLOCKS[depth][1]
        x = imagenet_stem(b, 64, False, preact=False)
        outs, in_channels = [256, 512, 1024, 2048], 64
    else:
        if (depth - 2) % 9:
            raise ParameterError(f"resnext: CIFAR depth must be 9n+2 (29). Received: "
                                 f"depth={depth}", field="depth")
        n = (depth - 2) // 9
        blocks = [n, n, n]
        x = cifar_stem(b, 64, False, preact=False)
        outs, in_channels = [256, 512, 1024], 64
    inner = cardinality * width

    def spec(s: int, first: bool) -> BlockSpec:
        return BlockSpec("bottleneck", inner * 2 ** s, outs[s], 2 if first and s else 1,
                         groups=cardinality, stride_on_3x3=True)

    x = stages(b, x, in_channels, blocks, spec)
    return b.finish([head(b, x, classes, preact=False)])
