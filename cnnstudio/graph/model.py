"""The architecture as data: a DAG of named nodes, with change notifications.

Nodes keep their parameters as given (checked when analysed, so a half-typed value in the
inspector becomes a diagnostic rather than an exception). Listeners (the editor scene,
the analysis cache) subscribe with `graph.subscribe(callback)`; each mutation calls
`callback(GraphChange)`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cnnstudio.errors import GraphError
from cnnstudio.graph import catalogue

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass
class Node:
    name: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    group: str = ""  # "stage3/block2": the editor collapses by path prefix
    trainable: bool = True
    position: tuple[float, float] | None = None  # canvas position, kept by the editor

    @property
    def layer_type(self) -> catalogue.LayerType:
        return catalogue.get(self.type)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "params": copy.deepcopy(self.params)}
        if self.inputs:
            out["inputs"] = list(self.inputs)
        if self.group:
            out["group"] = self.group
        if not self.trainable:
            out["trainable"] = False
        if self.position is not None:
            out["position"] = [round(self.position[0], 1), round(self.position[1], 1)]
        return out


@dataclass(frozen=True)
class GraphChange:
    kind: str  # "add", "remove", "params", "inputs", "group", "rename", "trainable", "reset", "position", "outputs"
    names: tuple[str, ...] = ()


class Graph:
    """An ordered DAG of nodes. Order is insertion order; analysis sorts topologically."""

    def __init__(self, nodes: Iterable[Node] = (), outputs: Iterable[str] = (), name: str = "model"):
        self.name = name
        self._nodes: dict[str, Node] = {}
        self._outputs: list[str] = list(outputs)
        self._listeners: list[Callable[[GraphChange], None]] = []
        self.revision = 0
        for node in nodes:
            self._insert(node)

    # ---- reading ------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __getitem__(self, name: str) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            raise GraphError(f"There is no node named {name!r} in the graph.", node=name) from None

    @property
    def names(self) -> list[str]:
        return list(self._nodes)

    @property
    def outputs(self) -> list[str]:
        """Declared outputs, or else every node nobody consumes."""
        if self._outputs:
            return [n for n in self._outputs if n in self._nodes]
        return self.sinks()

    @property
    def declared_outputs(self) -> list[str]:
        return list(self._outputs)

    def inputs(self) -> list[str]:
        return [n.name for n in self if n.type == "Input"]

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {name: [] for name in self._nodes}
        for node in self:
            for source in node.inputs:
                if source in out:
                    out[source].append(node.name)
        return out

    def sinks(self) -> list[str]:
        used = {source for node in self for source in node.inputs}
        return [n.name for n in self if n.name not in used and n.type != "Input"]

    def groups(self) -> list[str]:
        """Every group path and each of its prefixes, in first-appearance order."""
        seen: dict[str, None] = {}
        for node in self:
            if node.group:
                parts = node.group.split("/")
                for i in range(1, len(parts) + 1):
                    seen.setdefault("/".join(parts[:i]), None)
        return list(seen)

    def members(self, group: str) -> list[str]:
        prefix = group + "/"
        return [n.name for n in self if n.group == group or n.group.startswith(prefix)]

    def unique_name(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.\-]", "_", base) or "node"
        if base[0].isdigit():
            base = "n" + base
        if base not in self._nodes:
            return base
        stem = re.sub(r"_\d+$", "", base)
        i = 1
        while f"{stem}_{i}" in self._nodes:
            i += 1
        return f"{stem}_{i}"

    def copy(self) -> Graph:
        return Graph.from_dict(self.to_dict())

    # ---- events -------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[GraphChange], None]) -> None:
        self._listeners.append(callback)

    def unsubscribe(self, callback: Callable[[GraphChange], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _emit(self, kind: str, names: Iterable[str] = ()) -> None:
        self.revision += 1
        change = GraphChange(kind, tuple(names))
        for callback in list(self._listeners):
            callback(change)

    # ---- mutation -----------------------------------------------------------------------
    def _insert(self, node: Node, index: int | None = None) -> None:
        if not isinstance(node.name, str) or not _NAME.match(node.name):
            raise GraphError(
                f"Node name {node.name!r} is not valid: use letters, digits, '_', '-' or '.', "
                "starting with a letter.",
                node=str(node.name),
            )
        if node.name in self._nodes:
            raise GraphError(f"A node named {node.name!r} already exists: choose another name.", node=node.name)
        try:
            catalogue.get(node.type)
        except KeyError:
            raise GraphError(
                f"Node {node.name!r} has unknown layer type {node.type!r}; known types: "
                f"{', '.join(catalogue.layer_types())}.",
                node=node.name,
            ) from None
        node.type = catalogue.get(node.type).name
        if index is None or index >= len(self._nodes):
            self._nodes[node.name] = node
        else:
            items = list(self._nodes.items())
            items.insert(index, (node.name, node))
            self._nodes = dict(items)

    def add(self, node: Node, index: int | None = None) -> Node:
        self._insert(node, index)
        self._emit("add", [node.name])
        return node

    def add_layer(
        self, type_name: str, inputs: Iterable[str] = (), name: str | None = None, group: str = "", **params: Any
    ) -> str:
        """Convenience for builders: add a node and return its name."""
        layer = catalogue.get(type_name)
        node_name = name or self.unique_name(layer.name.lower())
        self.add(Node(node_name, layer.name, dict(params), list(inputs), group))
        return node_name

    def index_of(self, name: str) -> int:
        return self.names.index(name)

    def remove(self, name: str) -> Node:
        node = self[name]
        del self._nodes[name]
        if name in self._outputs:
            self._outputs.remove(name)
        self._emit("remove", [name])
        return node

    def set_params(self, name: str, params: dict[str, Any]) -> None:
        self[name].params = dict(params)
        self._emit("params", [name])

    def set_inputs(self, name: str, inputs: list[str]) -> None:
        self[name].inputs = list(inputs)
        self._emit("inputs", [name])

    def set_group(self, names: Iterable[str], group: str) -> None:
        names = list(names)
        for name in names:
            self[name].group = group
        self._emit("group", names)

    def set_trainable(self, name: str, trainable: bool) -> None:
        self[name].trainable = bool(trainable)
        self._emit("trainable", [name])

    def set_position(self, name: str, position: tuple[float, float] | None) -> None:
        self[name].position = position
        self._emit("position", [name])

    def set_outputs(self, outputs: list[str]) -> None:
        self._outputs = list(outputs)
        self._emit("outputs", outputs)

    def rename(self, old: str, new: str) -> None:
        if old == new:
            return
        if new in self._nodes:
            raise GraphError(f"A node named {new!r} already exists: choose another name.", node=old)
        if not _NAME.match(new):
            raise GraphError(f"Node name {new!r} is not valid: use letters, digits, '_', '-' or '.'.", node=old)
        node = self[old]
        node.name = new
        self._nodes = {(new if k == old else k): v for k, v in self._nodes.items()}
        for other in self:
            other.inputs = [new if s == old else s for s in other.inputs]
        self._outputs = [new if s == old else s for s in self._outputs]
        self._emit("rename", [old, new])

    def notify_reset(self) -> None:
        self._emit("reset")

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "nodes": [n.to_dict() for n in self]}
        if self._outputs:
            out["outputs"] = list(self._outputs)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "architecture") -> Graph:
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            raise GraphError(f"{where}: expected an object with a 'nodes' list.")
        nodes = []
        for i, raw in enumerate(data["nodes"]):
            if not isinstance(raw, dict):
                raise GraphError(f"{where}: node #{i} is not an object.")
            name, type_name = raw.get("name"), raw.get("type")
            if not isinstance(name, str) or not isinstance(type_name, str):
                raise GraphError(f"{where}: node #{i} needs a text 'name' and 'type'.")
            params = raw.get("params", {})
            inputs = raw.get("inputs", [])
            group = raw.get("group", "")
            position = raw.get("position")
            if not isinstance(params, dict):
                raise GraphError(f"{where}: node {name!r}: 'params' must be an object.", node=name)
            if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
                raise GraphError(f"{where}: node {name!r}: 'inputs' must be a list of node names.", node=name)
            if not isinstance(group, str):
                raise GraphError(f"{where}: node {name!r}: 'group' must be text.", node=name)
            if position is not None:
                if (
                    not isinstance(position, list)
                    or len(position) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
                ):
                    raise GraphError(f"{where}: node {name!r}: 'position' must be [x, y].", node=name)
                position = (float(position[0]), float(position[1]))
            nodes.append(
                Node(name, type_name, dict(params), list(inputs), group, bool(raw.get("trainable", True)), position)
            )
        outputs = data.get("outputs", [])
        if not isinstance(outputs, list) or not all(isinstance(s, str) for s in outputs):
            raise GraphError(f"{where}: 'outputs' must be a list of node names.")
        name = data.get("name", "model")
        return cls(nodes, outputs, name=name if isinstance(name, str) else "model")


def topological_order(graph: Graph) -> tuple[list[str], list[str]]:
    """(order, nodes on a cycle). Kahn's algorithm, stable in insertion order."""
    indegree = {n.name: 0 for n in graph}
    consumers: dict[str, list[str]] = {n.name: [] for n in graph}
    for node in graph:
        for source in node.inputs:
            if source in indegree:
                indegree[node.name] += 1
                consumers[source].append(node.name)
    ready = [name for name, d in indegree.items() if d == 0]
    order: list[str] = []
    i = 0
    while i < len(ready):
        name = ready[i]
        i += 1
        order.append(name)
        for consumer in consumers[name]:
            indegree[consumer] -= 1
            if indegree[consumer] == 0:
                ready.append(consumer)
    cyclic = [name for name, d in indegree.items() if d > 0]
    return order, cyclic
