"""The one helper that adds layers to a Graph, for the zoo's families and the palette's blocks.

A GraphBuilder adds nodes under a stack of group names ("stage3/block2"). Parameters a
call leaves out take the catalogue's defaults (BatchNorm's ε and momentum, strides...);
the one convention of its own is that convolutions pad 'same' unless told otherwise.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from cnnstudio.graph.model import Graph


class GraphBuilder:
    """Adds layers to `graph` inside `group`.

    `prefix` starts every node name ("<prefix>_<stem>"); with `unique_names`, a name that is
    taken gets a number (palette blocks inserted into a user's graph).
    """

    def __init__(self, graph: Graph, group: str = "", prefix: str = "", unique_names: bool = False):
        self.graph = graph
        self._groups: list[str] = [group] if group else []
        self.prefix = prefix
        self.unique_names = unique_names
        self.input = ""

    @classmethod
    def network(cls, name: str, size: tuple[int, int], channels: int) -> GraphBuilder:
        """A new graph with its Input node ("input"), for a zoo family."""
        builder = cls(Graph(name=name))
        builder.input = builder.graph.add_layer(
            "Input", name="input", height=size[0], width=size[1], channels=channels
        )
        return builder

    @classmethod
    def block(cls, graph: Graph, group: str) -> GraphBuilder:
        """A builder for one palette block: its own group (a second block of the same kind
        gets "<group>_1"), node names starting with the group's last part."""
        existing = set(graph.groups())
        chosen, i = group, 1
        while chosen in existing:
            chosen = f"{group}_{i}"
            i += 1
        return cls(graph, chosen, prefix=chosen.rsplit("/", 1)[-1], unique_names=True)

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

    def name(self, stem: str) -> str:
        name = f"{self.prefix}_{stem}" if self.prefix else stem
        return self.graph.unique_name(name) if self.unique_names else name

    def add(self, type_name: str, source: str | list[str], stem: str, **params: Any) -> str:
        inputs = [source] if isinstance(source, str) else list(source)
        return self.graph.add_layer(type_name, inputs, name=self.name(stem), group=self.group, **params)

    # ---- common pieces ----------------------------------------------------------------
    def conv(self, x: str, stem: str, filters: int, kernel: int | list[int], **params: Any) -> str:
        params.setdefault("padding", "same")
        return self.add("Conv2D", x, stem, filters=filters, kernel_size=kernel, **params)

    def bn(self, x: str, stem: str, **params: Any) -> str:
        return self.add("BatchNorm", x, stem, **params)

    def relu(self, x: str, stem: str) -> str:
        return self.add("Activation", x, stem, function="relu")

    def bn_relu(self, x: str, stem: str, **bn_params: Any) -> str:
        """BatchNorm "<stem>_bn" then ReLU "<stem>_relu"."""
        return self.relu(self.bn(x, f"{stem}_bn", **bn_params), f"{stem}_relu")

    def finish(self, outputs: list[str] | None = None) -> Graph:
        if outputs:
            self.graph.set_outputs(outputs)
        return self.graph
