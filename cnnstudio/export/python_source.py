"""Graph -> readable, standalone Keras source that rebuilds the architecture.

The file needs only Keras: cnnstudio's own layers (LRN, L2 pooling, ...) are copied into
it as classes, registered under the same names so a model saved from it loads in CNN
Studio too. Layer names are node names; group changes become section comments.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
from pathlib import Path
from typing import Any

from cnnstudio import __version__
from cnnstudio.errors import ExportError, GraphError
from cnnstudio.graph import catalogue
from cnnstudio.graph.analysis import analyze, human_count
from cnnstudio.graph.model import Graph
from cnnstudio.project.schema import weight_defaults

RESERVED = {"keras", "layers", "ops", "model", "inputs", "outputs", "build_model", "PACKAGE"}
ALWAYS_SHOWN = {"padding", "kernel_size", "pool_size"}  # the tutorial's F and P, even at defaults


def _identifier(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit():
        base = "t_" + base
    if keyword.iskeyword(base) or base in RESERVED or hasattr(builtins, base):
        base += "_"  # PEP 8's way around a clash: input -> input_
    candidate, i = base, 1
    while candidate in taken:
        i += 1
        candidate = f"{base}_{i}"
    taken.add(candidate)
    return candidate


def _is_default(cls: Any, key: str, value: Any) -> bool:
    try:
        parameter = inspect.signature(cls.__init__).parameters.get(key)
    except (TypeError, ValueError):
        return False
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return False
    default = parameter.default
    if default is None and value in ("linear", None):
        return True
    if isinstance(default, int) and isinstance(value, (tuple, list)) and len(set(value)) == 1:
        return int(value[0]) == default and not isinstance(default, bool)
    if isinstance(default, (tuple, list)) and isinstance(value, (tuple, list)):
        return tuple(default) == tuple(value)
    return type(default) is type(value) and default == value


def _render(value: Any) -> str:
    if isinstance(value, float):
        return repr(round(value, 12))
    if isinstance(value, tuple):
        inner = ", ".join(_render(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_render(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _call_text(call: catalogue.KerasCall, layer_name: str, trainable: bool,
               variable: str, value: str) -> str:
    from cnnstudio.modeling.builder import layer_class

    cls = layer_class(call)
    args = [f"{key}={_render(value)}" for key, value in call.kwargs.items()
            if key in ALWAYS_SHOWN or not _is_default(cls, key, value)]
    args.append(f"name={layer_name!r}")
    if not trainable:
        args.append("trainable=False")
    prefix = "" if call.custom else "layers."
    line = f"    {variable} = {prefix}{call.class_name}({', '.join(args)})"
    if len(line) <= 100:
        return f"{line}({value})"
    # One argument per line keeps long layers readable.
    inner = "".join(f"        {arg},\n" for arg in args)
    return f"    {variable} = {prefix}{call.class_name}(\n{inner}    )({value})"


def _custom_class_sources(names: list[str]) -> list[str]:
    from cnnstudio.modeling.custom_layers import CUSTOM_OBJECTS

    return [inspect.getsource(CUSTOM_OBJECTS[name]).rstrip() for name in names]


def graph_to_source(graph: Graph, defaults: dict[str, Any] | None = None,
                    origin: str = "") -> str:
    """The Python source; raises GraphError if the graph is invalid."""
    analysis = analyze(graph)
    if analysis.errors:
        first = analysis.errors[0]
        raise GraphError(f"cannot export an invalid architecture: {first.message}", node=first.node)
    defaults = defaults or {}
    taken: set[str] = set()
    variables: dict[str, str] = {}
    custom: list[str] = []
    body: list[str] = []
    group = None
    defined: set[str] = set()
    readable = True  # insertion order keeps blocks together; use it when it is topological
    for node in graph:
        readable = readable and all(s in defined for s in node.inputs)
        defined.add(node.name)
    for name in ([n.name for n in graph] if readable else analysis.order):
        node = graph[name]
        layer_type = catalogue.get(node.type)
        params = layer_type.with_weight_defaults(analysis.nodes[name].params or {}, defaults)
        calls = layer_type.keras(params)
        variable = _identifier(name, taken)
        variables[name] = variable
        if node.group != group:
            group = node.group
            body.append("")
            body.append(f"    # ---- {group or 'top level'} " + "-" * max(4, 60 - len(group or 'top level')))
        if node.type == "Input":
            shape = calls[0].kwargs["shape"]
            body.append(f"    {variable} = keras.Input(shape={_render(tuple(shape))}, name={name!r})")
            continue
        sources = [variables[s] for s in node.inputs]
        value = f"[{', '.join(sources)}]" if layer_type.max_inputs != 1 else sources[0]
        for call in calls:
            if call.custom and call.class_name not in custom:
                custom.append(call.class_name)
            body.append(_call_text(call, name + call.suffix, node.trainable, variable, value))
            value = variable
    inputs = [variables[n] for n in graph.inputs()]
    outputs = [variables[n] for n in analysis.outputs]
    inputs_text = inputs[0] if len(inputs) == 1 else "[" + ", ".join(inputs) + "]"
    outputs_text = outputs[0] if len(outputs) == 1 else "[" + ", ".join(outputs) + "]"
    header = f'''"""{graph.name}: rebuilds the architecture with Keras ({len(graph)} layers,
{analysis.total_params:,} parameters, {human_count(analysis.macs)} multiply-adds per image).

Generated by CNN Studio {__version__}{f" from {origin}" if origin else ""}. Standalone: needs only
Keras 3. Run this file to print the summary, or import it and call build_model().
"""

from __future__ import annotations

import keras
from keras import layers, ops  # noqa: F401  (ops is used by the custom layers, if any)

PACKAGE = "cnnstudio"  # custom layers register as cnnstudio>Name, as in CNN Studio itself
'''
    parts = [header]
    for source in _custom_class_sources(custom):
        parts.append("\n" + source + "\n")
    function = ["", "def build_model() -> keras.Model:",
                f'    """The {graph.name} network, layer names as in the CNN Studio project."""',
                *(body[1:] if body and body[0] == "" else body),
                "",
                f"    return keras.Model(inputs={inputs_text}, outputs={outputs_text}, "
                f"name={_model_name(graph.name)!r})",
                "", "",
                'if __name__ == "__main__":',
                "    build_model().summary()", ""]
    return "\n".join(parts) + "\n" + "\n".join(function)


def _model_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name) or "model"


def check_source(text: str, expected_params: int | None = None) -> int:
    """Exec the source in a fresh namespace, build the model, return its parameter count.

    Keras's custom-object registry is restored afterwards so the copies in the file do not
    replace CNN Studio's own classes.
    """
    import keras

    registry = keras.saving.get_custom_objects()
    saved = dict(registry)
    try:
        namespace: dict[str, Any] = {"__name__": "cnnstudio_exported_model"}
        exec(compile(text, "<exported model>", "exec"), namespace)  # noqa: S102 - our own output
        count = int(namespace["build_model"]().count_params())
    finally:
        registry.clear()
        registry.update(saved)
    if expected_params is not None and count != expected_params:
        raise ExportError(f"the generated source builds {count:,} parameters instead of "
                          f"{expected_params:,}; please report this bug.")
    return count


def export_graph(graph: Graph, out: str | Path, defaults: dict[str, Any] | None = None,
                 origin: str = "", verify: bool = True) -> Path:
    from cnnstudio.fileio import write_text_atomic

    text = graph_to_source(graph, defaults, origin)
    if verify:
        check_source(text, analyze(graph).total_params)
    out = Path(out)
    write_text_atomic(out, text)
    return out


def export_python(source: Any, out: str | Path) -> Path:
    """Exporter hook: write `source` (a Graph, or an export.sources.ModelSource) to `out`."""
    if isinstance(source, Graph):
        return export_graph(source, out)
    if getattr(source, "kind", None) == "project":
        from cnnstudio.project import load_project

        project = load_project(source.path)
        return export_graph(project.graph, out, weight_defaults(project.training),
                            origin=Path(source.path).name)
    from cnnstudio.modeling.importer import graph_from_keras

    graph = graph_from_keras(source.model, name=Path(source.path).stem).graph
    return export_graph(graph, out, origin=Path(source.path).name)


__all__ = ["check_source", "export_graph", "export_python", "graph_to_source"]
