"""Layer types that imported Keras models need: Identity and Normalization (preprocessing)."""

from __future__ import annotations

from cnnstudio.graph.layer_type import KerasCall, LayerType, LayerTypes, ShapeProblem
from cnnstudio.graph.params import ParamSpec

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register

register(
    LayerType(
        name="Identity",
        category="Reshape",
        label="Identity",
        help="Passes its input through unchanged (a placeholder, e.g. where stochastic depth is off).",
        params=(),
        output_shape=lambda inputs, params: inputs[0],
        keras=lambda p: [KerasCall("Identity", {})],
        keras_classes=("Identity",),
        keeps_class_scores=True,
        from_keras=lambda cls, c: {},
    ),
)


def parse_numbers(text: str, field: str) -> list[float] | None:
    """'0.485, 0.456, 0.406' -> [0.485, 0.456, 0.406]; '' -> None."""
    text = text.strip().strip("[]")
    if not text:
        return None
    try:
        return [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ShapeProblem(f"has '{field}' = {text!r}: write numbers separated by commas, "
                           "e.g. 0.485, 0.456, 0.406 (or leave it empty).") from None


def _normalization_shape(inputs, params):
    channels = inputs[0][-1]
    for field in ("mean", "variance"):
        values = parse_numbers(params[field], field)
        if values is not None and channels is not None and len(values) not in (1, channels):
            raise ShapeProblem(f"has {len(values)} {field} values but its input has {channels} "
                               "channels: give one value per channel, or one for all.")
    if (parse_numbers(params["mean"], "mean") is None) != (
            parse_numbers(params["variance"], "variance") is None):
        raise ShapeProblem("needs both mean and variance, or neither (then they are learned "
                           "from data by adapt() and stored as weights).")
    return inputs[0]


def _normalization_params(inputs, params):
    # With fixed mean/variance Keras keeps them as constants; otherwise it holds mean and
    # variance per channel and a sample count as non-trainable weights.
    if parse_numbers(params["mean"], "mean") is not None:
        return 0, 0
    channels = inputs[0][-1]
    return (0, 0) if channels is None else (0, 2 * channels + 1)


def _normalization_keras(params):
    mean = parse_numbers(params["mean"], "mean")
    variance = parse_numbers(params["variance"], "variance")
    kwargs = {"axis": -1, "invert": params["invert"]}
    if mean is not None:
        kwargs.update(mean=mean, variance=variance)
    return [KerasCall("Normalization", kwargs)]


def _numbers_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return ", ".join(f"{float(v):.8g}" for v in value)


def _normalization_from_keras(class_name, config):
    axis = config.get("axis", -1)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if axis not in ((-1,), (3,)):
        raise ValueError(f"Normalization over axis {axis}; only the channel axis is supported")
    return {
        "mean": _numbers_text(config.get("mean")),
        "variance": _numbers_text(config.get("variance")),
        "invert": bool(config.get("invert", False)),
    }


register(
    LayerType(
        name="Normalization",
        category="Normalization",
        label="Normalization (mean/variance)",
        help="Subtracts a per-channel mean and divides by the standard deviation: "
        "(x − μ)/√σ², like ImageNet's preprocessing. Empty mean/variance: learned by adapt().",
        params=(
            ParamSpec("mean", "text", "", "μ per channel, e.g. 0.485, 0.456, 0.406 (empty: "
                      "adapted from data and stored as weights)."),
            ParamSpec("variance", "text", "", "σ² per channel, e.g. 0.0524, 0.0502, 0.0506."),
            ParamSpec("invert", "bool", False, "Undo the normalization instead: x·√σ² + μ.",
                      advanced=True),
        ),
        output_shape=_normalization_shape,
        param_count=_normalization_params,
        keras=_normalization_keras,
        summary=lambda p: "adapted" if not p["mean"].strip() else f"μ={p['mean']}",
        keras_classes=("Normalization",),
        from_keras=_normalization_from_keras,
    ),
    aliases=("normalization",),
)


def _channel_scale_params(inputs, params):
    channels = inputs[0][-1]
    return (0, 0) if channels is None else (channels, 0)


def _channel_scale_macs(inputs, output, params):
    from cnnstudio.graph.layer_type import product

    return product(output)


register(
    LayerType(
        name="ChannelScale",
        category="Normalization",
        label="Layer scale",
        help="Multiplies each channel by a learned γ that starts tiny (ConvNeXt's LayerScale): "
        "deep residual branches start close to the identity.",
        params=(ParamSpec("init_values", "float", 1e-6, "Starting value of every γ.", minimum=0.0,
                          maximum=10.0),),
        output_shape=lambda inputs, params: inputs[0],
        param_count=_channel_scale_params,
        macs=_channel_scale_macs,
        keras=lambda p: [KerasCall("ChannelScale", {"init_values": p["init_values"]}, custom=True)],
        summary=lambda p: f"γ₀={p['init_values']:g}",
        keras_classes=("ChannelScale", "LayerScale"),
        from_keras=lambda cls, c: {"init_values": float(c.get("init_values", 1e-6))},
        weighted=False,
    ),
    aliases=("layerscale",),
)


def _scaled_add_shape(inputs, params):
    from cnnstudio.graph.layer_type import format_shape

    first, second = inputs
    if len(first) != len(second) or any(
            a is not None and b is not None and a != b for a, b in zip(first, second, strict=True)):
        raise ShapeProblem(f"adds {format_shape(first)} and {format_shape(second)}: both inputs "
                           "must have the same shape (match the branch's filters K).")
    return first


register(
    LayerType(
        name="ScaledAdd",
        category="Merge",
        label="Scaled add",
        help="x + s·y: adds its second input scaled by a constant s to its first (Inception-ResNet "
        "scales residual branches by 0.1–0.2 to keep training stable).",
        params=(ParamSpec("scale", "float", 0.1, "s, the factor on the second input (the branch).",
                          minimum=0.0, maximum=10.0),),
        output_shape=_scaled_add_shape,
        keras=lambda p: [KerasCall("ScaledAdd", {"scale": p["scale"]}, custom=True)],
        summary=lambda p: f"s={p['scale']:g}",
        min_inputs=2,
        max_inputs=2,
        keras_classes=("ScaledAdd", "CustomScaleLayer"),
        from_keras=lambda cls, c: {"scale": float(c.get("scale", 1.0))},
    ),
)
