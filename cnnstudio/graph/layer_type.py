"""What a layer type is: LayerType, KerasCall, Geometry, and the shape arithmetic they share.

The catalogue (catalogue.py) is only the registry of these; the entries live in
graph/layers/. No TensorFlow or Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cnnstudio.errors import ParameterError
from cnnstudio.graph.params import ParamSpec, pair

Shape = tuple[int | None, ...]  # without the batch axis; None = unknown size

CATEGORIES = (
    "Input",
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation",
    "Regularization",
    "Dense",
    "Merge",
    "Reshape",
)


class ShapeProblem(Exception):
    """Raised by a shape rule; the analysis prefixes the node and makes a diagnostic."""


@dataclass(frozen=True)
class KerasCall:
    """One Keras layer to create: `keras.layers.<class_name>(**kwargs)`.

    `suffix` is appended to the node name for helper layers (e.g. "_pad" for the
    ZeroPadding2D that explicit padding P turns into); the main layer has suffix "".
    `custom` marks cnnstudio's own serializable layers (LRN, L2 pooling).
    """

    class_name: str
    kwargs: dict[str, Any]
    suffix: str = ""
    custom: bool = False


@dataclass(frozen=True)
class Geometry:
    """How a layer moves the receptive field: kernel size, stride, dilation per axis."""

    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    is_global: bool = False


def _no_params(inputs: list[Shape], params: dict) -> tuple[int, int]:
    return 0, 0


def _no_macs(inputs: list[Shape], output: Shape, params: dict) -> int | None:
    return 0


@dataclass(frozen=True)
class LayerType:
    name: str
    category: str
    label: str
    help: str
    params: tuple[ParamSpec, ...]
    output_shape: Callable[[list[Shape], dict], Shape]
    keras: Callable[[dict], list[KerasCall]]
    param_count: Callable[[list[Shape], dict], tuple[int, int]] = _no_params
    macs: Callable[[list[Shape], Shape, dict], int | None] = _no_macs
    geometry: Callable[[dict], Geometry] | None = None  # None: spatially pointwise
    summary: Callable[[dict], str] = lambda params: ""
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number
    # Importer: Keras class names this type reads, and config -> params.
    keras_classes: tuple[str, ...] = ()
    from_keras: Callable[[str, dict], dict] | None = None
    weighted: bool = False
    # Passes a classifier's scores on without changing what they mean (dropout, flatten,
    # identity): read by class adaptation, fine-tuning and the logits/softmax check.
    keeps_class_scores: bool = False
    aliases: tuple[str, ...] = ()  # other names `catalogue.get` accepts (lower case)
    extra: dict[str, Any] = field(default_factory=dict)

    def spec(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.params}

    def with_weight_defaults(self, params: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
        """`params` with empty initializer/regularizer fields set from project-wide defaults.

        `defaults` may hold "initializer" and "regularizer"; biases keep their own default.
        """
        out = dict(params)
        if not self.weighted or not defaults:
            return out
        for spec in self.params:
            if out.get(spec.name) is not None:
                continue
            if spec.kind == "initializer" and spec.name != "bias_initializer":
                out[spec.name] = defaults.get("initializer")
            elif spec.kind == "regularizer":
                out[spec.name] = defaults.get("regularizer")
        return out

    def check_params(self, params: dict[str, Any], node: str = "") -> dict[str, Any]:
        """All parameters, defaults filled in, each checked; raises ParameterError."""
        where = f"{self.name} '{node}'" if node else self.name
        known = {spec.name for spec in self.params}
        for key in params:
            if key not in known:
                raise ParameterError(
                    f"{where} has no parameter {key!r}; it takes {', '.join(sorted(known))}.",
                    node=node or None,
                    field=key,
                )
        out = {}
        for spec in self.params:
            value = params.get(spec.name, spec.default)
            try:
                out[spec.name] = spec.check(value, where)
            except ParameterError as exc:
                raise ParameterError(str(exc), node=node or None, field=spec.name) from None
        return out


# ---- spatial arithmetic shared by convolution and pooling rules -------------------------


def spatial_out(
    size: int | None, kernel: int, stride: int, padding: Any, dilation: int = 1
) -> int | None:
    """Output length along one axis, exactly as Keras computes it.

    W' = (W - F_eff + 2P)/S + 1 floored, with F_eff = d(F - 1) + 1; 'same' gives ceil(W/S).
    """
    if size is None:
        return None
    effective = dilation * (kernel - 1) + 1
    if padding == "same":
        return math.ceil(size / stride)
    total_pad = 0 if padding == "valid" else 2 * int(padding)
    span = size + total_pad - effective
    if span < 0:
        return 0
    return span // stride + 1


def padding_per_axis(padding: Any) -> tuple[Any, Any]:
    """A layer's padding P ('same', 'valid', n or [ph, pw]) as (height, width) values."""
    if isinstance(padding, str):
        return padding, padding
    return pair(padding)


def dropped_image_rows(size: int | None, kernel: int, stride: int, padding: Any, dilation: int = 1) -> int:
    """Image rows (or columns) at the end that no window reaches because Keras floors
    (W - F + 2P)/S, beyond what the layer's regular sampling skips anyway.

    The floor leaves out the last r = (W - F + 2P) mod S rows of the padded input. The last P
    of them are padding, and when S > F every step already skips S - F rows, so only the rest
    is lost image. ResNet's 7×7/2 stem on 224 with P=3 leaves out one padding row and a 1×1/2
    projection on 56 skips its usual row: nothing lost. 5×5/2 'valid' on 32 loses one row.
    """
    if size is None or padding == "same" or stride == 1:
        return 0
    effective = dilation * (kernel - 1) + 1
    pad = 0 if padding == "valid" else int(padding)
    span = size + 2 * pad - effective
    if span < 0:
        return 0
    return max(0, span % stride - pad - max(0, stride - effective))


def need_rank(inputs: list[Shape], rank: int, what: str) -> Shape:
    shape = inputs[0]
    if len(shape) != rank:
        dims = "×".join("?" if d is None else str(d) for d in shape)
        raise ShapeProblem(
            f"needs a {what} input (rank {rank}), but receives {dims}: "
            "add a Flatten or Reshape before it, or remove the layer."
        )
    return shape


def product(dims: Any) -> int | None:
    total = 1
    for d in dims:
        if d is None:
            return None
        total *= d
    return total


def format_shape(shape: Shape | None) -> str:
    if shape is None:
        return "—"
    return "×".join("?" if d is None else str(d) for d in shape)


class LayerTypes(list):
    """The entries one module of graph/layers/ declares; the catalogue registers them."""

    def register(self, layer_type: LayerType, aliases: tuple[str, ...] = ()) -> LayerType:
        if aliases:
            layer_type = replace(layer_type, aliases=tuple(aliases))
        self.append(layer_type)
        return layer_type
