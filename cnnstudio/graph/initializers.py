"""Weight initializers and L1/L2 regularizers, in the tutorial's terms.

A node's `kernel_initializer` is None (use the project default, else Keras's own default)
or a dict `{"name": "he_normal", **arguments}`. A regularizer is None or
`{"l1": λ1, "l2": λ2}`: C = C0 + λ1 Σ|w| + λ2 Σw² as Keras adds it to the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnnstudio.errors import ParameterError


@dataclass(frozen=True)
class InitializerType:
    name: str
    keras_class: str
    label: str
    help: str
    arguments: tuple[tuple[str, float, str], ...] = ()  # (name, default, help)


INITIALIZERS: dict[str, InitializerType] = {
    item.name: item
    for item in (
        InitializerType(
            "random_normal",
            "RandomNormal",
            "Random normal",
            "Draws weights from N(mean, stddev²).",
            (("mean", 0.0, "Mean of the normal."), ("stddev", 0.05, "Standard deviation.")),
        ),
        InitializerType(
            "random_uniform",
            "RandomUniform",
            "Random uniform",
            "Draws weights uniformly from [minval, maxval].",
            (("minval", -0.05, "Lower bound."), ("maxval", 0.05, "Upper bound.")),
        ),
        InitializerType(
            "lecun_uniform",
            "LecunUniform",
            "LeCun uniform",
            "Uniform in [-limit, limit], limit = sqrt(3 / fan_in).",
        ),
        InitializerType(
            "lecun_normal",
            "LecunNormal",
            "LeCun normal",
            "Truncated normal with stddev = sqrt(1 / fan_in).",
        ),
        InitializerType(
            "glorot_normal",
            "GlorotNormal",
            "Glorot (Xavier) normal",
            "Truncated normal with stddev = sqrt(2 / (fan_in + fan_out)).",
        ),
        InitializerType(
            "glorot_uniform",
            "GlorotUniform",
            "Glorot (Xavier) uniform",
            "Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)). Keras's default.",
        ),
        InitializerType(
            "he_normal",
            "HeNormal",
            "He normal",
            "Truncated normal with stddev = sqrt(2 / fan_in); the usual choice before ReLU.",
        ),
        InitializerType(
            "he_uniform",
            "HeUniform",
            "He uniform",
            "Uniform in [-limit, limit], limit = sqrt(6 / fan_in).",
        ),
        InitializerType(
            "variance_scaling",
            "VarianceScaling",
            "Variance scaling",
            "Normal or uniform scaled by fan; generalises He/Glorot/LeCun (used by imports).",
            (("scale", 1.0, "Scaling factor."),),
        ),
        InitializerType(
            "orthogonal",
            "Orthogonal",
            "Orthogonal",
            "A random orthogonal matrix multiplied by gain.",
            (("gain", 1.0, "Multiplicative factor."),),
        ),
        InitializerType("zeros", "Zeros", "Zeros", "All weights 0 (biases, BN beta)."),
        InitializerType("ones", "Ones", "Ones", "All weights 1 (BN gamma)."),
        InitializerType(
            "constant",
            "Constant",
            "Constant",
            "All weights equal to value.",
            (("value", 0.0, "The constant."),),
        ),
    )
}

# Keras class name (and its snake_case alias) -> our name, for the importer.
KERAS_TO_INITIALIZER = {item.keras_class: item.name for item in INITIALIZERS.values()}
# variance_scaling has string-only keras args (mode, distribution) we keep verbatim.
_TEXT_ARGUMENTS = {"variance_scaling": {"mode": "fan_in", "distribution": "truncated_normal"}}


def check_initializer(field: str, value: Any) -> dict | None:
    if value is None or value == "default":
        return None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or value.get("name") not in INITIALIZERS:
        names = ", ".join(INITIALIZERS)
        raise ParameterError(
            f"'{field}' must be one of {names} (or empty for the project default). "
            f"Received: {field}={value!r}",
            field=field,
        )
    kind = INITIALIZERS[value["name"]]
    out: dict[str, Any] = {"name": kind.name}
    known = {name for name, _, _ in kind.arguments} | set(_TEXT_ARGUMENTS.get(kind.name, {}))
    for key in value:
        if key not in known and key not in ("name", "seed"):
            raise ParameterError(
                f"'{field}': {kind.label} takes no argument {key!r}. Received: {value!r}",
                field=field,
            )
    for name, default, _ in kind.arguments:
        raw = value.get(name, default)
        try:
            out[name] = float(raw)
        except (TypeError, ValueError):
            raise ParameterError(
                f"'{field}': argument {name!r} must be a number. Received: {name}={raw!r}",
                field=field,
            ) from None
    for name, default in _TEXT_ARGUMENTS.get(kind.name, {}).items():
        out[name] = str(value.get(name, default))
    if value.get("seed") is not None:
        try:
            out["seed"] = int(value["seed"])
        except (TypeError, ValueError):
            raise ParameterError(
                f"'{field}': seed must be a whole number. Received: seed={value['seed']!r}",
                field=field,
            ) from None
    if kind.name == "random_normal" and out["stddev"] <= 0:
        raise ParameterError(f"'{field}': stddev must be > 0. Received: {out['stddev']}", field=field)
    if kind.name == "random_uniform" and out["minval"] >= out["maxval"]:
        raise ParameterError(f"'{field}': minval must be below maxval. Received: {value!r}", field=field)
    return out


def check_regularizer(field: str, value: Any) -> dict | None:
    if value is None or value == {} or value == "none":
        return None
    if not isinstance(value, dict) or set(value) - {"l1", "l2"}:
        raise ParameterError(
            f"'{field}' must look like {{\"l1\": 0.0, \"l2\": 5e-4}}. Received: {field}={value!r}",
            field=field,
        )
    out = {}
    for key in ("l1", "l2"):
        try:
            number = float(value.get(key, 0.0))
        except (TypeError, ValueError):
            raise ParameterError(
                f"'{field}': {key} must be a number. Received: {key}={value.get(key)!r}",
                field=field,
            ) from None
        if number < 0 or number != number:
            raise ParameterError(f"'{field}': {key} must be >= 0. Received: {number}", field=field)
        out[key] = number
    if out["l1"] == 0 and out["l2"] == 0:
        return None
    return out


def keras_initializer(value: dict | None) -> dict | None:
    """Keras serialisation ({"class_name", "config"}) of a checked initializer value."""
    if value is None:
        return None
    kind = INITIALIZERS[value["name"]]
    config = {k: v for k, v in value.items() if k != "name"}
    return {"class_name": kind.keras_class, "config": config}


def keras_regularizer(value: dict | None) -> dict | None:
    if value is None:
        return None
    return {"class_name": "L1L2", "config": {"l1": value["l1"], "l2": value["l2"]}}
