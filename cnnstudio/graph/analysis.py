"""Validation and analysis of a Graph: shapes, parameters, MACs, memory, receptive field.

Pure arithmetic generated from the catalogue's rules; tests check it against Keras node by
node. Problems become Diagnostics attached to node names instead of exceptions, so the
editor can show every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnstudio.errors import ParameterError
from cnnstudio.graph import catalogue
from cnnstudio.graph.layer_type import (
    Shape,
    ShapeProblem,
    dropped_image_rows,
    format_shape,
    padding_per_axis,
    product,
)
from cnnstudio.graph.model import Graph, topological_order
from cnnstudio.optimizer_table import optimizer_kind

BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class Diagnostic:
    node: str | None
    severity: str  # "error" or "warning"
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "severity": self.severity, "message": self.message}


@dataclass
class NodeAnalysis:
    name: str
    type: str
    params: dict[str, Any] | None = None  # checked parameters, None when invalid
    input_shapes: list[Shape] = field(default_factory=list)
    output_shape: Shape | None = None
    trainable_params: int = 0
    non_trainable_params: int = 0
    macs: int | None = 0
    receptive_field: tuple[int, int] | None = (1, 1)  # None: the whole image (global)
    jump: tuple[int, int] = (1, 1)  # distance in input pixels between neighbouring outputs

    @property
    def param_count(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def activation_elements(self) -> int | None:
        return None if self.output_shape is None else product(self.output_shape)

    @property
    def activation_bytes(self) -> int | None:
        elements = self.activation_elements
        return None if elements is None else elements * BYTES_PER_VALUE

    @property
    def ok(self) -> bool:
        return self.output_shape is not None


@dataclass
class Analysis:
    nodes: dict[str, NodeAnalysis]
    order: list[str]
    diagnostics: list[Diagnostic]
    outputs: list[str]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def trainable_params(self) -> int:
        return sum(n.trainable_params for n in self.nodes.values())

    @property
    def non_trainable_params(self) -> int:
        return sum(n.non_trainable_params for n in self.nodes.values())

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def macs(self) -> int | None:
        """Sum of multiply-adds; None if any node's count is unknown (unknown image size)."""
        total = 0
        for n in self.nodes.values():
            if n.macs is None:
                return None
            total += n.macs
        return total

    @property
    def activation_elements(self) -> int | None:
        """Values produced for one image, all layers (the tutorial's 'TOTAL memory')."""
        total = 0
        for name in self.order:
            elements = self.nodes[name].activation_elements
            if elements is None:
                return None
            total += elements
        return total

    @property
    def activation_bytes(self) -> int | None:
        elements = self.activation_elements
        return None if elements is None else elements * BYTES_PER_VALUE

    def diagnostics_for(self, node: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node == node]

    def block_summary(self, graph: Graph, members: list[str]) -> dict[str, Any]:
        """Params, MACs and the shapes entering and leaving a block (a group of nodes)."""
        inside = set(members)
        params = sum(self.nodes[m].param_count for m in members if m in self.nodes)
        macs_values = [self.nodes[m].macs for m in members if m in self.nodes]
        macs = None if any(v is None for v in macs_values) else sum(macs_values)
        entering: dict[str, Shape | None] = {}
        leaving: dict[str, Shape | None] = {}
        outputs = set(self.outputs)
        for name in members:
            for source in graph[name].inputs:
                if source not in inside and source in self.nodes:
                    entering.setdefault(source, self.nodes[source].output_shape)
        for node in graph:
            if node.name in inside:
                continue
            for source in node.inputs:
                if source in inside and source in self.nodes:
                    leaving.setdefault(source, self.nodes[source].output_shape)
        for name in members:
            if name in outputs and name in self.nodes:
                leaving.setdefault(name, self.nodes[name].output_shape)
        return {
            "params": params,
            "macs": macs,
            "inputs": list(entering.values()),
            "outputs": list(leaving.values()),
        }


def _label(node_type: str, name: str) -> str:
    return f"{node_type} '{name}'"


def analyze(graph: Graph) -> Analysis:
    """Check and measure every node. Never raises for a problem in the graph."""
    diagnostics: list[Diagnostic] = []
    order, cyclic = topological_order(graph)
    for name in cyclic:
        diagnostics.append(
            Diagnostic(name, "error", f"Node '{name}' is part of a cycle: remove one of the links that loop back.")
        )
    results: dict[str, NodeAnalysis] = {}
    for name in order:
        node = graph[name]
        layer = catalogue.get(node.type)
        result = NodeAnalysis(name, layer.name)
        results[name] = result
        label = _label(layer.name, name)
        try:
            result.params = layer.check_params(node.params, name)
        except ParameterError as exc:
            diagnostics.append(Diagnostic(name, "error", str(exc)))
        missing = [s for s in node.inputs if s not in graph]
        if missing:
            diagnostics.append(
                Diagnostic(
                    name,
                    "error",
                    f"{label} takes input {missing[0]!r}, which does not exist: reconnect it.",
                )
            )
            continue
        count = len(node.inputs)
        if count < layer.min_inputs or (layer.max_inputs is not None and count > layer.max_inputs):
            if layer.max_inputs == 0:
                need = "no inputs"
            elif layer.max_inputs is None:
                need = f"at least {layer.min_inputs} inputs"
            elif layer.min_inputs == layer.max_inputs:
                need = f"exactly {layer.min_inputs} input" + ("s" if layer.min_inputs > 1 else "")
            else:
                need = f"{layer.min_inputs} to {layer.max_inputs} inputs"
            what = "has no input" if count == 0 else f"has {count} inputs"
            diagnostics.append(Diagnostic(name, "error", f"{label} {what} but needs {need}: connect it."))
            continue
        upstream = [results.get(s) for s in node.inputs]
        if result.params is None or any(u is None or not u.ok for u in upstream):
            continue  # the cause is reported where it happens
        result.input_shapes = [u.output_shape for u in upstream]  # type: ignore[misc]
        params = result.params
        try:
            result.output_shape = tuple(layer.output_shape(result.input_shapes, params))
        except ShapeProblem as exc:
            diagnostics.append(Diagnostic(name, "error", f"{label} {exc}"))
            continue
        trainable, frozen = layer.param_count(result.input_shapes, params)
        if not node.trainable:
            trainable, frozen = 0, trainable + frozen
        result.trainable_params, result.non_trainable_params = trainable, frozen
        result.macs = layer.macs(result.input_shapes, result.output_shape, params)
        _receptive_field(result, layer, params, upstream)  # type: ignore[arg-type]
        _stride_warning(result, layer, params, diagnostics, label)

    outputs = graph.outputs
    for declared in graph.declared_outputs:
        if declared not in graph:
            diagnostics.append(Diagnostic(None, "error", f"Output {declared!r} is not a node of the graph."))
    if not graph.inputs():
        diagnostics.append(Diagnostic(None, "error", "The graph has no Input node: add one from the palette."))
    if len(graph) and not outputs:
        diagnostics.append(Diagnostic(None, "error", "The graph has no output: every node feeds another one."))
    if graph.declared_outputs:
        used = {s for n in graph for s in n.inputs}
        for node in graph:
            if node.name not in used and node.name not in outputs and node.type != "Input":
                diagnostics.append(
                    Diagnostic(
                        node.name,
                        "warning",
                        f"{_label(node.type, node.name)} is dangling: nothing uses its output. "
                        "Connect it or delete it.",
                    )
                )
    consumers = graph.consumers()
    for name in graph.inputs():
        if not consumers[name] and name not in outputs:
            diagnostics.append(Diagnostic(name, "warning", f"Input '{name}' is not connected to any layer."))
    if not graph.declared_outputs and len(outputs) > 1:
        diagnostics.append(
            Diagnostic(
                None,
                "warning",
                f"The graph ends in {len(outputs)} places ({', '.join(outputs)}): connect the unfinished "
                "branches, or declare the model's outputs if they are all intended.",
            )
        )
    return Analysis(results, order, diagnostics, outputs)


def _receptive_field(result: NodeAnalysis, layer, params, upstream: list[NodeAnalysis]) -> None:
    fields = [u.receptive_field for u in upstream]
    if not upstream:
        result.receptive_field, result.jump = (1, 1), (1, 1)
        return
    if any(f is None for f in fields) or (result.output_shape is not None and len(result.output_shape) != 3):
        result.receptive_field = None
        result.jump = upstream[0].jump
        return
    rf_h = max(f[0] for f in fields)  # type: ignore[index]
    rf_w = max(f[1] for f in fields)  # type: ignore[index]
    jump_h = max(u.jump[0] for u in upstream)
    jump_w = max(u.jump[1] for u in upstream)
    if layer.geometry is None:
        result.receptive_field, result.jump = (rf_h, rf_w), (jump_h, jump_w)
        return
    geometry = layer.geometry(params)
    if geometry.is_global:
        result.receptive_field, result.jump = None, (jump_h, jump_w)
        return
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    result.receptive_field = (rf_h + (dh * (kh - 1)) * jump_h, rf_w + (dw * (kw - 1)) * jump_w)
    result.jump = (jump_h * sh, jump_w * sw)


def _stride_warning(result: NodeAnalysis, layer, params, diagnostics, label: str) -> None:
    """Warn when Keras's floor of (W − F + 2P)/S leaves image rows out (not only padding)."""
    if layer.geometry is None or len(result.input_shapes[0]) != 3:
        return
    geometry = layer.geometry(params)
    if geometry.is_global or geometry.stride == (1, 1):
        return
    h, w, _ = result.input_shapes[0]
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    ph, pw = padding_per_axis(params.get("padding", "valid"))
    lost = max(dropped_image_rows(h, kh, sh, ph, dh), dropped_image_rows(w, kw, sw, pw, dw))
    if lost:
        p_text = 0 if ph == "valid" else ph
        diagnostics.append(
            Diagnostic(
                result.name,
                "warning",
                f"{label}: (W − F + 2P)/S = ({format_shape((h, w))} − {kh} + 2·{p_text})/{sh} is not a "
                f"whole number, so Keras drops the last {lost} image row(s)/column(s). Adjust F, S or P "
                "to make it divide.",
            )
        )


def training_memory(analysis: Analysis, batch_size: int, optimizer: str = "adam") -> dict[str, int | None]:
    """Estimated bytes to train one step: weights, gradients, optimizer slots, activations.

    Activations are kept for the backward pass and their gradients take as much again
    (the tutorial's "~2× for backward"). A rough upper bound that ignores workspace memory.
    """
    weights = analysis.total_params * BYTES_PER_VALUE
    gradients = analysis.trainable_params * BYTES_PER_VALUE
    kind = optimizer_kind(optimizer)
    slots = (2 if kind is None else kind.slots) * analysis.trainable_params * BYTES_PER_VALUE
    per_image = analysis.activation_bytes
    activations = None if per_image is None else per_image * batch_size * 2
    total = None if activations is None else weights + gradients + slots + activations
    return {
        "weights": weights,
        "gradients": gradients,
        "optimizer": slots,
        "activations": activations,
        "total": total,
    }


def human_count(value: int | None) -> str:
    if value is None:
        return "?"
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def human_bytes(value: int | None) -> str:
    if value is None:
        return "?"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(value) >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value} B"
