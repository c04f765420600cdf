"""DenseNet (Huang et al. 2017) and its BC variant; layer names follow keras.applications."""

from __future__ import annotations

from cnnstudio.errors import ParameterError
from cnnstudio.graph.blocks import KERAS_DENSE, dense_layer, dense_transition
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo._knobs import KERAS_BN_EPSILON, STYLE, resolve_style

KERAS_BN = {"epsilon": KERAS_BN_EPSILON}
IMAGENET_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32),
                   161: (6, 12, 36, 24), 264: (6, 12, 64, 48)}

KNOBS = (
    ParamSpec("depth", "int", None, "Layers. ImageNet: 121, 169, 201, 161 (k=48), 264. CIFAR: "
              "3n+4 without bottlenecks (40, 100), 6n+4 with (100, 190, 250). Empty: 121 or 100.",
              minimum=10, maximum=1000, optional=True),
    ParamSpec("growth", "int", None, "k, the growth rate: channels each layer adds. Empty: 32 "
              "(48 for DenseNet-161) on ImageNet, 12 on CIFAR.", minimum=1, maximum=256,
              optional=True),
    ParamSpec("bc", "bool", True, "DenseNet-BC: a 1×1 bottleneck to 4k channels before each "
              "3×3 convolution, and compression in the transitions."),
    ParamSpec("compression", "float", None, "θ, the fraction of channels a transition keeps. "
              "Empty: 0.5 with bc, 1 without.", minimum=0.05, maximum=1.0, optional=True),
    STYLE,
)


def densenet(size: tuple[int, int], channels: int, classes: int, depth: int | None = None,
             growth: int | None = None, bc: bool = True, compression: float | None = None,
             style: str = "auto") -> Graph:
    style = resolve_style(style, size)
    if compression is None:
        compression = 0.5 if bc else 1.0
    if style == "imagenet":
        depth = depth or 121
        if depth not in IMAGENET_BLOCKS:
            raise ParameterError(f"densenet: ImageNet depth must be one of "
                                 f"{', '.join(map(str, IMAGENET_BLOCKS))}. Received: depth={depth}",
                                 field="depth")
        if not bc:
            raise ParameterError("densenet: the ImageNet DenseNets are all BC; set bc=true or "
                                 "style=cifar.", field="bc")
        growth = growth or (48 if depth == 161 else 32)
        blocks = list(IMAGENET_BLOCKS[depth])
        b = GraphBuilder.network(f"densenet{depth}", size, channels)
        channels_now = 2 * growth
        with b.scope("stem"):
            x = b.conv(b.input, "conv1_conv", channels_now, 7, strides=2, padding=3, use_bias=False)
            x = b.bn_relu(x, "conv1", epsilon=KERAS_BN_EPSILON)
            x = b.add("MaxPool2D", x, "pool1", pool_size=3, strides=2, padding=1)
    else:
        depth = depth or 100
        growth = growth or 12
        per_layer = 2 if bc else 1
        if (depth - 4) % (3 * per_layer):
            form = "6n+4 (100, 190, 250)" if bc else "3n+4 (40, 100)"
            raise ParameterError(f"densenet: CIFAR depth with bc={str(bc).lower()} must be {form}. "
                                 f"Received: depth={depth}", field="depth")
        blocks = [(depth - 4) // (3 * per_layer)] * 3
        b = GraphBuilder.network(f"densenet{'-bc' if bc else ''}{depth}_k{growth}", size, channels)
        channels_now = 2 * growth if bc else 16
        with b.scope("stem"):
            x = b.conv(b.input, "conv1_conv", channels_now, 3, use_bias=False)
    for i, count in enumerate(blocks):
        stage = i + 2
        for j in range(1, count + 1):
            with b.scope(f"stage{stage}/layer{j}"):
                x = dense_layer(b, x, growth, bc, KERAS_DENSE, f"conv{stage}_block{j}", KERAS_BN)
            channels_now += growth
        if i < len(blocks) - 1:
            with b.scope(f"transition{stage}"):
                x, channels_now = dense_transition(b, x, channels_now, compression, f"pool{stage}", KERAS_BN)
    with b.scope("head"):
        x = b.bn_relu(x, "post", epsilon=KERAS_BN_EPSILON)
        x = b.add("GlobalAvgPool2D", x, "avg_pool")
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    return b.finish([x])
