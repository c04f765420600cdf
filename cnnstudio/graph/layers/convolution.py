"""Convolutions: Conv2D, DepthwiseConv2D, SeparableConv2D."""

from __future__ import annotations

from cnnstudio.graph.layer_type import (
    Geometry,
    LayerType,
    LayerTypes,
    ShapeProblem,
    need_rank,
    padding_per_axis,
    spatial_out,
)
from cnnstudio.graph.layers.common import (
    activation_spec,
    keras_fields,
    use_bias_spec,
    weight_specs,
)
from cnnstudio.graph.params import ParamSpec, pair

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register

FILTER_SIZE = ParamSpec(
    "kernel_size",
    "size",
    3,
    "F, the filter size: each output looks at an F×F window of its input.",
    label="Filter size F",
    minimum=1,
    maximum=64,
)
STRIDE = ParamSpec(
    "strides",
    "size",
    1,
    "S, the step between windows: W' = (W − F + 2P)/S + 1, so S=2 halves the map.",
    label="Stride S",
    minimum=1,
    maximum=32,
)
PADDING = ParamSpec(
    "padding",
    "padding",
    "valid",
    "P, zeros added on each border: a number, 'valid' (P=0) or 'same' (keeps W/S).",
    label="Padding P",
    minimum=0,
    maximum=64,
)
DILATION = ParamSpec(
    "dilation_rate",
    "size",
    1,
    "Gaps between filter taps: the effective filter size is d(F − 1) + 1.",
    label="Dilation",
    minimum=1,
    maximum=32,
    advanced=True,
)

WINDOW = (FILTER_SIZE, STRIDE, PADDING)


def _filters(help_text: str) -> ParamSpec:
    return ParamSpec("filters", "int", 32, help_text, label="Filters K", minimum=1, maximum=65536)


def _spatial(inputs, params, kernel_key="kernel_size"):
    h, w, c = need_rank(inputs, 3, "feature-map H×W×C")
    fh, fw = pair(params[kernel_key])
    sh, sw = pair(params["strides"])
    dh, dw = pair(params.get("dilation_rate", 1))
    ph, pw = padding_per_axis(params["padding"])
    out_h = spatial_out(h, fh, sh, ph, dh)
    out_w = spatial_out(w, fw, sw, pw, dw)
    if (out_h is not None and out_h <= 0) or (out_w is not None and out_w <= 0):
        fmt = lambda v: "?" if v is None else str(v)  # noqa: E731
        raise ShapeProblem(
            f"makes its output {fmt(out_h)}×{fmt(out_w)} from a {fmt(h)}×{fmt(w)} input: "
            "reduce the stride or the filter size, or add padding."
        )
    return out_h, out_w, c


def _geometry(params) -> Geometry:
    return Geometry(
        kernel=pair(params["kernel_size"]),
        stride=pair(params["strides"]),
        dilation=pair(params.get("dilation_rate", 1)),
    )


def _summary(params, filters_key: str | None = "filters") -> str:
    fh, fw = pair(params["kernel_size"])
    size = f"{fh}×{fw}" if fh != fw else f"{fh}×{fh}"
    sh, sw = pair(params["strides"])
    stride = f"S{sh}" if sh == sw else f"S{sh}×{sw}"
    padding = params["padding"]
    pad = (
        padding
        if isinstance(padding, str)
        else (
            "P"
            + (
                "×".join(map(str, pair(padding)))
                if pair(padding)[0] != pair(padding)[1]
                else str(pair(padding)[0])
            )
        )
    )
    parts = [size]
    if filters_key:
        parts.append(str(params[filters_key]))
    if params.get("groups", 1) > 1:
        parts.append(f"G={params['groups']}")
    parts.append(f"{stride} {pad}")
    return ", ".join(parts)


# ---- Conv2D -----------------------------------------------------------------------------


def _conv_shape(inputs, params):
    h, w, c = _spatial(inputs, params)
    groups = params["groups"]
    if c is not None and c % groups:
        raise ShapeProblem(
            f"has groups={groups} but its input has {c} channels: channels must divide evenly "
            "into the groups (change groups or the previous layer's filters)."
        )
    if params["filters"] % groups:
        raise ShapeProblem(
            f"has groups={groups} but K={params['filters']} filters: K must be a multiple of groups."
        )
    return h, w, params["filters"]


def _conv_params(inputs, params):
    c = inputs[0][-1]
    if c is None:
        return 0, 0
    fh, fw = pair(params["kernel_size"])
    k = params["filters"]
    weights = fh * fw * (c // params["groups"]) * k
    return weights + (k if params["use_bias"] else 0), 0


def _conv_macs(inputs, output, params):
    h, w, k = output
    c = inputs[0][-1]
    if None in (h, w, c):
        return None
    fh, fw = pair(params["kernel_size"])
    return h * w * k * fh * fw * (c // params["groups"])


CONV_PARAMS = (
    _filters("K, the number of filters: the depth of the output (D' = K)."),
    *WINDOW,
    activation_spec(),
    use_bias_spec(),
    ParamSpec(
        "groups",
        "int",
        1,
        "Split channels into G groups convolved separately (ResNeXt's cardinality); "
        "parameters fall by G.",
        label="Groups G",
        minimum=1,
        maximum=4096,
        advanced=True,
    ),
    DILATION,
    *weight_specs(),
)


register(
    LayerType(
        name="Conv2D",
        category="Convolution",
        label="Convolution",
        help="K filters of size F×F slide over the input with stride S and padding P; "
        "output W' = (W − F + 2P)/S + 1, depth D' = K.",
        params=CONV_PARAMS,
        **keras_fields("Conv2D", CONV_PARAMS, ("kernel",)),
        output_shape=_conv_shape,
        param_count=_conv_params,
        macs=_conv_macs,
        geometry=_geometry,
        summary=_summary,
        weighted=True,
    ),
    aliases=("conv", "convolution", "conv2d"),
)

# ---- DepthwiseConv2D --------------------------------------------------------------------


def _depthwise_shape(inputs, params):
    h, w, c = _spatial(inputs, params)
    return h, w, None if c is None else c * params["depth_multiplier"]


def _depthwise_params(inputs, params):
    c = inputs[0][-1]
    if c is None:
        return 0, 0
    fh, fw = pair(params["kernel_size"])
    out = c * params["depth_multiplier"]
    return fh * fw * out + (out if params["use_bias"] else 0), 0


def _depthwise_macs(inputs, output, params):
    h, w, out = output
    if None in (h, w, out):
        return None
    fh, fw = pair(params["kernel_size"])
    return h * w * out * fh * fw


DEPTH_MULTIPLIER = ParamSpec(
    "depth_multiplier",
    "int",
    1,
    "Filters per input channel: each channel gets its own F×F filters (no mixing across channels).",
    minimum=1,
    maximum=64,
)

DEPTHWISE_PARAMS = (
    *WINDOW,
    DEPTH_MULTIPLIER,
    activation_spec(),
    use_bias_spec(),
    DILATION,
    *weight_specs(("depthwise",)),
)

register(
    LayerType(
        name="DepthwiseConv2D",
        category="Convolution",
        label="Depthwise convolution",
        help="One F×F filter per input channel, no mixing across channels (MobileNet's building block).",
        params=DEPTHWISE_PARAMS,
        **keras_fields("DepthwiseConv2D", DEPTHWISE_PARAMS, ("depthwise",)),
        output_shape=_depthwise_shape,
        param_count=_depthwise_params,
        macs=_depthwise_macs,
        geometry=_geometry,
        summary=lambda p: _summary(p, None),
        weighted=True,
    ),
    aliases=("depthwise",),
)

# ---- SeparableConv2D --------------------------------------------------------------------


def _separable_shape(inputs, params):
    h, w, _ = _spatial(inputs, params)
    return h, w, params["filters"]


def _separable_params(inputs, params):
    c = inputs[0][-1]
    if c is None:
        return 0, 0
    fh, fw = pair(params["kernel_size"])
    mid = c * params["depth_multiplier"]
    k = params["filters"]
    return fh * fw * mid + mid * k + (k if params["use_bias"] else 0), 0


def _separable_macs(inputs, output, params):
    h, w, k = output
    c = inputs[0][-1]
    if None in (h, w, c):
        return None
    fh, fw = pair(params["kernel_size"])
    mid = c * params["depth_multiplier"]
    return h * w * mid * fh * fw + h * w * mid * k


SEPARABLE_PARAMS = (
    _filters("K, filters of the 1×1 pointwise step."),
    *WINDOW,
    DEPTH_MULTIPLIER,
    activation_spec(),
    use_bias_spec(),
    DILATION,
    *weight_specs(("depthwise", "pointwise")),
)

register(
    LayerType(
        name="SeparableConv2D",
        category="Convolution",
        label="Separable convolution",
        help="A depthwise F×F convolution followed by a 1×1 convolution to K filters (Xception).",
        params=SEPARABLE_PARAMS,
        **keras_fields("SeparableConv2D", SEPARABLE_PARAMS, ("depthwise", "pointwise")),
        output_shape=_separable_shape,
        param_count=_separable_params,
        macs=_separable_macs,
        geometry=_geometry,
        summary=_summary,
        weighted=True,
    ),
    aliases=("separable",),
)
