"""Catalogue entries, one module per category family; each lists its LAYER_TYPES."""

from __future__ import annotations

from cnnstudio.graph.layers import (
    convolution,
    core,
    imported,
    merge,
    normalization,
    pooling,
    reshape,
)

# Registration order (the palette's order within a category).
MODULES = (convolution, core, imported, merge, normalization, pooling, reshape)
