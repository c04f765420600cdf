"""Delete on the canvas: selected layers and selected connections become one core command."""

from __future__ import annotations

from collections.abc import Callable

from cnnstudio.graph import commands as cmd
from cnnstudio.graph.model import Graph


def links_behind(graph: Graph, representative: Callable[[str], str], pair: tuple[str, str]) -> list[tuple[str, str]]:
    """The (source, target) links a drawn edge stands for: several when it joins collapsed blocks."""
    source_key, target_key = pair
    return [(source, node.name) for node in graph if representative(node.name) == target_key
            for source in node.inputs if source in graph and representative(source) == source_key]


def delete_command(graph: Graph, names: list[str], links: list[tuple[str, str]]) -> cmd.Command | None:
    """One undo step removing the layers (chains bridged over the gap) and the links; None if neither."""
    removed = set(names)
    cut: dict[str, set[str]] = {}
    for source, target in links:
        if source not in removed and target not in removed:  # those go with their layer
            cut.setdefault(target, set()).add(source)
    commands: list[cmd.Command] = []
    for target, sources in cut.items():
        if len(sources) == 1:
            commands.append(cmd.disconnect(graph, next(iter(sources)), target))
        else:
            commands.append(cmd.SetInputs(target, [s for s in graph[target].inputs if s not in sources]))
    if names:
        commands.append(cmd.RemoveNodes(names, bridge=True))
    if len(commands) <= 1:
        return commands[0] if commands else None
    count = sum(len(s) for s in cut.values())
    parts = ([f"{len(names)} layer{'s' if len(names) != 1 else ''}"] if names else []) + (
        [f"{count} connection{'s' if count != 1 else ''}"] if count else [])
    return cmd.Macro("Delete " + " and ".join(parts), commands)
