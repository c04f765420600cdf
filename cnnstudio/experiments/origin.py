"""Which zoo family (and knobs) a project was made from, so a sweep can vary `zoo:KNOB`. Pure.

The project format has no field for it: `cnnstudio zoo create` records the origin in the
project's notes ("Created from the zoo: ResNet (depth=20, style=auto, ...)."). The input
size comes from the graph's Input node and the class count from its last Dense layer, so a
rebuilt network keeps the project's image size and classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import StudioError

_NOTE = re.compile(r"Created from the zoo: (?P<title>.+?) \((?P<settings>[^()]*)\)")


@dataclass(frozen=True)
class ZooOrigin:
    family: str
    knobs: dict[str, Any]
    size: tuple[int, int]
    channels: int
    classes: int | None


def zoo_origin(project: Any) -> ZooOrigin | None:
    """The project's zoo origin, or None when its notes do not record one."""
    from cnnstudio import zoo

    match = _NOTE.search(project.notes or "")
    if match is None:
        return None
    family = next((f for f in zoo.families() if f.title == match.group("title")), None)
    if family is None:
        return None
    raw: dict[str, str] = {}
    for item in match.group("settings").split(","):
        key, _, value = item.strip().partition("=")
        if key:
            raw[key] = value
    try:
        knobs = zoo.check_knobs(family.name, {k: _parse(v) for k, v in raw.items()})
    except StudioError:
        return None
    graph = project.graph
    inputs = graph.inputs()
    if len(inputs) != 1:
        return None
    params = graph[inputs[0]].params
    dense = [node for node in graph if node.type == "Dense"]
    classes = int(dense[-1].params["units"]) if dense and "units" in dense[-1].params else None
    return ZooOrigin(family.name, knobs, (int(params.get("height") or 0), int(params.get("width") or 0)),
                     int(params.get("channels") or 1), classes)


def _parse(text: str) -> Any:
    """A knob value as `zoo create` wrote it (str() of the value)."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
