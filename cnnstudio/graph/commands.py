"""Edit commands over a Graph, each with do/undo (the undo stack is cnnstudio.graph.undo).

The editor turns every gesture into one of these and pushes it on the project's one stack,
so undo lives in the core and is tested headless. A command records what it needs on `do`, so
`do, undo, do, undo` always returns the graph to the same state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from cnnstudio.errors import GraphError
from cnnstudio.graph import catalogue
from cnnstudio.graph.model import Graph, Node
from cnnstudio.graph.undo import UndoStack  # noqa: F401  (commands and their stack, one import)


class Command:
    """One undoable edit."""

    label = "Edit"

    def do(self, graph: Graph) -> None:
        raise NotImplementedError

    def undo(self, graph: Graph) -> None:
        raise NotImplementedError


def _clone(node: Node) -> Node:
    return Node(
        node.name, node.type, copy.deepcopy(node.params), list(node.inputs), node.group, node.trainable, node.position
    )


class AddNode(Command):
    def __init__(self, node: Node, index: int | None = None):
        self.node = _clone(node)
        self.index = index
        self.label = f"Add {node.type} '{node.name}'"

    def do(self, graph: Graph) -> None:
        graph.add(_clone(self.node), self.index)

    def undo(self, graph: Graph) -> None:
        graph.remove(self.node.name)


class RemoveNodes(Command):
    """Remove nodes; consumers outside lose those links (or are bridged), undo restores all."""

    def __init__(self, names: Iterable[str], bridge: bool = False):
        self.names = list(dict.fromkeys(names))
        self.bridge = bridge
        self.label = f"Delete {len(self.names)} node{'s' if len(self.names) != 1 else ''}"
        self._saved: list[tuple[int, Node]] = []
        self._rewired: dict[str, list[str]] = {}
        self._outputs: list[str] = []

    def _replacement(self, graph: Graph, source: str, gone: set[str]) -> list[str]:
        """What a consumer reads instead of a removed node: its single input, when bridging."""
        if not self.bridge:
            return []
        seen = set()
        while source in gone and source not in seen:
            seen.add(source)
            inputs = graph[source].inputs
            if len(inputs) != 1:
                return []
            source = inputs[0]
        return [] if source in gone else [source]

    def do(self, graph: Graph) -> None:
        gone = set(self.names)
        for name in self.names:
            graph[name]  # raises GraphError for an unknown name before anything changes
        self._outputs = graph.declared_outputs
        self._saved = sorted((graph.index_of(n), _clone(graph[n])) for n in self.names)
        self._rewired = {}
        new_inputs: dict[str, list[str]] = {}
        for node in graph:
            if node.name in gone or not any(s in gone for s in node.inputs):
                continue
            self._rewired[node.name] = list(node.inputs)
            updated: list[str] = []
            for source in node.inputs:
                for item in self._replacement(graph, source, gone) if source in gone else [source]:
                    if item not in updated:
                        updated.append(item)
            new_inputs[node.name] = updated
        for name, inputs in new_inputs.items():
            graph.set_inputs(name, inputs)
        for _, node in reversed(self._saved):
            graph.remove(node.name)

    def undo(self, graph: Graph) -> None:
        for index, node in self._saved:
            graph.add(_clone(node), index)
        for name, inputs in self._rewired.items():
            graph.set_inputs(name, inputs)
        if self._outputs != graph.declared_outputs:
            graph.set_outputs(self._outputs)


class SetParams(Command):
    def __init__(self, name: str, params: dict[str, Any]):
        self.name = name
        self.params = copy.deepcopy(params)
        self._old: dict[str, Any] = {}
        self.label = f"Change '{name}'"

    def do(self, graph: Graph) -> None:
        self._old = copy.deepcopy(graph[self.name].params)
        graph.set_params(self.name, copy.deepcopy(self.params))

    def undo(self, graph: Graph) -> None:
        graph.set_params(self.name, copy.deepcopy(self._old))


class SetInputs(Command):
    def __init__(self, name: str, inputs: list[str], label: str = ""):
        self.name = name
        self.inputs = list(inputs)
        self._old: list[str] = []
        self.label = label or f"Reconnect '{name}'"

    def do(self, graph: Graph) -> None:
        self._old = list(graph[self.name].inputs)
        graph.set_inputs(self.name, self.inputs)

    def undo(self, graph: Graph) -> None:
        graph.set_inputs(self.name, self._old)


def would_cycle(graph: Graph, source: str, target: str) -> bool:
    """True when linking source -> target closes a loop (target already reaches source)."""
    consumers = graph.consumers()
    stack, seen = [target], set()
    while stack:
        name = stack.pop()
        if name == source:
            return True
        if name in seen:
            continue
        seen.add(name)
        stack.extend(consumers.get(name, []))
    return False


def connect(graph: Graph, source: str, target: str) -> SetInputs:
    """The command linking source's output into target, or GraphError saying why not."""
    layer = catalogue.get(graph[target].type)
    if layer.max_inputs == 0:
        raise GraphError(f"{layer.name} '{target}' takes no input.", node=target)
    if source == target or would_cycle(graph, source, target):
        raise GraphError(f"Linking '{source}' into '{target}' would make a loop.", node=target)
    inputs = list(graph[target].inputs)
    if source in inputs:
        raise GraphError(f"'{source}' already feeds '{target}'.", node=target)
    if layer.max_inputs is not None and len(inputs) >= layer.max_inputs:
        inputs = inputs[: layer.max_inputs - 1]  # a single-input layer swaps its source
    return SetInputs(target, [*inputs, source], label=f"Connect '{source}' → '{target}'")


def disconnect(graph: Graph, source: str, target: str) -> SetInputs:
    inputs = [s for s in graph[target].inputs if s != source]
    return SetInputs(target, inputs, label=f"Disconnect '{source}' → '{target}'")


class MoveNodes(Command):
    def __init__(self, positions: dict[str, tuple[float, float] | None], label: str = "Move"):
        self.positions = dict(positions)
        self._old: dict[str, tuple[float, float] | None] = {}
        self.label = label

    def do(self, graph: Graph) -> None:
        self._old = {name: graph[name].position for name in self.positions}
        for name, position in self.positions.items():
            graph.set_position(name, position)

    def undo(self, graph: Graph) -> None:
        for name, position in self._old.items():
            graph.set_position(name, position)


class SetGroup(Command):
    """Put nodes into a group path ("stage2/block1"); "" takes them out."""

    def __init__(self, names: Iterable[str], group: str, label: str = ""):
        self.names = list(names)
        self.group = group.strip("/")
        self._old: dict[str, str] = {}
        self.label = label or (f"Group as '{self.group}'" if self.group else "Ungroup")

    def do(self, graph: Graph) -> None:
        self._old = {name: graph[name].group for name in self.names}
        graph.set_group(self.names, self.group)

    def undo(self, graph: Graph) -> None:
        by_group: dict[str, list[str]] = {}
        for name, group in self._old.items():
            by_group.setdefault(group, []).append(name)
        for group, names in by_group.items():
            graph.set_group(names, group)


def group_nodes(graph: Graph, names: Iterable[str], title: str) -> SetGroup:
    """Nest the selection under its common parent group as `parent/title`."""
    names = list(names)
    if not names:
        raise GraphError("Select the nodes to group first.")
    title = title.strip().strip("/")
    if not title or "/" in title:
        raise GraphError(f"Block name {title!r} is not valid: use a short name without '/'.")
    parts = [graph[n].group.split("/") if graph[n].group else [] for n in names]
    common: list[str] = []
    for column in zip(*parts, strict=False):
        if all(c == column[0] for c in column):
            common.append(column[0])
        else:
            break
    return SetGroup(names, "/".join([*common, title]))


class Ungroup(Command):
    """Dissolve one group level: members keep the rest of their path."""

    def __init__(self, group: str):
        self.group = group
        self._old: dict[str, str] = {}
        self.label = f"Ungroup '{group}'"

    def do(self, graph: Graph) -> None:
        members = graph.members(self.group)
        if not members:
            raise GraphError(f"There is no block named '{self.group}'.")
        self._old = {name: graph[name].group for name in members}
        parent = self.group.rsplit("/", 1)[0] if "/" in self.group else ""
        by_group: dict[str, list[str]] = {}
        for name, group in self._old.items():
            rest = group[len(self.group) :].strip("/")
            new = "/".join(p for p in (parent, rest) if p)
            by_group.setdefault(new, []).append(name)
        for group, names in by_group.items():
            graph.set_group(names, group)

    def undo(self, graph: Graph) -> None:
        by_group: dict[str, list[str]] = {}
        for name, group in self._old.items():
            by_group.setdefault(group, []).append(name)
        for group, names in by_group.items():
            graph.set_group(names, group)


class Rename(Command):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        self.label = f"Rename '{old}' to '{new}'"

    def do(self, graph: Graph) -> None:
        graph.rename(self.old, self.new)

    def undo(self, graph: Graph) -> None:
        graph.rename(self.new, self.old)


class SetTrainable(Command):
    def __init__(self, names: Iterable[str], trainable: bool):
        self.names = list(names)
        self.trainable = trainable
        self._old: dict[str, bool] = {}
        self.label = "Unfreeze" if trainable else "Freeze"

    def do(self, graph: Graph) -> None:
        self._old = {name: graph[name].trainable for name in self.names}
        for name in self.names:
            graph.set_trainable(name, self.trainable)

    def undo(self, graph: Graph) -> None:
        for name, value in self._old.items():
            graph.set_trainable(name, value)


class Macro(Command):
    """Several commands as one undo step."""

    def __init__(self, label: str, commands: Iterable[Command]):
        self.label = label
        self.commands = list(commands)

    def do(self, graph: Graph) -> None:
        done: list[Command] = []
        try:
            for command in self.commands:
                command.do(graph)
                done.append(command)
        except Exception:
            for command in reversed(done):  # leave the graph as it was
                command.undo(graph)
            raise

    def undo(self, graph: Graph) -> None:
        for command in reversed(self.commands):
            command.undo(graph)


class AddNodes(Macro):
    """Add prepared nodes (already uniquely named), optionally taking over `after`'s consumers."""

    def __init__(self, graph: Graph, nodes: list[Node], label: str, after: str | None = None, output: str | None = None):
        commands: list[Command] = [AddNode(node) for node in nodes]
        if after is not None and output is not None:
            inside = {n.name for n in nodes}
            for consumer in graph:
                if consumer.name not in inside and after in consumer.inputs:
                    inputs = [output if s == after else s for s in consumer.inputs]
                    commands.append(SetInputs(consumer.name, inputs))
            if after in graph.declared_outputs:
                commands.append(_SetOutputs([output if s == after else s for s in graph.declared_outputs]))
        super().__init__(label, commands)


class _SetOutputs(Command):
    def __init__(self, outputs: list[str]):
        self.outputs = list(outputs)
        self._old: list[str] = []

    def do(self, graph: Graph) -> None:
        self._old = graph.declared_outputs
        graph.set_outputs(self.outputs)

    def undo(self, graph: Graph) -> None:
        graph.set_outputs(self._old)


def paste(
    graph: Graph,
    nodes: list[dict[str, Any]],
    offset: tuple[float, float] = (40.0, 40.0),
    keep_external: bool = False,
    label: str = "Paste",
) -> AddNodes:
    """Nodes from the clipboard (Node.to_dict form) under fresh names; links inside are kept.

    Links to nodes outside the pasted set are kept only with `keep_external` (duplicate)
    and only when those nodes exist.
    """
    taken = set(graph.names)
    renamed: dict[str, str] = {}
    for raw in nodes:
        name = str(raw["name"])
        fresh = name
        if fresh in taken:
            scratch = Graph([Node(n, "Input") for n in taken])
            fresh = scratch.unique_name(name)
        taken.add(fresh)
        renamed[name] = fresh
    prepared: list[Node] = []
    for raw in nodes:
        inputs = []
        for source in raw.get("inputs", []):
            if source in renamed:
                inputs.append(renamed[source])
            elif keep_external and source in graph:
                inputs.append(source)
        position = raw.get("position")
        if position is not None:
            position = (float(position[0]) + offset[0], float(position[1]) + offset[1])
        prepared.append(
            Node(
                renamed[raw["name"]],
                raw["type"],
                copy.deepcopy(raw.get("params", {})),
                inputs,
                raw.get("group", ""),
                bool(raw.get("trainable", True)),
                position,
            )
        )
    return AddNodes(graph, prepared, label)


def insert_with(
    graph: Graph, label: str, build: Callable[[Graph], str], after: str | None = None
) -> AddNodes:
    """Run a builder on a copy of the graph; the command adds what it added.

    `build(graph_copy) -> output node name`. With `after`, consumers of `after` are moved to
    the new output so the block lands inside a chain.
    """
    scratch = graph.copy()
    before = set(scratch.names)
    output = build(scratch)
    added = [_clone(node) for node in scratch if node.name not in before]
    if not added:
        raise GraphError(f"{label}: the builder added no nodes.")
    return AddNodes(graph, added, label, after=after, output=output)


def add_after(graph: Graph, type_name: str, after: str | None, position: tuple[float, float] | None = None) -> AddNodes:
    """Append a layer of `type_name` after `after` (the double-click in the palette)."""
    layer = catalogue.get(type_name)
    name = graph.unique_name(layer.name.lower())
    inputs = [after] if after is not None and layer.max_inputs != 0 else []
    group = graph[after].group if after is not None else ""
    node = Node(name, layer.name, {}, inputs, group, True, position)
    return AddNodes(graph, [node], f"Add {layer.name}", after=after if inputs else None, output=name)
