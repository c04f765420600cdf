"""Pooling: max, average, L2-norm (windowed) and global average/max."""

from __future__ import annotations

from cnnstudio.graph.layer_type import (
    Geometry,
    KerasCall,
    LayerType,
    LayerTypes,
    ShapeProblem,
    need_rank,
    padding_per_axis,
    spatial_out,
)
from cnnstudio.graph.layers.common import explicit_padding
from cnnstudio.graph.params import ParamSpec, pair

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register

POOL_SIZE = ParamSpec(
    "pool_size",
    "size",
    2,
    "F, the window each output summarises (2×2 halves the map with S=2).",
    label="Window F",
    minimum=1,
    maximum=64,
)
POOL_STRIDE = ParamSpec(
    "strides",
    "size",
    2,
    "S, the step between windows: W' = (W − F + 2P)/S + 1.",
    label="Stride S",
    minimum=1,
    maximum=64,
)
POOL_PADDING = ParamSpec(
    "padding",
    "padding",
    "valid",
    "P: 'valid' (no padding), 'same' (output W/S) or a number of zero rows/columns.",
    label="Padding P",
    minimum=0,
    maximum=64,
)


def _pool_shape(inputs, params):
    h, w, c = need_rank(inputs, 3, "feature-map H×W×C")
    fh, fw = pair(params["pool_size"])
    sh, sw = pair(params["strides"])
    ph, pw = padding_per_axis(params["padding"])
    out_h, out_w = spatial_out(h, fh, sh, ph), spatial_out(w, fw, sw, pw)
    if (out_h is not None and out_h <= 0) or (out_w is not None and out_w <= 0):
        raise ShapeProblem(
            f"has a {fh}×{fw} window but its input is only "
            f"{'?' if h is None else h}×{'?' if w is None else w}: use a smaller window "
            "or remove the pooling."
        )
    return out_h, out_w, c


def _pool_geometry(params):
    return Geometry(kernel=pair(params["pool_size"]), stride=pair(params["strides"]))


def _pool_keras(keras_class: str, custom: bool = False):
    def build(params):
        pre, padding = explicit_padding(params["padding"])
        kwargs = {
            "pool_size": pair(params["pool_size"]),
            "strides": pair(params["strides"]),
            "padding": padding,
        }
        return [*pre, KerasCall(keras_class, kwargs, custom=custom)]

    return build


def _pool_from_keras(class_name, config):
    size = list(config.get("pool_size", (2, 2)))
    strides = config.get("strides") or size
    return {"pool_size": size, "strides": list(strides), "padding": config.get("padding", "valid")}


def _pool_summary(params):
    fh, fw = pair(params["pool_size"])
    sh, sw = pair(params["strides"])
    padding = params["padding"]
    pad = padding if isinstance(padding, str) else f"P{pair(padding)[0]}"
    return f"{fh}×{fw}, S{sh if sh == sw else f'{sh}×{sw}'} {pad}"


for name, label, help_text, keras_class, custom, aliases in (
    (
        "MaxPool2D",
        "Max pooling",
        "Keeps the largest value of each F×F window: downsamples and adds a little translation invariance.",
        "MaxPooling2D",
        False,
        ("maxpool", "max_pool", "maxpooling2d"),
    ),
    (
        "AvgPool2D",
        "Average pooling",
        "Averages each F×F window (LeNet's subsampling, DenseNet's transitions).",
        "AveragePooling2D",
        False,
        ("avgpool", "avg_pool", "averagepooling2d"),
    ),
    (
        "L2Pool2D",
        "L2-norm pooling",
        "Square root of the sum of squares in each F×F window (the tutorial's third pooling; "
        "a cnnstudio layer, as Keras has none).",
        "L2Pooling2D",
        True,
        ("l2pool", "l2_pool"),
    ),
):
    register(
        LayerType(
            name=name,
            category="Pooling",
            label=label,
            help=help_text,
            params=(POOL_SIZE, POOL_STRIDE, POOL_PADDING),
            output_shape=_pool_shape,
            geometry=_pool_geometry,
            keras=_pool_keras(keras_class, custom),
            summary=_pool_summary,
            keras_classes=(keras_class,),
            from_keras=_pool_from_keras,
        ),
        aliases=aliases,
    )


KEEPDIMS = ParamSpec(
    "keepdims",
    "bool",
    False,
    "Keep a 1×1×C map instead of a C vector (needed before 1×1 convolutions, as in SE blocks).",
    advanced=True,
)


def _global_shape(inputs, params):
    _, _, c = need_rank(inputs, 3, "feature-map H×W×C")
    return (1, 1, c) if params["keepdims"] else (c,)


def _global_keras(keras_class):
    return lambda params: [KerasCall(keras_class, {"keepdims": params["keepdims"]})]


for name, label, help_text, keras_class, aliases in (
    (
        "GlobalAvgPool2D",
        "Global average pooling",
        "Averages each whole feature map to one number per channel (NiN, GoogLeNet, ResNet: "
        "replaces the big FC layers).",
        "GlobalAveragePooling2D",
        ("gap", "globalaveragepooling2d"),
    ),
    (
        "GlobalMaxPool2D",
        "Global max pooling",
        "Keeps the largest value of each whole feature map, one per channel.",
        "GlobalMaxPooling2D",
        ("gmp", "globalmaxpooling2d"),
    ),
):
    register(
        LayerType(
            name=name,
            category="Pooling",
            label=label,
            help=help_text,
            params=(KEEPDIMS,),
            output_shape=_global_shape,
            geometry=lambda params: Geometry(is_global=True),
            keras=_global_keras(keras_class),
            summary=lambda params: "global",
            keras_classes=(keras_class,),
            from_keras=lambda class_name, config: {"keepdims": bool(config.get("keepdims", False))},
        ),
        aliases=aliases,
    )
