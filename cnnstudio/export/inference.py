"""The in-app inference model: raw uint8 images in, class probabilities out.

A run's model is preprocessing + augmentation + architecture. Keras augmentation layers are
identity at inference, but they still leave random ops in a traced graph (which ONNX and
TFLite cannot run), so they are removed here rather than merely switched off.
"""

from __future__ import annotations

from typing import Any

# Keras-only noise layers (no catalogue entry) that, like the catalogue's pass-throughs, a
# classifier may end with after the layer that decides softmax vs logits.
_NOISE_LAYERS = ("SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout")


def passes_scores_through(class_name: str) -> bool:
    """True for a Keras layer class a classifier may end with after the layer that decides
    softmax vs logits (the catalogue's keeps_class_scores types, and Keras noise layers)."""
    from cnnstudio.graph import catalogue

    return class_name in _NOISE_LAYERS or any(
        class_name in layer_type.keras_classes
        for layer_type in catalogue.layer_types().values()
        if layer_type.keeps_class_scores
    )


def is_augmentation(layer: Any) -> bool:
    """True for layers that only act while training (random image transforms)."""
    cls = type(layer)
    if cls.__module__.startswith("cnnstudio.modeling.augmentation"):
        return True
    if getattr(layer, "is_augmentation", False) is True:
        return True
    return cls.__name__.startswith("Random") or cls.__name__ in ("AugMix", "RandAugment", "CutMix", "MixUp")


def strip_augmentation(model: Any) -> Any:
    """A functional model sharing `model`'s layers and weights, without augmentation layers."""
    import keras

    def uses_augmentation(m: Any) -> bool:
        for layer in getattr(m, "layers", []):
            if is_augmentation(layer) or (isinstance(layer, keras.Model) and uses_augmentation(layer)):
                return True
        return False

    if not uses_augmentation(model):
        return model

    def call_function(layer, *args, **kwargs):
        if is_augmentation(layer):
            return args[0]
        if isinstance(layer, keras.Model) and uses_augmentation(layer):
            return strip_augmentation(layer)(*args, **kwargs)
        return layer(*args, **kwargs)

    if isinstance(model, keras.Sequential):
        kept = [strip_augmentation(layer) if isinstance(layer, keras.Model) else layer
                for layer in model.layers if not is_augmentation(layer)]
        inputs = keras.Input(batch_shape=model.inputs[0].shape, dtype=model.inputs[0].dtype)
        value = inputs
        for layer in kept:
            value = layer(value)
        return keras.Model(inputs, value, name=model.name)
    # Identity clone_function: the new graph reuses the very same layer objects (and weights).
    return keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call_function)


def _all_layers(model: Any):
    import keras

    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def uses_mixed_precision(model: Any) -> bool:
    return any(getattr(getattr(layer, "dtype_policy", None), "compute_dtype", "float32") in ("float16", "bfloat16")
               for layer in _all_layers(model))


def to_float32(model: Any) -> Any:
    """The same model computing in float32 (a mixed-precision run's weights are float32 already).

    TFLite cannot convert float16 convolutions for CPU, and float16 results differ between
    runtimes by more than the verification allows, so exports compute in float32.
    """
    import keras

    def clone(layer):
        config = layer.get_config()
        config["dtype"] = "float32"
        if isinstance(layer, keras.Model):
            return to_float32(layer)
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _last_deciding_layer(model: Any) -> Any:
    import keras

    layers = list(model.layers)
    while layers:
        layer = layers.pop()
        name = type(layer).__name__
        if isinstance(layer, keras.Model):
            return _last_deciding_layer(layer)
        if passes_scores_through(name) or name == "InputLayer":
            continue
        if name == "Activation" and _activation_name(layer) == "linear":
            continue  # the float32 "output" cast the engine appends
        return layer
    return None


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation)) if activation is not None else "linear"


def outputs_probabilities(model: Any) -> bool:
    """Whether the model already ends in softmax (otherwise it outputs logits)."""
    layer = _last_deciding_layer(model)
    if layer is None:
        return False
    if type(layer).__name__ == "Softmax":
        return True
    return _activation_name(layer) == "softmax"


def inference_model(model: Any, from_logits: bool | None = None) -> Any:
    """uint8 [N,H,W,C] -> float32 probabilities [N,classes]: augmentation removed, softmax ensured."""
    import keras

    if uses_mixed_precision(model):
        model = to_float32(model)
    stripped = strip_augmentation(model)
    if from_logits is None:
        from_logits = not outputs_probabilities(model)
    if not from_logits:
        return stripped
    outputs = keras.layers.Softmax(dtype="float32", name="probabilities")(stripped.outputs[0])
    return keras.Model(stripped.inputs, outputs, name=stripped.name)


def input_spec(model: Any) -> tuple[tuple[int, int, int], str]:
    """(height, width, channels) and dtype of the model's image input."""
    from cnnstudio.errors import ExportError

    tensor = model.inputs[0]
    shape = tuple(tensor.shape[1:])
    if len(shape) != 3 or any(d is None for d in shape):
        raise ExportError(
            f"The model's input has shape {tuple(tensor.shape)}; export needs a fixed image size "
            "[height, width, channels]. Set the Input layer's height and width."
        )
    dtype = tensor.dtype if isinstance(tensor.dtype, str) else getattr(tensor.dtype, "name", str(tensor.dtype))
    return (int(shape[0]), int(shape[1]), int(shape[2])), dtype
