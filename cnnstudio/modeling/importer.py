"""keras.Model -> Graph: functional and Sequential models, nested sub-models flattened.

Every layer is looked up in the catalogue by its Keras class (LayerType.keras_classes) and
its config turned into parameters by the entry's `from_keras`. Weights are kept per node so
a model rebuilt from the Graph can take them back (`apply_weights`) for fine-tuning.
Symmetric ZeroPadding2D layers feeding one convolution or pooling are folded into its
padding P, so models built by cnnstudio round-trip to the same graph. The walk reads
Keras 3's functional graph (`_nodes_by_depth`, node.input_tensors/output_tensors); the
tests import every keras.applications family to catch changes there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnstudio.errors import StudioError, UnsupportedLayerError
from cnnstudio.fileio import write_atomic_with
from cnnstudio.graph import catalogue
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph, Node
from cnnstudio.graph.params import padding4
from cnnstudio.modeling.custom_layers import CUSTOM_OBJECTS


@dataclass
class ImportResult:
    graph: Graph
    weights: dict[str, list[np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Settings recovered from a model CNN Studio trained (its wrapper layers, not graph nodes).
    augmentation: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)


# CNN Studio's own wrapper around a trained architecture: uint8 input -> augmentation ->
# normalisation -> network. They become project settings, not nodes.
STUDIO_WRAPPERS = {"ImageAugmentation": "augmentation", "InputNormalization": "preprocessing"}


def _by_keras_class() -> dict[str, catalogue.LayerType]:
    table: dict[str, catalogue.LayerType] = {}
    for layer_type in catalogue.layer_types().values():
        for name in layer_type.keras_classes:
            table.setdefault(name, layer_type)
    return table


class _Importer:
    def __init__(self) -> None:
        self.graph = Graph()
        self.weights: dict[str, list[np.ndarray]] = {}
        self.types = _by_keras_class()
        self.unsupported: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.calls: Counter[int] = Counter()
        self.settings: dict[str, dict[str, Any]] = {"augmentation": {}, "preprocessing": {}}

    def problem(self, what: str, layer_name: str) -> None:
        self.unsupported.setdefault(what, []).append(layer_name)

    def name_for(self, base: str, group: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.\-]", "_", base) or "layer"
        if base[0].isdigit():
            base = "n" + base
        if base in self.graph and group:
            base = f"{group.replace('/', '_')}_{base}"
        return self.graph.unique_name(base)

    def add(self, type_name: str, base: str, inputs: list[str], group: str, params: dict,
            trainable: bool = True) -> str:
        name = self.name_for(base, group)
        self.graph.add(Node(name, type_name, params, inputs, group, trainable))
        return name

    # ---- walking a functional graph --------------------------------------------------
    def walk(self, model: Any, names: dict[int, str], group: str) -> None:
        function = getattr(model, "_functional", None) or model
        if not hasattr(function, "_nodes_by_depth"):
            raise StudioError(
                f"model {model.name!r} has not been built (no input shape): build it, e.g. by "
                "calling it on a batch or giving the first layer an input shape, then save again.")
        for depth in sorted(function._nodes_by_depth, reverse=True):
            for node in function._nodes_by_depth[depth]:
                self.visit(node, names, group)

    def visit(self, node: Any, names: dict[int, str], group: str) -> None:
        operation = node.operation
        if isinstance(operation, keras.layers.InputLayer):
            return
        sources = [names.get(id(t)) for t in node.input_tensors]
        if any(s is None for s in sources):
            return  # a branch fed by a problem already reported
        if isinstance(operation, keras.Model):
            self.nested(operation, node, names, sources, group)
            return
        self.calls[id(operation)] += 1
        results = self.convert(operation, node, sources, group)
        if results is None:
            return
        for tensor in node.output_tensors:
            names[id(tensor)] = results

    def nested(self, model: Any, node: Any, names: dict[int, str], sources: list[str],
               group: str) -> None:
        function = getattr(model, "_functional", None) or model
        inner: dict[int, str] = {}
        for tensor, source in zip(function.inputs, sources, strict=False):
            inner[id(tensor)] = source
        path = f"{group}/{model.name}" if group else model.name
        self.walk(model, inner, path)
        for outer, tensor in zip(node.output_tensors, function.outputs, strict=False):
            if id(tensor) in inner:
                names[id(outer)] = inner[id(tensor)]

    def convert(self, operation: Any, node: Any, sources: list[str], group: str) -> str | None:
        class_name = type(operation).__name__
        layer_name = operation.name
        if not isinstance(operation, keras.layers.Layer):
            return self.convert_operation(class_name, layer_name, node, sources, group)
        if self.calls[id(operation)] > 1:
            self.notes.append(f"layer {layer_name!r} is shared ({self.calls[id(operation)]} calls); "
                              "each call becomes its own node with a copy of the weights.")
        config = operation.get_config()
        if class_name in STUDIO_WRAPPERS and len(sources) == 1:
            return self.unwrap(class_name, layer_name, config, sources[0])
        if config.get("data_format") == "channels_first":
            self.problem(f"{class_name} (channels_first: CNN Studio works channels_last)", layer_name)
            return None
        if class_name == "Activation" and config.get("activation") in ("linear", None):
            type_name, params = "Identity", {}
        else:
            layer_type = self.types.get(class_name)
            if layer_type is None or layer_type.from_keras is None:
                self.problem(class_name, layer_name)
                return None
            try:
                params = layer_type.from_keras(class_name, config)
            except (ValueError, KeyError, TypeError) as exc:
                self.problem(f"{class_name} ({exc})", layer_name)
                return None
            type_name = layer_type.name
        name = self.add(type_name, layer_name, sources, group, params, bool(operation.trainable))
        values = [np.asarray(w) for w in operation.get_weights()]
        if values:
            self.weights[name] = values
        return name

    def unwrap(self, class_name: str, layer_name: str, config: dict, source: str) -> str:
        """Pass a CNN Studio wrapper layer through, keeping what it did as project settings."""
        section = STUDIO_WRAPPERS[class_name]
        if section == "augmentation":
            self.settings["augmentation"] = dict(config.get("settings") or {})
        else:
            mode = config.get("mode", "rescale")
            self.settings["preprocessing"] = {"normalization": mode}
            if mode not in ("none", "rescale"):
                self.notes.append(f"{layer_name!r} normalised with {mode} statistics of the original "
                                  "training data; they are recomputed from your data when you train.")
        return source

    def convert_operation(self, class_name: str, layer_name: str, node: Any, sources: list[str],
                          group: str) -> str | None:
        """Keras ops used directly in a functional model: x + y, x * y, x + 3, x * (1/6)."""
        args = list(node.arguments.args) if hasattr(node, "arguments") else []
        scalars = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        if class_name in ("Add", "Multiply") and len(sources) >= 2 and not scalars:
            return self.add(class_name, layer_name, sources, group, {})
        if class_name in ("Add", "Multiply", "Subtract") and len(sources) == 1 and len(scalars) == 1:
            value = float(scalars[0])
            if class_name == "Add":
                params = {"scale": 1.0, "offset": value}
            elif class_name == "Subtract":
                params = {"scale": 1.0, "offset": -value} if args[0] is not scalars[0] else None
            else:
                params = {"scale": value, "offset": 0.0}
            if params is not None:
                return self.add("Rescaling", layer_name, sources, group, params)
        self.problem(f"operation {class_name}", layer_name)
        return None


def _takes_padding(type_name: str) -> bool:
    """Types with a padding P (a "padding"-kind parameter): their explicit P was a ZeroPadding2D."""
    return any(spec.kind == "padding" for spec in catalogue.get(type_name).params)


def _fold_padding(graph: Graph) -> None:
    consumers = graph.consumers()
    outputs = set(graph.declared_outputs)
    for node in list(graph):
        if node.type != "ZeroPadding" or node.name in outputs or len(consumers[node.name]) != 1:
            continue
        (top, bottom), (left, right) = padding4(node.params.get("padding", 1))
        target = graph[consumers[node.name][0]]
        if top != bottom or left != right or not _takes_padding(target.type):
            continue
        if target.params.get("padding", "valid") != "valid" or len(target.inputs) != 1:
            continue
        target.params["padding"] = top if top == left else [top, left]
        target.inputs = list(node.inputs)
        graph.remove(node.name)


def _group_by_name(graph: Graph) -> None:
    """keras.applications names blocks ("conv2_block1_1_conv", "block2a_expand"): group by them."""
    pattern = re.compile(r"^(.*?)_?(block_?\d+[a-z]?)(?:_|$)")
    for node in graph:
        if node.group:
            continue
        match = pattern.match(node.name)
        if match:
            stage, block = match.group(1), match.group(2)
            node.group = f"{stage}/{block}" if stage else block
    counts = Counter(n.group for n in graph if n.group)
    for node in graph:
        if node.group and counts[node.group] < 2:
            node.group = ""


def graph_from_keras(model: Any, name: str | None = None) -> ImportResult:
    """Turn a built Keras model into a Graph; raises UnsupportedLayerError naming every problem."""
    importer = _Importer()
    function = getattr(model, "_functional", None) or model
    if not hasattr(function, "inputs") or function.inputs is None:
        raise StudioError(f"model {model.name!r} has no inputs: build it before importing.")
    names: dict[int, str] = {}
    for index, tensor in enumerate(function.inputs):
        shape = list(tensor.shape)[1:]
        if len(shape) != 3:
            raise UnsupportedLayerError(
                f"input {index + 1} of {model.name!r} has shape {tuple(tensor.shape)}; CNN Studio "
                "models take images H×W×C.")
        history = getattr(tensor, "_keras_history", None)
        base = history[0].name if history else "input"
        input_name = importer.graph.unique_name(re.sub(r"\W", "_", base) or "input")
        importer.graph.add(Node(input_name, "Input",
                                {"height": shape[0], "width": shape[1], "channels": shape[2]}))
        names[id(tensor)] = input_name
    importer.walk(model, names, "")
    if importer.unsupported:
        parts = []
        for what, layers in sorted(importer.unsupported.items()):
            shown = ", ".join(repr(n) for n in layers[:3]) + (f" and {len(layers) - 3} more" if len(layers) > 3 else "")
            parts.append(f"{what} ({shown})")
        raise UnsupportedLayerError(
            f"model {model.name!r} uses layers CNN Studio does not support: {'; '.join(parts)}. "
            "Replace them with built-in Keras layers, or remove them, and import again.")
    outputs = [names[id(t)] for t in function.outputs if id(t) in names]
    importer.graph.set_outputs(outputs)
    importer.graph.name = re.sub(r"[^A-Za-z0-9_\-]", "_", name or model.name) or "model"
    _fold_padding(importer.graph)
    _group_by_name(importer.graph)
    analysis = analyze(importer.graph)
    if analysis.errors:
        raise StudioError(f"the imported graph of {model.name!r} is not valid: {analysis.errors[0].message}")
    return ImportResult(importer.graph, importer.weights, importer.notes,
                        importer.settings["augmentation"], importer.settings["preprocessing"])


def load_keras_model(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise StudioError(f"{path}: no such file.")
    if path.suffix != ".keras":
        raise StudioError(f"{path}: expected a Keras .keras file (for .h5 files, load and re-save "
                          "them with model.save('model.keras')).")
    try:
        return keras.saving.load_model(path, custom_objects=CUSTOM_OBJECTS, compile=False)
    except Exception as exc:  # Keras raises many kinds; the user needs the reason, not a traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StudioError(f"{path}: cannot be loaded by Keras ({reason[:300]}).") from None


# ---- weights next to the project ------------------------------------------------------------
def weights_path_for(project_path: str | Path) -> Path:
    project_path = Path(project_path)
    return project_path.with_name(project_path.stem + ".weights.npz")


def save_weights(weights: dict[str, list[np.ndarray]], path: str | Path) -> Path:
    """One .npz with arrays named "<node>/<index>"; written atomically."""
    path = Path(path)
    arrays = {f"{node}/{i}": value for node, values in weights.items() for i, value in enumerate(values)}
    write_atomic_with(path, lambda temporary: np.savez(temporary, **arrays), suffix=".npz")
    return path


def read_weights(path: str | Path) -> dict[str, list[np.ndarray]]:
    grouped: dict[str, dict[int, np.ndarray]] = {}
    with np.load(path) as data:
        for key in data.files:
            node, _, index = key.rpartition("/")
            grouped.setdefault(node, {})[int(index)] = data[key]
    return {node: [values[i] for i in sorted(values)] for node, values in grouped.items()}


def apply_weights(model: Any, weights: dict[str, list[np.ndarray]] | str | Path) -> list[str]:
    """Set each layer named like a node to its imported weights; returns the nodes skipped
    because the layer is missing or its shapes changed (e.g. a new classifier)."""
    if not isinstance(weights, dict):
        weights = read_weights(weights)
    layers = {layer.name: layer for layer in model.layers}
    skipped = []
    for node, values in weights.items():
        layer = layers.get(node)
        if layer is None or [tuple(w.shape) for w in layer.weights] != [v.shape for v in values]:
            skipped.append(node)
            continue
        layer.set_weights(values)
    return skipped
