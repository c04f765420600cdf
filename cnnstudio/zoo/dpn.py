"""Dual Path Networks (Chen et al. 2017): a residual path and a densely growing path.

Each block's last 1×1 convolution produces bw + inc channels split between the two paths;
we draw it as two 1×1 convolutions from the same input (identical weights count and MACs),
since the graph has no channel-slicing layer. Follows cypw/DPNs.
"""

from __future__ import annotations

from cnnstudio.graph.builder import GraphBuilder
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec

# depth: (stem filters, k_R, groups G, blocks per stage, dense increment per stage)
CONFIGS = {
    92: (64, 96, 32, (3, 4, 20, 3), (16, 32, 24, 128)),
    98: (96, 160, 40, (3, 6, 20, 3), (16, 32, 32, 128)),
    107: (128, 200, 50, (4, 8, 20, 3), (20, 64, 64, 128)),
    131: (128, 160, 40, (4, 8, 28, 3), (16, 32, 32, 128)),
}

KNOBS = (
    ParamSpec("depth", "choice", 92, "DPN-92 (32×3d), DPN-98 (40×4d), DPN-107, DPN-131 "
              "(40×4d) from the paper's table 1.", choices=tuple(CONFIGS)),
)


def _bn_relu_conv(b: GraphBuilder, x: str, name: str, filters: int, kernel: int, stride: int = 1,
                  groups: int = 1) -> str:
    x = b.bn_relu(x, name)
    padding = "same" if stride == 1 else kernel // 2
    return b.conv(x, f"{name}_conv", filters, kernel, strides=stride, padding=padding,
                  use_bias=False, groups=groups)


def _block(b: GraphBuilder, residual: str, dense: str | None, r: int, bw: int, inc: int,
           groups: int, kind: str, name: str) -> tuple[str, str]:
    x = residual if dense is None else b.add("Concatenate", [residual, dense], f"{name}_input")
    if kind != "normal":
        stride = 2 if kind == "down" else 1
        pre = b.bn_relu(x, f"{name}_proj")
        residual = b.conv(pre, f"{name}_proj_res", bw, 1, strides=stride, padding="valid",
                          use_bias=False)
        dense = b.conv(pre, f"{name}_proj_dense", 2 * inc, 1, strides=stride, padding="valid",
                       use_bias=False)
    else:
        stride = 1
    y = _bn_relu_conv(b, x, f"{name}_1x1_a", r, 1)
    y = _bn_relu_conv(b, y, f"{name}_3x3_b", r, 3, stride, groups)
    y = b.bn_relu(y, f"{name}_1x1_c")
    res_out = b.conv(y, f"{name}_1x1_c_res", bw, 1, use_bias=False)
    dense_out = b.conv(y, f"{name}_1x1_c_dense", inc, 1, use_bias=False)
    residual = b.add("Add", [residual, res_out], f"{name}_add")
    dense = b.add("Concatenate", [dense, dense_out], f"{name}_dense")
    return residual, dense


def dpn(size: tuple[int, int], channels: int, classes: int, depth: int = 92) -> Graph:
    stem, k_r, groups, blocks, increments = CONFIGS[int(depth)]
    b = GraphBuilder.network(f"dpn{depth}", size, channels)
    with b.scope("stem"):
        x = b.conv(b.input, "conv1_conv", stem, 7, strides=2, padding=3, use_bias=False)
        x = b.bn_relu(x, "conv1")
        x = b.add("MaxPool2D", x, "pool1", pool_size=3, strides=2, padding=1)
    residual, dense = x, None
    for s, (count, inc) in enumerate(zip(blocks, increments, strict=True)):
        stage = s + 2
        bw = 256 * 2 ** s
        r = k_r * 2 ** s
        for i in range(1, count + 1):
            kind = "normal" if i > 1 else ("proj" if s == 0 else "down")
            with b.scope(f"stage{stage}/block{i}"):
                residual, dense = _block(b, residual, dense, r, bw, inc, groups, kind,
                                         f"conv{stage}_{i}")
    with b.scope("head"):
        x = b.add("Concatenate", [residual, dense], "conv5_output")
        x = b.bn_relu(x, "post")
        x = b.add("GlobalAvgPool2D", x, "avg_pool")
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    return b.finish([x])
