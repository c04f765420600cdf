"""Network in Network (Lin et al. 2014): mlpconv blocks and global average pooling."""

from __future__ import annotations

from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo._knobs import STYLE, resolve_style

KNOBS = (
    STYLE,
    ParamSpec("dropout", "float", 0.5, "Dropout after the first two mlpconv blocks.",
              minimum=0.0, maximum=0.9),
)

# (filters, first kernel, first stride) per mlpconv block; each block is F×F then two 1×1.
_NIN_CIFAR = ((192, 160, 96, 5, 1), (192, 192, 192, 5, 1), (192, 192, None, 3, 1))
_NIN_IMAGENET = ((96, 96, 96, 11, 4), (256, 256, 256, 5, 1), (384, 384, 384, 3, 1),
                 (1024, 1024, None, 3, 1))


def nin(size: tuple[int, int], channels: int, classes: int, style: str = "auto",
        dropout: float = 0.5) -> Graph:
    """Lin et al. 2014: mlpconv blocks (F×F conv + two 1×1 convs), global average pooling."""
    style = resolve_style(style, size)
    blocks = _NIN_CIFAR if style == "cifar" else _NIN_IMAGENET
    b = GraphBuilder.network("nin", size, channels)
    x = b.input
    for i, (k1, k2, k3, kernel, stride) in enumerate(blocks, start=1):
        last = i == len(blocks)
        with b.scope(f"mlpconv{i}"):
            x = b.conv(x, f"mlpconv{i}_conv", k1, kernel, strides=stride,
                       padding="valid" if stride > 1 else "same", activation="relu")
            x = b.conv(x, f"mlpconv{i}_cccp1", k2, 1, activation="relu")
            # The last block's final 1×1 conv outputs one map per class.
            x = b.conv(x, f"mlpconv{i}_cccp2", classes if last else k3, 1, activation="relu")
            if not last:
                pool = "MaxPool2D" if (style == "imagenet" or i == 1) else "AvgPool2D"
                x = b.add(pool, x, f"pool{i}", pool_size=3, strides=2, padding="same")
                if dropout and (style == "cifar" or i == len(blocks) - 1):
                    x = b.add("Dropout", x, f"drop{i}", rate=dropout)
    with b.scope("head"):
        x = b.add("GlobalAvgPool2D", x, "global_pool")
        x = b.add("Activation", x, "predictions", function="softmax")
    return b.finish()
