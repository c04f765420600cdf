"""Group paths as the editor shows them: short card titles, and which blocks to open or close.

Plain string logic over the Graph (no Qt), kept apart from the scene so it is easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable

from cnnstudio.graph.model import Graph

SEPARATORS = "_-."


def ancestors(group: str) -> list[str]:
    """'stage2/block1' -> ['stage2', 'stage2/block1']."""
    parts = group.split("/") if group else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def title_prefixes(graph: Graph) -> dict[str, str]:
    """Per top-level group (a stage), the name prefix all its layers share: 'conv2_' in
    ResNet's stage2, 'inception3a_' in GoogLeNet. Cut at a separator, whole words only."""
    members: dict[str, list[str]] = {}
    for node in graph:
        if node.group:
            members.setdefault(node.group.split("/", 1)[0], []).append(node.name)
    prefixes: dict[str, str] = {}
    for stage, names in members.items():
        if len(names) < 2:
            continue
        shared = names[0]
        for name in names[1:]:
            while not name.startswith(shared):
                shared = shared[:-1]
        cut = max(shared.rfind(c) for c in SEPARATORS) + 1
        if cut > 0 and all(len(n) > cut for n in names):
            prefixes[stage] = shared[:cut]
    return prefixes


def short_title(name: str, group: str, prefixes: dict[str, str]) -> str:
    """What distinguishes a card: its name without its stage's shared prefix ('block1_2_conv')."""
    prefix = prefixes.get(group.split("/", 1)[0], "") if group else ""
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def expanded(collapsed: set[str], group: str, all_groups: Iterable[str]) -> set[str]:
    """The collapsed set after opening `group`: its direct children show collapsed, level by level."""
    inner = {g for g in collapsed if g != group and not g.startswith(group + "/")}
    depth = group.count("/") + 1
    children = {g for g in all_groups if g.startswith(group + "/") and g.count("/") == depth}
    return inner | children


def revealing(collapsed: set[str], groups_of_targets: Iterable[str], all_groups: Iterable[str]) -> set[str]:
    """The collapsed set that shows every target layer as its own card, other blocks untouched."""
    all_groups = list(all_groups)
    result = set(collapsed)
    for group in groups_of_targets:
        for path in ancestors(group):
            if path in result:
                result = expanded(result, path, all_groups)
    return result


def enclosing_to_collapse(graph: Graph, keys: Iterable[str], block_prefix: str) -> str | None:
    """The group Collapse closes for a selection: a layer's innermost block, a block's parent."""
    candidates: list[str] = []
    for key in keys:
        if key.startswith(block_prefix):
            group = key[len(block_prefix):]
            if "/" in group:
                candidates.append(group.rsplit("/", 1)[0])
        elif key in graph and graph[key].group:
            candidates.append(graph[key].group)
    return max(candidates, key=lambda g: g.count("/")) if candidates else None
