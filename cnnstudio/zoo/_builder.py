"""A thin helper over Graph for the zoo builders: the current group and common blocks."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from cnnstudio.graph.model import Graph

# Keras applications use this epsilon in ResNet and DenseNet; we follow it so imported
# and zoo-built models agree.
KERAS_BN_EPSILON = 1.001e-5


class Builder:
    """Adds layers to a Graph under a stack of group names ("stage3/block2")."""

    def __init__(self, name: str, size: tuple[int, int], channels: int):
        self.graph = Graph(name=name)
        self._groups: list[str] = []
        self.input = self.graph.add_layer(
            "Input", name="input", height=size[0], width=size[1], channels=channels
        )

    @property
    def group(self) -> str:
        return "/".join(self._groups)

    @contextmanager
    def scope(self, name: str):
        self._groups.append(name)
        try:
            yield
        finally:
            self._groups.pop()

    def add(self, type_name: str, source: str | list[str], name: str, **params: Any) -> str:
        inputs = [source] if isinstance(source, str) else list(source)
        return self.graph.add_layer(type_name, inputs, name=name, group=self.group, **params)

    # ---- common pieces ----------------------------------------------------------------
    def conv(self, x: str, name: str, filters: int, kernel: int | list[int], strides: int = 1,
             padding: Any = "same", **params: Any) -> str:
        return self.add("Conv2D", x, name, filters=filters, kernel_size=kernel, strides=strides,
                        padding=padding, **params)

    def bn(self, x: str, name: str, epsilon: float = 1e-3, momentum: float = 0.99) -> str:
        return self.add("BatchNorm", x, name, epsilon=epsilon, momentum=momentum)

    def relu(self, x: str, name: str) -> str:
        return self.add("Activation", x, name, function="relu")

    def bn_relu(self, x: str, prefix: str, epsilon: float = 1e-3) -> str:
        x = self.bn(x, f"{prefix}_bn", epsilon)
        return self.relu(x, f"{prefix}_relu")

    def classifier(self, x: str, classes: int, name: str = "predictions") -> str:
        with self.scope("head"):
            x = self.add("GlobalAvgPool2D", x, "avg_pool")
            return self.add("Dense", x, name, units=classes, activation="softmax")

    def finish(self, outputs: list[str] | None = None) -> Graph:
        if outputs:
            self.graph.set_outputs(outputs)
        return self.graph
