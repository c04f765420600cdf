"""One line of text <-> one space rule, for the Experiments section's "vary" fields. Pure.

    "0, 10, 20"             -> {"choices": [0, 10, 20]}
    "1e-4 .. 1e-1 log"      -> {"log_uniform": [1e-4, 1e-1]}   (log_int for int fields)
    "0 .. 0.5"              -> {"uniform": [0, 0.5]}
    "4 .. 16 step 4"        -> {"int": [4, 16], "step": 4}
"""

from __future__ import annotations

import json
import re
from typing import Any

from cnnstudio.experiments.space import SpaceError
from cnnstudio.graph.params import ParamSpec

_RANGE = re.compile(r"^\s*(?P<low>\S+)\s*\.\.\s*(?P<high>[^\s]+)\s*(?P<rest>.*)$")


def rule_from_text(spec: ParamSpec, key: str, text: str) -> dict[str, Any]:
    """The space rule a line of text means for `spec` (raises SpaceError naming `key`)."""
    match = _RANGE.match(text)
    if match and spec.kind in ("int", "float"):
        low, high = _number(spec, key, match.group("low")), _number(spec, key, match.group("high"))
        words = match.group("rest").split()
        log = "log" in words
        step = None
        if "step" in words:
            index = words.index("step")
            if index + 1 >= len(words):
                raise SpaceError(f"{key}: write the step after 'step', e.g. '4 .. 16 step 4'.")
            step = _number(spec, key, words[index + 1])
        if spec.kind == "int":
            rule: dict[str, Any] = {"log_int" if log else "int": [low, high]}
        else:
            rule = {"log_uniform" if log else "uniform": [low, high]}
        if step is not None:
            rule["step"] = step
        return rule
    values = [part.strip() for part in _split(text) if part.strip()]
    if not values:
        raise SpaceError(f"{key}: give values separated by commas, or a range 'low .. high'.")
    return {"choices": [_value(spec, key, value) for value in values]}


def text_from_rule(rule: dict[str, Any]) -> str:
    if "choices" in rule:
        return ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in rule["choices"])
    form = next(name for name in ("uniform", "log_uniform", "int", "log_int") if name in rule)
    low, high = rule[form]
    text = f"{low:g} .. {high:g}" + (" log" if form.startswith("log") else "")
    return text + (f" step {rule['step']:g}" if rule.get("step") is not None else "")


def suggested_text(spec: ParamSpec, current: Any) -> str:
    """What a field's values start as when "vary" is switched on."""
    if spec.kind == "choice":
        return ", ".join(str(c) for c in spec.choices)
    if spec.kind == "bool":
        return "true, false"
    if spec.kind == "int" and isinstance(current, int):
        return f"{current}, {current * 2}" if current else "0, 1"
    if spec.kind == "float" and isinstance(current, int | float):
        top = spec.maximum if spec.maximum is not None else max(float(current) * 10, 1.0)
        if current and current > 0:
            low, high = float(current) / 10, min(float(current) * 10, top)
            if spec.minimum is not None:
                low = max(low, spec.minimum)
            return f"{low:g} .. {high:g} log"
        return f"0 .. {min(top, 1.0):g}"
    return json.dumps(current)


def _split(text: str) -> list[str]:
    """Commas split values, except inside brackets ([3, 5] is one kernel size)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _number(spec: ParamSpec, key: str, text: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise SpaceError(f"{key}: {text!r} is not a number.") from None
    return int(value) if spec.kind == "int" and value.is_integer() else value


def _value(spec: ParamSpec, key: str, text: str) -> Any:
    if spec.kind in ("choice", "text") and not text.startswith(("[", "{", '"')):
        for choice in spec.choices:
            if str(choice) == text:
                return choice
        return text
    if spec.kind == "bool" and text.lower() in ("true", "false", "on", "off", "yes", "no"):
        return text.lower() in ("true", "on", "yes")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise SpaceError(f"{key}: {text!r} is not a value this field takes.") from None
