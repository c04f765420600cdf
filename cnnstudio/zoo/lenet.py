"""LeNet-5 (LeCun et al. 1998): the first successful convolutional network."""

from __future__ import annotations

from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec

KNOBS = (
    ParamSpec("variant", "choice", "classic", "classic: tanh units and average-pool subsampling "
              "as in LeCun et al. 1998; modern: ReLU and max pooling.", choices=("classic", "modern")),
)


def lenet5(size: tuple[int, int], channels: int, classes: int, variant: str = "classic") -> Graph:
    """C1 6@5×5, S2, C3 16@5×5, S4, C5 120, F6 84, output (full C3 connections)."""
    act = "tanh" if variant == "classic" else "relu"
    pool = "AvgPool2D" if variant == "classic" else "MaxPool2D"
    b = GraphBuilder.network("lenet5", size, channels)
    with b.scope("features"):
        x = b.conv(b.input, "c1", 6, 5, padding="valid", activation=act)
        x = b.add(pool, x, "s2", pool_size=2, strides=2)
        x = b.conv(x, "c3", 16, 5, padding="valid", activation=act)
        x = b.add(pool, x, "s4", pool_size=2, strides=2)
    with b.scope("classifier"):
        x = b.add("Flatten", x, "flatten")
        x = b.add("Dense", x, "c5", units=120, activation=act)
        x = b.add("Dense", x, "f6", units=84, activation=act)
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    return b.finish()
