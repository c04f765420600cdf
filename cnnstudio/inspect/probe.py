"""A model opened for inspection: any layer's output, class scores and gradients from raw images.

A run's model is input → preprocessing (and augmentation) → the architecture (a nested
model) → a float32 cast. Inspection skips the augmentation, runs the preprocessing layers
on float32 pixels (so gradients reach the image) and reads the architecture's layers
through one multi-output model per set of requested layers, built once and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.errors import ExportError
from cnnstudio.export.inference import passes_scores_through

# Layer types whose output is a "convolutional feature map" (the default of `inspect`).
CONVOLUTIONS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "GroupedConv2D")
# Layers that keep the meaning of the class scores after the classifier.


@dataclass
class Probe:
    """The inspected model: its architecture's layers, class names and input spec."""

    path: Path
    kind: str  # run, keras, project, savedmodel
    network: Any  # the architecture (a keras.Model) whose layers are inspected; None for a SavedModel
    prefix: list[Any]  # layers that turn float pixels into the architecture's input
    class_names: list[str]
    shape: tuple[int, int, int]
    resize: str
    trained: bool = True
    checkpoint: str | None = None
    dataset_folder: Path | None = None
    notes: list[str] = field(default_factory=list)
    classify_images: Any = None  # SavedModel only: uint8 [N,H,W,C] -> probabilities
    _probes: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    # ---- layers ---------------------------------------------------------------------------
    @property
    def layers(self) -> list[Any]:
        self._need_layers("inspect")
        return [layer for layer in self.network.layers if type(layer).__name__ != "InputLayer"]

    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def conv_layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers if type(layer).__name__ in CONVOLUTIONS]

    def layer(self, name: str) -> Any:
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(self.layer_names())
        raise ExportError(f"{self.path}: no layer named {name!r}; the model's layers are: {names}.")

    def output_of(self, layer: Any) -> Any:
        """The layer's symbolic output in the architecture's own graph."""
        return _node(layer, self.network).output_tensors[0]

    def input_of(self, layer: Any) -> Any:
        return _node(layer, self.network).input_tensors[0]

    def output_shape(self, name: str) -> tuple[int, ...]:
        """The layer's output shape without the batch axis."""
        return tuple(int(d) if d is not None else -1 for d in self.output_of(self.layer(name)).shape[1:])

    def _need_layers(self, what: str) -> None:
        if self.network is None:
            raise ExportError(f"{self.path}: a SavedModel keeps no layers to {what}; use the run directory "
                              "or the .keras file it was exported from.")

    # ---- running --------------------------------------------------------------------------
    def prepare(self, images: Any) -> Any:
        """uint8/float pixels [N,H,W,C] -> the architecture's input (float32 tensor)."""
        import tensorflow as tf

        value = tf.cast(tf.convert_to_tensor(images), tf.float32)
        for layer in self.prefix:
            value = layer(value, training=False)
        return value

    def probe_model(self, names: tuple[str, ...]) -> Any:
        """A model: architecture input -> [each named layer's output..., class scores]; cached."""
        import keras

        self._need_layers("inspect")
        if names not in self._probes:
            outputs = [self.output_of(self.layer(name)) for name in names]
            self._probes[names] = keras.Model(self.network.inputs[0], [*outputs, self.network.outputs[0]])
        return self._probes[names]

    def run(self, images: Any, names: tuple[str, ...] = ()) -> tuple[list[Any], Any]:
        """(the named layers' outputs, class scores) for a batch, in one forward pass."""
        values = self.probe_model(tuple(names))(self.prepare(images), training=False)
        values = list(values) if isinstance(values, list | tuple) else [values]
        return values[:-1], values[-1]

    def scores_and_logits(self) -> tuple[Any, bool]:
        """(a function architecture-input -> scores, whether they are logits).

        Gradient methods want logits: a confident softmax has near-zero gradients. When the
        classifier is a Dense layer with activation="softmax" its logits are recomputed.
        """
        import keras

        dense = _softmax_dense(self.network)
        if dense is None:
            model = self.probe_model(())
            return (lambda x: _single(model(x, training=False))), not _ends_with_softmax(self.network)
        inner = keras.Model(self.network.inputs[0], self.input_of(dense))

        def logits(x):
            value = keras.ops.matmul(inner(x, training=False), dense.kernel)
            return value + dense.bias if dense.use_bias else value

        return logits, True

    def features_and_logits(self, name: str) -> Any:
        """A function architecture-input -> (the layer's output, class scores), logits where possible.

        The features are the very tensor the scores are computed from, so a gradient tape
        can differentiate the scores with respect to them.
        """
        import keras

        self._need_layers("inspect")
        key = ("__logits__", name)
        if key not in self._probes:
            dense = _softmax_dense(self.network)
            last = self.input_of(dense) if dense is not None else self.network.outputs[0]
            self._probes[key] = (keras.Model(self.network.inputs[0], [self.output_of(self.layer(name)), last]), dense)
        model, dense = self._probes[key]

        def run(x):
            features, value = model(x, training=False)
            if dense is not None:
                value = keras.ops.matmul(value, dense.kernel)
                value = value + dense.bias if dense.use_bias else value
            return features, value

        return run

    def probabilities(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """float32 [N,K] class probabilities for uint8 images."""
        if self.classify_images is not None:
            return np.concatenate([self.classify_images(images[i:i + batch_size])
                                   for i in range(0, len(images), batch_size)]).astype(np.float32)
        out = []
        for start in range(0, len(images), batch_size):
            _, scores = self.run(images[start:start + batch_size])
            out.append(np.asarray(scores, dtype=np.float32))
        scores = np.concatenate(out) if out else np.zeros((0, len(self.class_names)), np.float32)
        return scores if _ends_with_softmax(self.network) else _softmax(scores)

    def class_index(self, name: str | None) -> int | None:
        if name is None:
            return None
        if name in self.class_names:
            return self.class_names.index(name)
        if name.isdigit() and int(name) < len(self.class_names):
            return int(name)
        raise ExportError(f"--class {name!r} is not one of the model's classes: {', '.join(self.class_names)}.")

    # ---- images ---------------------------------------------------------------------------
    def load_images(self, paths: list[str | Path]) -> np.ndarray:
        """Image files -> uint8 [N,H,W,C] at the model's input size, decoded the way training does."""
        from cnnstudio.export.images import load_images

        files = [Path(p) for p in paths]
        for path in files:
            if not path.is_file():
                raise ExportError(f"{path}: no such image file.")
        return load_images(files, self.shape, self.resize)


def _node(layer: Any, network: Any) -> Any:
    """The call of `layer` inside `network`'s graph.

    A layer shared with another graph (a model re-opened with float input by `_float_input`)
    has one inbound node per graph; `layer.output` would name the first graph's tensor.
    """
    nodes = list(getattr(layer, "_inbound_nodes", []))
    mine = getattr(network, "_nodes", None) or set()  # keys "<id(layer)>_ib-<node index>"
    for index, node in enumerate(nodes):
        if f"{id(layer)}_ib-{index}" in mine:
            return node
    return nodes[-1]


def _single(value: Any) -> Any:
    return value[-1] if isinstance(value, list | tuple) else value


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


def _deciding_layer(network: Any) -> Any:
    for layer in reversed(network.layers):
        name = type(layer).__name__
        if (name == "Activation" or passes_scores_through(name)) and _activation(layer) != "softmax":
            continue
        return layer
    return None


def _activation(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation)) if activation is not None else "linear"


def _ends_with_softmax(network: Any) -> bool:
    layer = _deciding_layer(network)
    return layer is not None and (type(layer).__name__ == "Softmax" or _activation(layer) == "softmax")


def _softmax_dense(network: Any) -> Any:
    layer = _deciding_layer(network)
    if type(layer).__name__ == "Dense" and _activation(layer) == "softmax":
        return layer
    return None


def classifier_input(probe: Probe) -> str:
    """The name of the layer whose output feeds the classifier (the penultimate features)."""
    import keras

    layer = _deciding_layer(probe.network)
    if layer is None:
        raise ExportError(f"{probe.path}: the model has no classifier layer to take features before.")
    history = getattr(probe.input_of(layer), "_keras_history", None)
    producer = history[0] if history is not None else None
    if producer is None or isinstance(producer, keras.layers.InputLayer):
        raise ExportError(f"{probe.path}: the classifier {layer.name!r} reads the input directly; "
                          "there are no features before it.")
    return producer.name


# ---- opening sources -----------------------------------------------------------------------
def open_probe(path: str | Path, checkpoint: str | None = None) -> Probe:
    """A run directory, .keras file, project or SavedModel, opened for inspection."""
    from cnnstudio.export.sources import load_source, source_kind

    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path}: no such run directory, model or project.")
    if source_kind(path) == "savedmodel":
        return _savedmodel_probe(path)
    source = load_source(path, checkpoint)
    return _keras_probe(source)


def _keras_probe(source: Any) -> Probe:
    import keras

    probe = probe_from_model(source.model, source.path, source.kind)
    probe.class_names = list(source.class_names)
    probe.resize = str((source.preprocessing or {}).get("resize", "stretch"))
    probe.trained, probe.checkpoint, probe.dataset_folder = source.trained, source.checkpoint, source.dataset_folder
    probe.notes = list(source.notes)
    if source.kind == "project":
        normalization = str((source.preprocessing or {}).get("normalization", "rescale"))
        if normalization != "none":  # statistics need the dataset; x/255 is every mode's first step
            probe.prefix = [keras.layers.Rescaling(1.0 / 255.0)]
            probe.notes.append("Untrained project: random initial weights; pixels scaled to 0..1.")
    return probe


def probe_from_model(model: Any, path: str | Path = "model", kind: str = "keras", float32: bool = True) -> Probe:
    """Split a Keras model into its preprocessing prefix and its architecture (augmentation dropped).

    `float32`: a mixed-precision model is inspected through a float32 copy (exact gradients);
    False keeps the model itself, whose weights keep changing (the training loop's histograms).
    """
    import keras

    from cnnstudio.export.inference import (
        input_spec,
        is_augmentation,
        to_float32,
        uses_mixed_precision,
    )

    model = to_float32(model) if float32 and uses_mixed_precision(model) else model
    shape, _dtype = input_spec(model)
    prefix, network = [], None
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer" or is_augmentation(layer):
            continue
        if isinstance(layer, keras.Model) and network is None:
            network = layer
        elif network is None:
            prefix.append(layer)
    if network is None:  # a flat model: its own layers are the architecture
        network, prefix = _float_input(model), []
    count = int(network.outputs[0].shape[-1])
    return Probe(Path(path), kind, network, prefix, [f"class_{i}" for i in range(count)], shape, "stretch")


def _float_input(model: Any) -> Any:
    """The same model (same layers and weights) taking float32 pixels, so gradients reach them."""
    import keras

    tensor = model.inputs[0]
    dtype = tensor.dtype if isinstance(tensor.dtype, str) else getattr(tensor.dtype, "name", "")
    if "float" in str(dtype):
        return model
    inputs = keras.Input(batch_shape=tensor.shape, dtype="float32")
    try:
        return keras.models.clone_model(model, input_tensors=inputs, clone_function=lambda layer: layer)
    except Exception as exc:  # Keras raises several types for models it cannot re-call
        raise ExportError(f"cannot re-open the model with float input for inspection ({exc}).") from None


def _savedmodel_probe(path: Path) -> Probe:
    from cnnstudio.export.predict import load_predictor

    predictor = load_predictor(path)
    return Probe(path, "savedmodel", None, [], predictor.class_names, predictor.shape, predictor.resize,
                 classify_images=predictor.classify,
                 notes=["A SavedModel: only forward-pass methods (occlusion) can look inside."])
