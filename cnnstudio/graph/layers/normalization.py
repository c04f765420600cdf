"""Normalization: BatchNorm, LayerNorm, LRN (AlexNet's local response normalization)."""

from __future__ import annotations

from cnnstudio.graph.layer_type import KerasCall, LayerType, LayerTypes
from cnnstudio.graph.layers.common import keras_fields
from cnnstudio.graph.params import ParamSpec

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register

EPSILON = ParamSpec(
    "epsilon", "float", 1e-3, "Small constant added to the variance so it never divides by 0.",
    minimum=0.0, maximum=1.0, advanced=True,
)
CENTER = ParamSpec("center", "bool", True, "Learn a shift β after normalising.", advanced=True)
SCALE = ParamSpec("scale", "bool", True, "Learn a scale γ after normalising.", advanced=True)


BATCH_NORM_PARAMS = (
    ParamSpec("momentum", "float", 0.99, "How slowly the running mean/variance follow each batch.",
              minimum=0.0, maximum=1.0, advanced=True),
    EPSILON,
    CENTER,
    SCALE,
)
LAYER_NORM_PARAMS = (
    ParamSpec("epsilon", "float", 1e-3, "Added to the variance.", minimum=0.0, maximum=1.0, advanced=True),
    CENTER,
    SCALE,
)


def _channels(inputs) -> int | None:
    return inputs[0][-1] if inputs[0] else None


def _bn_params(inputs, params):
    c = _channels(inputs)
    if c is None:
        return 0, 0
    return c * (int(params["center"]) + int(params["scale"])), 2 * c


def _ln_params(inputs, params):
    c = _channels(inputs)
    if c is None:
        return 0, 0
    return c * (int(params["center"]) + int(params["scale"])), 0


register(
    LayerType(
        name="BatchNorm",
        category="Normalization",
        label="Batch normalization",
        help="Normalises each channel over the batch, then scales by γ and shifts by β; "
        "keeps running mean/variance (not trained) for inference.",
        params=BATCH_NORM_PARAMS,
        **keras_fields("BatchNormalization", BATCH_NORM_PARAMS),
        output_shape=lambda inputs, params: inputs[0],
        param_count=_bn_params,
        summary=lambda p: "",
    ),
    aliases=("bn", "batchnormalization", "batch_norm"),
)

register(
    LayerType(
        name="LayerNorm",
        category="Normalization",
        label="Layer normalization",
        help="Normalises each position over its channels (no batch statistics), then γ and β.",
        params=LAYER_NORM_PARAMS,
        **keras_fields("LayerNormalization", LAYER_NORM_PARAMS),
        output_shape=lambda inputs, params: inputs[0],
        param_count=_ln_params,
    ),
    aliases=("ln", "layernormalization"),
)

register(
    LayerType(
        name="LRN",
        category="Normalization",
        label="Local response norm",
        help="AlexNet's NORM layer: each value is divided by (k + α/n Σ x²)^β over n neighbouring "
        "channels. A cnnstudio layer (Keras has none).",
        params=(
            ParamSpec("size", "int", 5, "n, the number of neighbouring channels summed.", minimum=1,
                      maximum=31),
            ParamSpec("alpha", "float", 1e-4, "α, the scale of the sum of squares.", minimum=0.0),
            ParamSpec("beta", "float", 0.75, "β, the exponent.", minimum=0.0, maximum=10.0),
            ParamSpec("bias", "float", 2.0, "k, the constant added before the power.", minimum=0.0),
        ),
        output_shape=lambda inputs, params: inputs[0],
        keras=lambda p: [KerasCall("LocalResponseNormalization", {
            "size": p["size"], "alpha": p["alpha"], "beta": p["beta"], "bias": p["bias"],
        }, custom=True)],
        summary=lambda p: f"n={p['size']}",
        keras_classes=("LocalResponseNormalization",),
        from_keras=lambda cls, c: {k: c[k] for k in ("size", "alpha", "beta", "bias") if k in c},
    ),
    aliases=("norm", "localresponsenormalization"),
)
