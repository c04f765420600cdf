"""The layer catalogue: the registry of layer types, the single source of truth.

Each entry (a LayerType, defined in layer_type.py) is declared once in graph/layers/; the
palette, inspector, analysis, builder, importer and Python export all read it from here.
No TensorFlow or Qt here.
"""

from __future__ import annotations

from cnnstudio.graph.layer_type import (  # noqa: F401  re-exported: readers name them catalogue.X
    CATEGORIES,
    Geometry,
    KerasCall,
    LayerType,
    LayerTypes,
    Shape,
    ShapeProblem,
    dropped_image_rows,
    format_shape,
    need_rank,
    padding_per_axis,
    product,
    spatial_out,
)

_REGISTRY: dict[str, LayerType] = {}
_ALIASES: dict[str, str] = {}


def register(layer_type: LayerType) -> LayerType:
    if layer_type.name in _REGISTRY:
        raise ValueError(f"layer type {layer_type.name!r} registered twice")
    if layer_type.category not in CATEGORIES:
        raise ValueError(f"unknown category {layer_type.category!r}")
    _REGISTRY[layer_type.name] = layer_type
    for alias in layer_type.aliases:
        _ALIASES[alias.lower()] = layer_type.name
    return layer_type


def _load() -> None:
    if _REGISTRY:
        return
    from cnnstudio.graph.layers import MODULES

    for module in MODULES:
        for layer_type in module.LAYER_TYPES:
            register(layer_type)


def layer_types() -> dict[str, LayerType]:
    _load()
    return dict(_REGISTRY)


def get(name: str) -> LayerType:
    _load()
    if name in _REGISTRY:
        return _REGISTRY[name]
    canonical = _ALIASES.get(name.lower())
    if canonical:
        return _REGISTRY[canonical]
    for known in _REGISTRY:
        if known.lower() == name.lower():
            return _REGISTRY[known]
    raise KeyError(name)


def by_category() -> dict[str, list[LayerType]]:
    _load()
    grouped: dict[str, list[LayerType]] = {c: [] for c in CATEGORIES}
    for item in _REGISTRY.values():
        grouped[item.category].append(item)
    return grouped
