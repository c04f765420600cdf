"""Parameter specs and Keras kwargs shared by several layer types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cnnstudio.graph.initializers import keras_initializer, keras_regularizer
from cnnstudio.graph.layer_type import KerasCall
from cnnstudio.graph.params import ParamSpec, pair

ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "swish",
    "hard_swish",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softplus",
    "softmax",
)
ACTIVATION_HELP = (
    "Non-linearity applied to the output: relu max(0, x) is the usual choice; "
    "tanh and sigmoid are LeNet's; softmax turns class scores into probabilities."
)


def activation_spec(default: str = "linear") -> ParamSpec:
    return ParamSpec("activation", "choice", default, ACTIVATION_HELP, choices=ACTIVATIONS)


def use_bias_spec(default: bool = True) -> ParamSpec:
    return ParamSpec(
        "use_bias",
        "bool",
        default,
        "Add a learned bias b to each output (off when BatchNorm follows: its β replaces it).",
        label="Bias",
    )


def weight_specs(prefixes: tuple[str, ...] = ("kernel",), bias: bool = True) -> tuple[ParamSpec, ...]:
    """Initializer and L1/L2 regularizer for each weight tensor of a layer."""
    specs: list[ParamSpec] = []
    for prefix in prefixes:
        specs.append(
            ParamSpec(
                f"{prefix}_initializer",
                "initializer",
                None,
                f"How the {prefix.replace('_', ' ')} weights start. Empty: the project default "
                "(He normal suits ReLU networks; Glorot uniform is Keras's default).",
                optional=True,
                advanced=True,
            )
        )
        specs.append(
            ParamSpec(
                f"{prefix}_regularizer",
                "regularizer",
                None,
                f"L1/L2 penalty on the {prefix.replace('_', ' ')} weights: C = C0 + λ1Σ|w| + λ2Σw² "
                "(L2 is weight decay). Empty: the project default.",
                optional=True,
                advanced=True,
            )
        )
    if bias:
        specs.append(
            ParamSpec(
                "bias_initializer",
                "initializer",
                None,
                "How biases start (zeros unless set).",
                optional=True,
                advanced=True,
            )
        )
    return tuple(specs)


def weight_kwargs(params: dict, prefixes: tuple[str, ...] = ("kernel",), bias: bool = True) -> dict:
    out: dict[str, Any] = {}
    for prefix in prefixes:
        init = keras_initializer(params.get(f"{prefix}_initializer"))
        if init is not None:
            out[f"{prefix}_initializer"] = init
        reg = keras_regularizer(params.get(f"{prefix}_regularizer"))
        if reg is not None:
            out[f"{prefix}_regularizer"] = reg
    if bias:
        init = keras_initializer(params.get("bias_initializer"))
        if init is not None:
            out["bias_initializer"] = init
    return out


def weights_from_keras(config: dict, prefixes: tuple[str, ...] = ("kernel",), bias: bool = True) -> dict:
    """Initializer/regularizer params from a Keras layer config (importer)."""
    from cnnstudio.graph.initializers import INITIALIZERS, KERAS_TO_INITIALIZER

    def initializer(value: Any) -> dict | None:
        if not isinstance(value, dict):
            return None
        name = KERAS_TO_INITIALIZER.get(value.get("class_name", ""))
        if name is None:
            return None
        conf = value.get("config") or {}
        out: dict[str, Any] = {"name": name}
        for arg, _, _ in INITIALIZERS[name].arguments:
            if arg in conf:
                out[arg] = conf[arg]
        if name == "variance_scaling":
            out["mode"] = conf.get("mode", "fan_in")
            out["distribution"] = conf.get("distribution", "truncated_normal")
        if conf.get("seed") is not None:
            out["seed"] = conf["seed"]
        return out

    def regularizer(value: Any) -> dict | None:
        if not isinstance(value, dict):
            return None
        conf = value.get("config") or {}
        l1, l2 = float(conf.get("l1", 0.0) or 0.0), float(conf.get("l2", 0.0) or 0.0)
        return {"l1": l1, "l2": l2} if (l1 or l2) else None

    params: dict[str, Any] = {}
    for prefix in prefixes:
        init = initializer(config.get(f"{prefix}_initializer"))
        # Keras's own default stays "project default" so imports stay tidy.
        if init is not None and init != {"name": "glorot_uniform"}:
            params[f"{prefix}_initializer"] = init
        reg = regularizer(config.get(f"{prefix}_regularizer"))
        if reg is not None:
            params[f"{prefix}_regularizer"] = reg
    if bias:
        init = initializer(config.get("bias_initializer"))
        if init is not None and init != {"name": "zeros"}:
            params["bias_initializer"] = init
    return params


def activation_from_keras(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("config", {}).get("name", value.get("class_name", "linear"))
    if value in (None, "", "linear"):
        return "linear"
    value = {"silu": "swish", "hard_silu": "hard_swish"}.get(value, value)
    return value if value in ACTIVATIONS else "linear"


def keras_activation(name: str) -> str:
    return {"hard_swish": "hard_silu"}.get(name, name)


def explicit_padding(padding: Any) -> tuple[list[KerasCall], str]:
    """Keras calls before a layer with padding P, and the padding that layer then takes.

    Keras layers only know 'valid' and 'same': an explicit P becomes a ZeroPadding2D
    (node name + "_pad") before a 'valid' layer. The importer folds it back (see
    modeling/importer.py), for every type with a "padding"-kind parameter.
    """
    if isinstance(padding, str):
        return [], padding
    ph, pw = pair(padding)
    if ph == 0 and pw == 0:
        return [], "valid"
    return [KerasCall("ZeroPadding2D", {"padding": (ph, pw)}, suffix="_pad")], "valid"


_WEIGHT_KINDS = ("initializer", "regularizer")


def same_name_kwargs(params: dict, specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """Keras keywords for the parameters named like Keras's own: sizes as (h, w) pairs,
    activations by their Keras name. Weight initializers/regularizers: see weight_kwargs."""
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.kind in _WEIGHT_KINDS:
            continue
        value = params[spec.name]
        if spec.kind == "size":
            value = pair(value)
        elif spec.name == "activation":
            value = keras_activation(value)
        out[spec.name] = value
    return out


def same_name_params(config: dict, specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """The reverse of same_name_kwargs: parameters from a Keras layer config (importer)."""
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.kind in _WEIGHT_KINDS:
            continue
        value = config.get(spec.name, spec.default)
        if spec.kind == "size" and isinstance(value, (list, tuple)):
            value = list(value)
        elif spec.name == "activation":
            value = activation_from_keras(value)
        out[spec.name] = value
    return out


def keras_fields(
    class_name: str,
    specs: tuple[ParamSpec, ...],
    weights: tuple[str, ...] = (),
    bias: bool = True,
    custom: bool = False,
) -> dict[str, Any]:
    """A LayerType's Keras fields (keras, from_keras, keras_classes) for a layer whose
    parameters all carry Keras's keyword names:
    `LayerType(..., params=SPECS, **keras_fields("Conv2D", SPECS, ("kernel",)))`.

    `weights` names the weight tensors ("kernel", "depthwise", ...) whose initializer and
    regularizer fields map through weight_kwargs; a "padding"-kind P becomes a ZeroPadding2D
    before a 'valid' layer (explicit_padding).
    """
    padded = any(spec.kind == "padding" for spec in specs)
    weighted = bool(weights)

    def to_keras(params: dict) -> list[KerasCall]:
        kwargs = same_name_kwargs(params, specs)
        pre: list[KerasCall] = []
        if padded:
            pre, kwargs["padding"] = explicit_padding(params["padding"])
        if weighted:
            kwargs.update(weight_kwargs(params, weights, bias))
        return [*pre, KerasCall(class_name, kwargs, custom=custom)]

    def from_keras(keras_class: str, config: dict) -> dict:
        params = same_name_params(config, specs)
        if weighted:
            params.update(weights_from_keras(config, weights, bias))
        return params

    return {"keras": to_keras, "from_keras": from_keras, "keras_classes": (class_name,)}
