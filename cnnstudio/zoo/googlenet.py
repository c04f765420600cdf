"""GoogLeNet (Inception v1, Szegedy et al. 2015) with 1×1 bottleneck reductions."""

from __future__ import annotations

import math

from cnnstudio.graph.blocks import inception_module
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec

KNOBS = (
    ParamSpec("aux_heads", "bool", False, "The two auxiliary classifiers on 4a and 4d "
              "(training-time extra outputs weighted 0.3 in the paper; below 80 pixels their 5×5 "
              "pooling shrinks to the whole map)."),
    ParamSpec("lrn", "bool", True, "LRN after the first convolutions, as in the paper."),
    ParamSpec("dropout", "float", 0.4, "Dropout before the final classifier.",
              minimum=0.0, maximum=0.9),
)

# Table 1 of the paper: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
INCEPTIONS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _inception(b: GraphBuilder, x: str, name: str) -> str:
    p = f"inception{name}"
    with b.scope(p):
        return inception_module(b, x, p, *INCEPTIONS[name], output="output")


def _aux(b: GraphBuilder, x: str, name: str, classes: int, size: tuple[int, int]) -> str:
    # The paper's 5×5/3 pooling takes 14×14 to 4×4; smaller images pool their whole map.
    side = min(math.ceil(d / 16) for d in size)
    window, stride = (5, 3) if side >= 5 else (side, side)
    with b.scope(name):
        x = b.add("AvgPool2D", x, f"{name}_pool", pool_size=window, strides=stride)
        x = b.conv(x, f"{name}_conv", 128, 1, activation="relu")
        x = b.add("Flatten", x, f"{name}_flatten")
        x = b.add("Dense", x, f"{name}_fc", units=1024, activation="relu")
        x = b.add("Dropout", x, f"{name}_dropout", rate=0.7)
        return b.add("Dense", x, f"{name}_predictions", units=classes, activation="softmax")


def googlenet(size: tuple[int, int], channels: int, classes: int, aux_heads: bool = False,
              lrn: bool = True, dropout: float = 0.4) -> Graph:
    b = GraphBuilder.network("googlenet", size, channels)
    with b.scope("stem"):
        x = b.conv(b.input, "conv1_7x7", 64, 7, strides=2, activation="relu")
        x = b.add("MaxPool2D", x, "pool1", pool_size=3, strides=2, padding="same")
        if lrn:
            x = b.add("LRN", x, "norm1", size=5, alpha=1e-4, beta=0.75, bias=1.0)
        x = b.conv(x, "conv2_3x3_reduce", 64, 1, activation="relu")
        x = b.conv(x, "conv2_3x3", 192, 3, activation="relu")
        if lrn:
            x = b.add("LRN", x, "norm2", size=5, alpha=1e-4, beta=0.75, bias=1.0)
        x = b.add("MaxPool2D", x, "pool2", pool_size=3, strides=2, padding="same")
    heads = []
    for name in INCEPTIONS:
        if name in ("4a", "5a"):
            # pool3 (28 -> 14) and pool4 (14 -> 7) between the inception stages.
            with b.scope(f"pool{int(name[0]) - 1}"):
                x = b.add("MaxPool2D", x, f"pool{int(name[0]) - 1}", pool_size=3, strides=2,
                          padding="same")
        x = _inception(b, x, name)
        if aux_heads and name in ("4a", "4d"):
            heads.append(_aux(b, x, f"aux{len(heads) + 1}", classes, size))
    with b.scope("head"):
        x = b.add("GlobalAvgPool2D", x, "avg_pool")
        if dropout:
            x = b.add("Dropout", x, "dropout", rate=dropout)
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    # Declared outputs keep the main classifier first when the aux heads are on.
    return b.finish([x, *heads])

