"""AlexNet (Krizhevsky et al. 2012) as in the tutorial's single-tower table."""

from __future__ import annotations

from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec

KNOBS = (
    ParamSpec("lrn", "bool", True, "Local response normalization after conv1 and conv2 "
              "(the tutorial's NORM layers; 'not common anymore')."),
    ParamSpec("dropout", "float", 0.5, "Dropout before FC7 and FC8.", minimum=0.0, maximum=0.9),
    ParamSpec("two_tower", "bool", False, "Split conv2, conv4 and conv5 into 2 groups as the "
              "original 2-GPU network did (fewer parameters).", advanced=True),
    ParamSpec("fc_units", "int", 4096, "Neurons in FC6 and FC7.", minimum=16, maximum=16384,
              advanced=True),
)


def alexnet(size: tuple[int, int], channels: int, classes: int, lrn: bool = True,
            dropout: float = 0.5, two_tower: bool = False, fc_units: int = 4096) -> Graph:
    """The tutorial's single-tower AlexNet: 227×227×3 -> 55 -> 27 -> 13 -> 6."""
    groups = 2 if two_tower else 1
    b = GraphBuilder.network("alexnet", size, channels)
    with b.scope("conv1"):
        x = b.conv(b.input, "conv1", 96, 11, strides=4, padding="valid", activation="relu")
        x = b.add("MaxPool2D", x, "pool1", pool_size=3, strides=2)
        if lrn:
            x = b.add("LRN", x, "norm1", size=5, alpha=1e-4, beta=0.75, bias=2.0)
    with b.scope("conv2"):
        x = b.conv(x, "conv2", 256, 5, padding=2, activation="relu", groups=groups)
        x = b.add("MaxPool2D", x, "pool2", pool_size=3, strides=2)
        if lrn:
            x = b.add("LRN", x, "norm2", size=5, alpha=1e-4, beta=0.75, bias=2.0)
    with b.scope("conv3-5"):
        x = b.conv(x, "conv3", 384, 3, padding=1, activation="relu")
        x = b.conv(x, "conv4", 384, 3, padding=1, activation="relu", groups=groups)
        x = b.conv(x, "conv5", 256, 3, padding=1, activation="relu", groups=groups)
        x = b.add("MaxPool2D", x, "pool3", pool_size=3, strides=2)
    with b.scope("classifier"):
        x = b.add("Flatten", x, "flatten")
        x = b.add("Dense", x, "fc6", units=fc_units, activation="relu")
        if dropout:
            x = b.add("Dropout", x, "drop6", rate=dropout)
        x = b.add("Dense", x, "fc7", units=fc_units, activation="relu")
        if dropout:
            x = b.add("Dropout", x, "drop7", rate=dropout)
        x = b.add("Dense", x, "fc8", units=classes, activation="softmax")
    return b.finish()
