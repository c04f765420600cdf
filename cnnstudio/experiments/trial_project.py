"""A trial's project: the sweep's project with one trial's settings applied. Pure Python.

Zoo knobs rebuild the network first (same family, image size and classes), then node
parameters and schema settings are set on the result, each checked by its ParamSpec.
"""

from __future__ import annotations

from typing import Any

from cnnstudio.errors import StudioError
from cnnstudio.experiments.space import SettingResolver, SpaceError


def apply_settings(base: Any, settings: dict[str, Any]) -> Any:
    """A copy of project `base` with `settings` ({key: value} as in a space) applied."""
    project = base.copy()
    resolver = SettingResolver(base)
    zoo_knobs = {key[len("zoo:"):]: value for key, value in settings.items() if key.startswith("zoo:")}
    if zoo_knobs:
        _rebuild_from_zoo(project, resolver, zoo_knobs)
    for key, value in settings.items():
        if key.startswith("zoo:"):
            continue
        spec = (SettingResolver(project) if key.startswith("node:") else resolver).spec(key)
        try:
            value = spec.check(value, key)
        except StudioError as exc:
            raise SpaceError(str(exc)) from None
        if key.startswith("node:"):
            node_name, _, param = key[len("node:"):].rpartition(".")
            project.graph.set_params(node_name, {**project.graph[node_name].params, param: value})
        else:
            section, _, name = key.partition(".")
            project.section(section)[name] = value
    return project


def _rebuild_from_zoo(project: Any, resolver: SettingResolver, knobs: dict[str, Any]) -> None:
    from cnnstudio import zoo

    origin = resolver.zoo_origin()
    if origin is None:
        raise SpaceError(f"zoo:{next(iter(knobs))}: this project was not made from the zoo.")
    values = {**origin.knobs, **knobs}
    graph = zoo.create(origin.family, origin.size, origin.channels, origin.classes, **values)
    project.graph = graph
    family = zoo.describe(origin.family)
    chosen = ", ".join(f"{k}={v}" for k, v in zoo.check_knobs(family.name, values).items())
    # Keep the origin readable, so a trial's project can be swept (or applied) again.
    project.notes = f"Created from the zoo: {family.title} ({chosen}). {family.reference}."


def apply_command(project: Any, settings: dict[str, Any], label: str):
    """One undoable edit (project.commands.Composite) that sets a trial's settings in `project`.

    Zoo knobs rebuild the whole network and are refused: open the trial's own project instead.
    """
    from cnnstudio.graph.commands import SetParams
    from cnnstudio.project.commands import Composite, SetSetting

    commands: list[Any] = []
    for key, value in settings.items():
        if key.startswith("zoo:"):
            raise SpaceError(f"{key}: this trial rebuilt the network from the zoo; open the trial's "
                             "project file (project.cnnproj in its run folder) instead.")
        if key.startswith("node:"):
            node, _, param = key[len("node:"):].rpartition(".")
            if node not in project.graph:
                raise SpaceError(f"{key}: the project has no node {node!r} any more.")
            commands.append(SetParams(node, {**project.graph[node].params, param: value}))
        else:
            section, _, name = key.partition(".")
            commands.append(SetSetting(section, name, value))
    return Composite(label, commands)


def settings_label(settings: dict[str, Any]) -> str:
    """'learning_rate=0.01, rotation=10' — short keys for tables and legends."""
    parts = []
    for key, value in settings.items():
        short = key.rpartition(".")[2] if not key.startswith("zoo:") else key
        if key.startswith("node:"):
            short = key[len("node:"):]
        parts.append(f"{short}={_short(value)}")
    return ", ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
