"""Parameter specifications: one per field, used to validate values and to generate forms.

A ParamSpec knows its kind, default, range and a one-line help in the tutorial's terms
(F filter size, S stride, P padding, K filters). The inspector, the training settings
form and the project loader all read these, so a field is declared exactly once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cnnstudio.errors import ParameterError

# Kinds a parameter can have. The GUI maps each kind to one editor widget.
KINDS = (
    "int",  # whole number, optional minimum/maximum
    "float",  # real number, optional minimum/maximum
    "bool",
    "choice",  # one of `choices`
    "text",  # free text
    "size",  # F or S: an int, or [h, w]
    "padding",  # P: "same", "valid", an int, or [ph, pw]
    "padding4",  # ZeroPadding/Cropping: int, [ph, pw] or [[top, bottom], [left, right]]
    "shape",  # a list of ints (-1 allowed once), e.g. Reshape's target
    "initializer",  # None (project default) or {"name": ..., **arguments}
    "regularizer",  # None or {"l1": float, "l2": float}
)


# How field names that are abbreviations read as words, for specs without their own `label`.
# Generated forms (training settings, zoo knobs, layer parameters) all title fields through
# ParamSpec.title, so this is the one place where an identifier becomes words.
WORDS = {
    "xla": "XLA compilation",
    "bc": "Bottleneck + compression (BC)",
    "preact": "Pre-activation (v2)",
    "lrn": "Local response normalization (LRN)",
    "fc_units": "FC units",
    "aux_heads": "Auxiliary classifiers",
    "two_tower": "Two towers (2 GPU groups)",
    "se": "Squeeze-and-excitation (SE)",
}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    default: Any
    help: str
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    optional: bool = False  # None is a valid value ("unknown", "project default", ...)
    advanced: bool = False  # shown under "More" in generated forms
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r} for {self.name!r}")

    @property
    def title(self) -> str:
        return self.label or WORDS.get(self.name) or self.name.replace("_", " ").capitalize()

    def check(self, value: Any, where: str = "") -> Any:
        """Return `value` normalised (e.g. 3.0 -> 3 for ints) or raise ParameterError."""
        prefix = f"{where}: " if where else ""
        if value is None:
            if self.optional:
                return None
            raise ParameterError(f"{prefix}'{self.name}' needs a value.", field=self.name)
        checker = _CHECKERS[self.kind]
        try:
            return checker(self, value)
        except ParameterError as exc:
            raise ParameterError(f"{prefix}{exc}", field=self.name) from None


def _bad(spec: ParamSpec, value: Any, expected: str) -> ParameterError:
    return ParameterError(
        f"'{spec.name}' must be {expected}. Received: {spec.name}={value!r}", field=spec.name
    )


def _in_range(spec: ParamSpec, value: float) -> None:
    low, high = spec.minimum, spec.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise _bad(spec, value, f"between {lo} and {hi}")


def _as_int(spec: ParamSpec, value: Any, expected: str = "a whole number") -> int:
    if isinstance(value, bool):
        raise _bad(spec, value, expected)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _bad(spec, value, expected)


def _check_int(spec: ParamSpec, value: Any) -> int:
    number = _as_int(spec, value)
    _in_range(spec, number)
    return number


def _check_float(spec: ParamSpec, value: Any) -> float:
    if isinstance(value, bool):
        raise _bad(spec, value, "a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(spec, value, "a number") from None
    if not math.isfinite(number):
        raise _bad(spec, value, "a finite number")
    _in_range(spec, number)
    return number


def _check_bool(spec: ParamSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.lower() in ("true", "yes", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _bad(spec, value, "true or false")


def _check_choice(spec: ParamSpec, value: Any) -> Any:
    if value in spec.choices:
        return value
    options = ", ".join(str(c) for c in spec.choices)
    raise _bad(spec, value, f"one of {options}")


def _check_text(spec: ParamSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(spec, value, "text")
    return value


def _positive_pair(spec: ParamSpec, value: Any, expected: str) -> int | list[int]:
    if isinstance(value, str) and "x" in value.lower():
        value = [part for part in value.lower().split("x")]
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise _bad(spec, value, expected)
        pair = [_as_int(spec, v, expected) for v in value]
        for v in pair:
            _in_range(spec, v)
        return pair[0] if pair[0] == pair[1] else pair
    number = _as_int(spec, value, expected)
    _in_range(spec, number)
    return number


def _check_size(spec: ParamSpec, value: Any) -> int | list[int]:
    return _positive_pair(spec, value, "a whole number or [height, width]")


def _check_padding(spec: ParamSpec, value: Any) -> str | int | list[int]:
    if isinstance(value, str) and value.lower() in ("same", "valid"):
        return value.lower()
    expected = "'same', 'valid', a whole number P or [P_h, P_w]"
    result = _positive_pair(spec, value, expected)
    for v in result if isinstance(result, list) else [result]:
        if v < 0:
            raise _bad(spec, value, expected + " (not negative)")
    return result


def _check_padding4(spec: ParamSpec, value: Any) -> int | list:
    expected = "a whole number, [rows, cols] or [[top, bottom], [left, right]]"
    if isinstance(value, (list, tuple)) and len(value) == 2:
        if all(isinstance(v, (list, tuple)) for v in value):
            out = []
            for pair in value:
                if len(pair) != 2:
                    raise _bad(spec, value, expected)
                out.append([_as_int(spec, v, expected) for v in pair])
            if any(v < 0 for pair in out for v in pair):
                raise _bad(spec, value, expected + " (not negative)")
            return out
    result = _positive_pair(spec, value, expected)
    for v in result if isinstance(result, list) else [result]:
        if v < 0:
            raise _bad(spec, value, expected + " (not negative)")
    return result


def _check_shape(spec: ParamSpec, value: Any) -> list[int]:
    expected = "a list of whole numbers such as [7, 7, 512] (-1 once at most)"
    if isinstance(value, str):
        value = [v for v in value.replace("x", ",").split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not value:
        raise _bad(spec, value, expected)
    dims = [_as_int(spec, v, expected) for v in value]
    if sum(1 for d in dims if d == -1) > 1 or any(d == 0 or d < -1 for d in dims):
        raise _bad(spec, value, expected)
    return dims


def _check_initializer(spec: ParamSpec, value: Any) -> dict | None:
    from cnnstudio.graph.initializers import check_initializer

    return check_initializer(spec.name, value)


def _check_regularizer(spec: ParamSpec, value: Any) -> dict | None:
    from cnnstudio.graph.initializers import check_regularizer

    return check_regularizer(spec.name, value)


_CHECKERS = {
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "choice": _check_choice,
    "text": _check_text,
    "size": _check_size,
    "padding": _check_padding,
    "padding4": _check_padding4,
    "shape": _check_shape,
    "initializer": _check_initializer,
    "regularizer": _check_regularizer,
}


def pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    """A size or padding value as (height, width)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def padding4(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """ZeroPadding/Cropping value as ((top, bottom), (left, right))."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (list, tuple)) for v in value):
        (t, b), (left, right) = value
        return (int(t), int(b)), (int(left), int(right))
    h, w = pair(value)
    return (h, h), (w, w)
