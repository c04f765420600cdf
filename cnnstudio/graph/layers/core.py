"""Input, Dense, Activation, Dropout, SpatialDropout, Rescaling."""

from __future__ import annotations

from cnnstudio.graph.layer_type import KerasCall, LayerType, LayerTypes, ShapeProblem
from cnnstudio.graph.layers.common import (
    ACTIVATIONS,
    activation_from_keras,
    activation_spec,
    keras_activation,
    keras_fields,
    use_bias_spec,
    weight_specs,
)
from cnnstudio.graph.params import ParamSpec

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register


def _input_shape(inputs, params):
    return (params["height"], params["width"], params["channels"])


def _input_from_keras(class_name, config):
    shape = config.get("batch_shape") or config.get("batch_input_shape") or [None, None, None, 3]
    shape = list(shape)[1:]
    if len(shape) != 3:
        raise ValueError(f"input of rank {len(shape)}; cnnstudio models take H×W×C images")
    return {"height": shape[0], "width": shape[1], "channels": shape[2]}


register(
    LayerType(
        name="Input",
        category="Input",
        label="Input image",
        help="The image entering the network: W×H×D (D=3 for RGB, 1 for grayscale).",
        params=(
            ParamSpec("height", "int", 32, "H, image height in pixels (empty: any size).", minimum=1,
                      maximum=8192, optional=True),
            ParamSpec("width", "int", 32, "W, image width in pixels (empty: any size).", minimum=1,
                      maximum=8192, optional=True),
            ParamSpec("channels", "int", 3, "D, colour channels: 1 grayscale, 3 RGB.", minimum=1,
                      maximum=64),
        ),
        output_shape=_input_shape,
        keras=lambda p: [KerasCall("Input", {"shape": (p["height"], p["width"], p["channels"])})],
        summary=lambda p: f"{p['height'] or '?'}×{p['width'] or '?'}×{p['channels']}",
        min_inputs=0,
        max_inputs=0,
        keras_classes=("InputLayer",),
        from_keras=_input_from_keras,
    ),
    aliases=("image", "inputlayer"),
)


def _dense_shape(inputs, params):
    shape = inputs[0]
    if len(shape) > 1 and not params.get("_allow_nd", True):
        raise ShapeProblem("needs a vector input: add Flatten or global pooling before it.")
    return (*shape[:-1], params["units"])


def _dense_params(inputs, params):
    fan_in = inputs[0][-1]
    if fan_in is None:
        return 0, 0
    units = params["units"]
    return fan_in * units + (units if params["use_bias"] else 0), 0


def _dense_macs(inputs, output, params):
    shape = inputs[0]
    if any(d is None for d in shape):
        return None
    positions = 1
    for d in shape[:-1]:
        positions *= d
    return positions * shape[-1] * params["units"]


DENSE_PARAMS = (
    ParamSpec("units", "int", 10, "Number of output neurons (the number of classes for the last layer).",
              minimum=1, maximum=1_000_000),
    activation_spec(),
    use_bias_spec(),
    *weight_specs(),
)

register(
    LayerType(
        name="Dense",
        category="Dense",
        label="Fully connected",
        help="Every output unit sees every input (FC layer): params = inputs × units + units.",
        params=DENSE_PARAMS,
        **keras_fields("Dense", DENSE_PARAMS, ("kernel",)),
        output_shape=_dense_shape,
        param_count=_dense_params,
        macs=_dense_macs,
        summary=lambda p: f"{p['units']}" + ("" if p["activation"] == "linear" else f", {p['activation']}"),
        weighted=True,
    ),
    aliases=("fc", "fully_connected", "linear"),
)


def _activation_keras(p):
    function = p["function"]
    if function == "leaky_relu":
        return [KerasCall("LeakyReLU", {"negative_slope": p["negative_slope"]})]
    # negative_slope belongs to leaky relu: its 0.3 default must not leak into plain relu.
    if function == "relu" and p["max_value"] is not None:
        return [KerasCall("ReLU", {"max_value": p["max_value"]})]
    if function == "softmax":
        return [KerasCall("Softmax", {})] if p.get("_layer") else [KerasCall("Activation", {"activation": "softmax"})]
    return [KerasCall("Activation", {"activation": keras_activation(function)})]


def _activation_from_keras(class_name, config):
    if class_name == "ReLU":
        max_value = config.get("max_value")
        slope = float(config.get("negative_slope", 0.0) or 0.0)
        if max_value is not None and float(max_value) == 6.0 and not slope and not config.get("threshold"):
            return {"function": "relu6"}
        if slope and max_value is None:
            return {"function": "leaky_relu", "negative_slope": slope}
        return {"function": "relu", "max_value": max_value}
    if class_name == "LeakyReLU":
        slope = config.get("negative_slope", config.get("alpha", 0.3))
        return {"function": "leaky_relu", "negative_slope": slope}
    if class_name == "ELU":
        return {"function": "elu"}
    if class_name == "Softmax":
        return {"function": "softmax"}
    name = activation_from_keras(config.get("activation"))
    raw = config.get("activation")
    if name == "linear" and raw not in (None, "linear"):
        raise ValueError(f"activation {raw!r} is not in the catalogue")
    return {"function": name}


register(
    LayerType(
        name="Activation",
        category="Activation",
        label="Activation",
        help="Applies a non-linearity to every value: relu max(0, x), leaky relu, elu, gelu, "
        "swish x·σ(x), sigmoid, tanh or softmax.",
        params=(
            ParamSpec("function", "choice", "relu", "The non-linearity.", choices=ACTIVATIONS[1:],
                      label="Function"),
            ParamSpec("negative_slope", "float", 0.3, "Slope for x < 0 (leaky relu; 0 for relu).",
                      minimum=0.0, maximum=1.0, advanced=True),
            ParamSpec("max_value", "float", None, "Upper clip for relu (6 gives ReLU6).", optional=True,
                      minimum=0.0, advanced=True),
        ),
        output_shape=lambda inputs, params: inputs[0],
        keras=_activation_keras,
        summary=lambda p: p["function"],
        keras_classes=("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"),
        from_keras=_activation_from_keras,
    ),
    aliases=("relu", "act"),
)

RATE = ParamSpec("rate", "float", 0.5, "Fraction of units set to 0 at each training step (AlexNet used "
                 "0.5); nothing is dropped at inference.", minimum=0.0, maximum=0.99)

register(
    LayerType(
        name="Dropout",
        category="Regularization",
        label="Dropout",
        help="Randomly zeroes units during training so the network cannot rely on any one of them.",
        params=(RATE,),
        **keras_fields("Dropout", (RATE,)),
        output_shape=lambda inputs, params: inputs[0],
        summary=lambda p: f"p={p['rate']:g}",
        keeps_class_scores=True,
    ),
)


def _spatial_dropout_shape(inputs, params):
    if len(inputs[0]) != 3:
        raise ShapeProblem("needs a feature-map H×W×C input; use Dropout on vectors.")
    return inputs[0]


register(
    LayerType(
        name="SpatialDropout",
        category="Regularization",
        label="Spatial dropout",
        help="Drops whole feature maps (channels) instead of single values: better for conv layers.",
        params=(RATE,),
        **keras_fields("SpatialDropout2D", (RATE,)),
        output_shape=_spatial_dropout_shape,
        summary=lambda p: f"p={p['rate']:g}",
        keeps_class_scores=True,
    ),
    aliases=("spatialdropout2d",),
)

register(
    LayerType(
        name="Rescaling",
        category="Reshape",
        label="Rescaling",
        help="Multiplies by scale and adds offset: 1/255 maps pixels to [0, 1].",
        params=(
            ParamSpec("scale", "float", 1 / 255, "Multiplier."),
            ParamSpec("offset", "float", 0.0, "Added after scaling."),
        ),
        output_shape=lambda inputs, params: inputs[0],
        keras=lambda p: [KerasCall("Rescaling", {"scale": p["scale"], "offset": p["offset"]})],
        summary=lambda p: f"×{p['scale']:.4g} + {p['offset']:g}",
        keras_classes=("Rescaling",),
        from_keras=lambda cls, c: {"scale": float(c.get("scale", 1.0)), "offset": float(c.get("offset", 0.0))},
    ),
)
