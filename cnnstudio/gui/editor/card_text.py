"""What cards and edges say, prepared from the latest analysis (items only draw it)."""

from __future__ import annotations

from cnnstudio.graph import catalogue
from cnnstudio.graph.analysis import Analysis, human_bytes, human_count
from cnnstudio.graph.catalogue import format_shape
from cnnstudio.graph.model import Graph
from cnnstudio.gui.editor.items import CardText


def node_text(graph: Graph, analysis: Analysis, name: str, problems: list, title: str) -> CardText:
    """A layer card: key parameters in the tutorial's words, output shape and parameter count."""
    node = graph[name]
    layer = catalogue.get(node.type)
    result = analysis.nodes.get(name)
    try:
        summary = layer.summary(result.params if result and result.params is not None else node.params)
    except Exception:  # a half-typed value: the diagnostic says what is wrong
        summary = ""
    if result is not None and result.output_shape is not None:
        footer = f"{format_shape(result.output_shape)}   ·   {human_count(result.param_count)} params"
    else:
        footer = "shape unknown"
    return CardText(
        title=title,
        kind=layer.name,
        category=layer.category,
        summary=summary,
        footer=footer,
        errors=[d.message for d in problems if d.severity == "error"],
        warnings=[d.message for d in problems if d.severity == "warning"],
        frozen=not node.trainable,
    )


def block_text(graph: Graph, analysis: Analysis, group: str, diagnostics: dict) -> CardText:
    """A collapsed block: repeats, input → output shape, params, MACs and its members' problems."""
    members = graph.members(group)
    summary = analysis.block_summary(graph, members)
    children = {m_group[len(group) + 1:].split("/")[0] for m in members
                if (m_group := graph[m].group).startswith(group + "/")}
    ins = ", ".join(format_shape(s) for s in summary["inputs"][:2]) or "—"
    outs = ", ".join(format_shape(s) for s in summary["outputs"][:2]) or "—"
    errors = [d.message for m in members for d in diagnostics.get(m, []) if d.severity == "error"]
    warnings = [d.message for m in members for d in diagnostics.get(m, []) if d.severity == "warning"]
    return CardText(
        title=group.rsplit("/", 1)[-1],
        kind="block",
        category="Block",
        summary=f"{ins}  →  {outs}",
        footer=f"{human_count(summary['params'])} params · {human_count(summary['macs'])} MACs · "
        f"{len(members)} layers",
        errors=errors[:5],
        warnings=warnings[:5],
        repeats=len(children),
    )


def edge_label(graph: Graph, analysis: Analysis, source: str, group: str | None) -> tuple[str, str]:
    """(label, tooltip) of an edge leaving layer `source`, or the block `group` when collapsed."""
    if group is not None:
        summary = analysis.block_summary(graph, graph.members(group))
        shape = summary["outputs"][0] if summary["outputs"] else None
    else:
        result = analysis.nodes.get(source)
        shape = result.output_shape if result else None
    if shape is None:
        return "", ""
    elements: int | None = 1
    for d in shape:
        elements = elements * d if d is not None and elements is not None else None
    memory = human_bytes(None if elements is None else elements * 4)
    return format_shape(shape), f"{format_shape(shape)} — {memory} per image"
