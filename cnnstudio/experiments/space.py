"""The search space of a sweep: which settings vary and over what. Pure Python.

SPACE.json maps a setting to its range::

    {"training.learning_rate": {"log_uniform": [1e-4, 1e-1]},
     "augmentation.rotation": {"choices": [0, 10, 20]},
     "node:c1.filters": {"int": [4, 16], "step": 4},
     "zoo:depth": {"choices": [20, 32]}}

or holds a fixed queue of setting sets: ``{"list": [{"training.learning_rate": 0.01}, ...]}``.
Keys: ``SECTION.FIELD`` for the project schema's preprocessing, augmentation and training
sections, ``node:NODE.PARAM`` for a layer parameter, ``zoo:KNOB`` for a zoo family's knob.
Forms: choices, uniform, log_uniform, int (with optional step), log_int. Every value is
checked against the field's own ParamSpec, so a bad range fails here, naming the key.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnstudio.errors import StudioError
from cnnstudio.graph.params import ParamSpec

VARIABLE_SECTIONS = ("preprocessing", "augmentation", "training")
FORMS = ("choices", "uniform", "log_uniform", "int", "log_int")
# Settings a sweep sets itself or that would make trials incomparable.
FIXED_SETTINGS = {"training.device": "the scheduler gives each trial its device"}


class SpaceError(StudioError):
    """A search space that cannot be used: the message names the key and what to change."""


@dataclass(frozen=True)
class Dimension:
    """One varying setting: `key` and how to draw it."""

    key: str
    form: str  # one of FORMS
    values: tuple[Any, ...] = ()  # choices
    low: float = 0.0
    high: float = 0.0
    step: float | None = None

    @property
    def is_discrete(self) -> bool:
        return self.form == "choices" or (self.form == "int" and self.step is not None)

    def grid_values(self) -> list[Any]:
        if self.form == "choices":
            return list(self.values)
        if self.form == "int" and self.step is not None:
            return list(range(int(self.low), int(self.high) + 1, int(self.step)))
        example = (f'{{"int": [{self.low:g}, {self.high:g}], "step": 1}}' if self.form in ("int", "log_int")
                   else f'{{"choices": [{self.low:g}, {self.high:g}]}}')
        raise SpaceError(f"{self.key}: a grid needs choices or an int range with a step (e.g. {example}); "
                         f"this is {self.form}. Or use the random or tpe sampler.")

    def to_dict(self) -> dict[str, Any]:
        if self.form == "choices":
            return {"choices": list(self.values)}
        low, high = (int(self.low), int(self.high)) if self.form in ("int", "log_int") else (self.low, self.high)
        out: dict[str, Any] = {self.form: [low, high]}
        if self.step is not None:
            out["step"] = self.step
        return out


@dataclass(frozen=True)
class Space:
    """Either dimensions to sample, or a fixed queue of setting sets (`queue`)."""

    dimensions: tuple[Dimension, ...] = ()
    queue: tuple[dict[str, Any], ...] = ()

    @property
    def keys(self) -> list[str]:
        if self.queue:
            return sorted({key for item in self.queue for key in item})
        return [d.key for d in self.dimensions]

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of the dimensions' values (for the grid sampler)."""
        if self.queue:
            return [dict(item) for item in self.queue]
        axes = [d.grid_values() for d in self.dimensions]
        return [dict(zip(self.keys, combo, strict=True)) for combo in itertools.product(*axes)]

    def to_dict(self) -> dict[str, Any]:
        if self.queue:
            return {"list": [dict(item) for item in self.queue]}
        return {d.key: d.to_dict() for d in self.dimensions}


class SettingResolver:
    """What a key means for one project: its ParamSpec (raises SpaceError for unknown keys)."""

    def __init__(self, project: Any):
        self.project = project
        self._origin: Any = None
        self._origin_read = False

    def zoo_origin(self):
        if not self._origin_read:
            from cnnstudio.experiments.origin import zoo_origin

            self._origin, self._origin_read = zoo_origin(self.project), True
        return self._origin

    def spec(self, key: str) -> ParamSpec:
        if not isinstance(key, str) or not key:
            raise SpaceError(f"space key {key!r}: keys are text such as 'training.learning_rate'.")
        if key in FIXED_SETTINGS:
            raise SpaceError(f"{key}: cannot vary in a sweep ({FIXED_SETTINGS[key]}).")
        if key.startswith("node:"):
            return self._node_spec(key)
        if key.startswith("zoo:"):
            return self._zoo_spec(key)
        section, _, name = key.partition(".")
        from cnnstudio.project import schema

        if section not in VARIABLE_SECTIONS or not name:
            raise SpaceError(f"{key}: unknown setting. Use SECTION.FIELD with SECTION one of "
                             f"{', '.join(VARIABLE_SECTIONS)}, node:NODE.PARAM or zoo:KNOB.")
        specs = {spec.name: spec for spec in schema.SECTIONS[section]}
        if name not in specs:
            raise SpaceError(f"{key}: '{section}' has no field {name!r}; known: {', '.join(specs)}.")
        return specs[name]

    def _node_spec(self, key: str) -> ParamSpec:
        from cnnstudio.graph import catalogue

        node_name, _, param = key[len("node:"):].rpartition(".")
        graph = self.project.graph
        if not node_name or node_name not in {n.name for n in graph}:
            raise SpaceError(f"{key}: the architecture has no node {node_name!r}. Write node:NODE.PARAM "
                             "with a node name from the editor.")
        layer = catalogue.get(graph[node_name].type)
        specs = {spec.name: spec for spec in layer.params}
        if param not in specs:
            raise SpaceError(f"{key}: a {layer.name} node has no parameter {param!r}; known: "
                             f"{', '.join(specs) or 'none'}.")
        return specs[param]

    def _zoo_spec(self, key: str) -> ParamSpec:
        from cnnstudio import zoo

        origin = self.zoo_origin()
        knob = key[len("zoo:"):]
        if origin is None:
            raise SpaceError(f"{key}: this project was not made from the zoo (its notes do not say "
                             "'Created from the zoo: …'), so it has no zoo knobs. Create it with "
                             "`cnnstudio zoo create` or vary node:NODE.PARAM instead.")
        family = zoo.describe(origin.family)
        try:
            return family.knob(knob)
        except KeyError:
            raise SpaceError(f"{key}: {family.title} has no knob {knob!r}; known: "
                             f"{', '.join(s.name for s in family.knobs)}.") from None


def load_space(path: str | Path, project: Any) -> Space:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpaceError(f"{path}: no such space file.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpaceError(f"{path}: not a readable JSON space file ({exc}).") from None
    try:
        return parse_space(data, project)
    except SpaceError as exc:
        raise SpaceError(f"{path}: {exc}") from None


def parse_space(data: Any, project: Any) -> Space:
    """Check a space (dict as in SPACE.json) against the project; raises SpaceError naming the key."""
    resolver = SettingResolver(project)
    if not isinstance(data, dict) or not data:
        raise SpaceError("a space is a JSON object mapping settings to ranges, or {\"list\": [...]}.")
    if "list" in data:
        if len(data) != 1:
            raise SpaceError("a queue space holds only \"list\"; put every setting inside its items.")
        items = data["list"]
        if not isinstance(items, list) or not items:
            raise SpaceError("list: give a non-empty list of setting sets, e.g. [{\"training.learning_rate\": 0.01}].")
        queue = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not item:
                raise SpaceError(f"list[{index}]: each item is an object of settings.")
            queue.append({key: _check_value(resolver, key, value) for key, value in item.items()})
        return Space(queue=tuple(queue))
    return Space(dimensions=tuple(_dimension(resolver, key, rule) for key, rule in data.items()))


def _check_value(resolver: SettingResolver, key: str, value: Any) -> Any:
    spec = resolver.spec(key)
    try:
        value = spec.check(value, key)
        if key.startswith("zoo:"):
            # A knob value valid alone can still make no network (ResNet depth 6n+2): build it once.
            from cnnstudio import zoo

            origin = resolver.zoo_origin()
            zoo.create(origin.family, origin.size, origin.channels, origin.classes,
                       **{**origin.knobs, spec.name: value})
    except StudioError as exc:
        raise SpaceError(f"{key}: {exc}" if key not in str(exc) else str(exc)) from None
    return value


def _dimension(resolver: SettingResolver, key: str, rule: Any) -> Dimension:
    spec = resolver.spec(key)
    if not isinstance(rule, dict):
        raise SpaceError(f"{key}: give a range object such as {{\"choices\": [...]}} or "
                         f"{{\"uniform\": [low, high]}}. Received: {rule!r}")
    forms = [name for name in rule if name in FORMS]
    extra = sorted(set(rule) - set(FORMS) - {"step"})
    if len(forms) != 1 or extra:
        raise SpaceError(f"{key}: use exactly one of {', '.join(FORMS)} (plus an optional step). "
                         f"Received: {sorted(rule)}")
    form = forms[0]
    if form == "choices":
        values = rule["choices"]
        if not isinstance(values, list) or not values:
            raise SpaceError(f"{key}: choices must be a non-empty list. Received: {values!r}")
        checked = tuple(_check_value(resolver, key, value) for value in values)
        if len(set(map(_hashable, checked))) != len(checked):
            raise SpaceError(f"{key}: choices repeat a value. Received: {values!r}")
        return Dimension(key, form, values=checked)
    if spec.kind not in ("int", "float") or (form in ("int", "log_int") and spec.kind != "int"):
        wanted = "int or log_int" if spec.kind == "int" else ("uniform or log_uniform" if spec.kind == "float"
                                                              else "choices")
        raise SpaceError(f"{key}: a {spec.kind} setting takes {wanted}, not {form}.")
    bounds = rule[form]
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in bounds)):
        raise SpaceError(f"{key}: {form} takes [low, high] numbers. Received: {bounds!r}")
    low, high = bounds
    if form in ("int", "log_int") and not all(float(v).is_integer() for v in bounds):
        raise SpaceError(f"{key}: {form} bounds must be whole numbers. Received: {bounds!r}")
    if not low < high:
        raise SpaceError(f"{key}: the range's low must be below its high. Received: [{low}, {high}]")
    if form.startswith("log") and low <= 0:
        raise SpaceError(f"{key}: a log range needs a low above 0. Received: [{low}, {high}]")
    for value in (low, high):
        _check_value(resolver, key, int(value) if spec.kind == "int" else float(value))
    step = rule.get("step")
    if step is not None:
        if form.startswith("log"):
            raise SpaceError(f"{key}: a log range takes no step.")
        if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0 or step > high - low:
            raise SpaceError(f"{key}: step must be a number above 0 and at most high - low. Received: {step!r}")
        if spec.kind == "int" and not float(step).is_integer():
            raise SpaceError(f"{key}: an int range takes a whole-number step. Received: {step!r}")
    return Dimension(key, form, low=float(low), high=float(high), step=None if step is None else float(step))


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True)
