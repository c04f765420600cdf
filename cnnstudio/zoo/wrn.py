"""Wide ResNet (Zagoruyko & Komodakis 2016)."""

from __future__ import annotations

from cnnstudio.errors import ParameterError
from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo._residual import BlockSpec, cifar_stem, head, stages

KNOBS = (
    ParamSpec("depth", "int", 28, "Convolutional layers: 6n+4 (16, 22, 28, 40).",
              minimum=10, maximum=1000),
    ParamSpec("widen", "int", 10, "k, the widening factor: stages have 16k, 32k, 64k channels.",
              minimum=1, maximum=32),
    ParamSpec("dropout", "float", 0.0, "Dropout between the two 3×3 convolutions of each "
              "block (the paper used 0.3).", minimum=0.0, maximum=0.9),
)


def wrn(size: tuple[int, int], channels: int, classes: int, depth: int = 28, widen: int = 10,
        dropout: float = 0.0) -> Graph:
    """Zagoruyko & Komodakis 2016: pre-activation basic blocks, 1×1 projections, no bias."""
    if (depth - 4) % 6:
        raise ParameterError(f"wrn: depth must be 6n+4 (16, 22, 28, 40). Received: depth={depth}",
                             field="depth")
    n = (depth - 4) // 6
    b = GraphBuilder.network(f"wrn{depth}_{widen}", size, channels)
    x = cifar_stem(b, 16, False, preact=True)
    widths = [16 * widen, 32 * widen, 64 * widen]

    def spec(s: int, first: bool) -> BlockSpec:
        return BlockSpec("basic", widths[s], widths[s], 2 if first and s else 1, preact=True,
                         dropout=dropout)

    x = stages(b, x, 16, [n, n, n], spec)
    return b.finish([head(b, x, classes, preact=True)])
