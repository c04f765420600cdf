"""VGG (Simonyan & Zisserman 2015): stacks of 3×3 convolutions; names as keras.applications."""

from __future__ import annotations

from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec

KNOBS = (
    ParamSpec("depth", "choice", 16, "Weight layers: 11 (A), 13 (B), 16 (D) or 19 (E) from "
              "Simonyan & Zisserman's table 1.", choices=(11, 13, 16, 19)),
    ParamSpec("batch_norm", "bool", False, "BatchNorm after every convolution (VGG-BN), "
              "convolutions then drop their bias."),
    ParamSpec("fc_units", "int", 4096, "Neurons in fc1 and fc2.", minimum=16, maximum=16384,
              advanced=True),
    ParamSpec("dropout", "float", 0.0, "Dropout after fc1 and fc2 (the paper used 0.5; "
              "keras.applications leaves it out).", minimum=0.0, maximum=0.9),
)

_VGG_CONVS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def vgg(size: tuple[int, int], channels: int, classes: int, depth: int = 16,
        batch_norm: bool = False, fc_units: int = 4096, dropout: float = 0.0) -> Graph:
    """VGG: 3×3 'same' convolutions in five blocks, 2×2 max pooling, three FC layers."""
    b = GraphBuilder.network(f"vgg{depth}", size, channels)
    x = b.input
    for block, (count, filters) in enumerate(zip(_VGG_CONVS[int(depth)], (64, 128, 256, 512, 512), strict=True),
                                             start=1):
        with b.scope(f"block{block}"):
            for j in range(1, count + 1):
                name = f"block{block}_conv{j}"
                if batch_norm:
                    x = b.conv(x, name, filters, 3, use_bias=False)
                    x = b.bn(x, f"{name}_bn")
                    x = b.relu(x, f"{name}_relu")
                else:
                    x = b.conv(x, name, filters, 3, activation="relu")
            x = b.add("MaxPool2D", x, f"block{block}_pool", pool_size=2, strides=2)
    with b.scope("classifier"):
        x = b.add("Flatten", x, "flatten")
        for i in (1, 2):
            x = b.add("Dense", x, f"fc{i}", units=fc_units, activation="relu")
            if dropout:
                x = b.add("Dropout", x, f"fc{i}_dropout", rate=dropout)
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    return b.finish()
