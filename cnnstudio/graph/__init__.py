"""The architecture as data: catalogue, Graph, validation and analysis. No Qt, no TensorFlow."""

from __future__ import annotations

from cnnstudio.graph.analysis import Analysis, Diagnostic, NodeAnalysis, analyze, training_memory
from cnnstudio.graph.catalogue import LayerType, get, layer_types
from cnnstudio.graph.model import Graph, GraphChange, Node

__all__ = [
    "Analysis",
    "Diagnostic",
    "Graph",
    "GraphChange",
    "LayerType",
    "Node",
    "NodeAnalysis",
    "analyze",
    "get",
    "layer_types",
    "training_memory",
]
