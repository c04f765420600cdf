"""LeNet-5, AlexNet and Network in Network: the tutorial's first three architectures."""

from __future__ import annotations

from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo._builder import Builder
from cnnstudio.zoo._knobs import STYLE, resolve_style

LENET_KNOBS = (
    ParamSpec("variant", "choice", "classic", "classic: tanh units and average-pool subsampling "
              "as in LeCun et al. 1998; modern: ReLU and max pooling.", choices=("classic", "modern")),
)


def lenet5(size: tuple[int, int], channels: int, classes: int, variant: str = "classic") -> Graph:
    """C1 6@5×5, S2, C3 16@5×5, S4, C5 120, F6 84, output (full C3 connections)."""
    act = "tanh" if variant == "classic" else "relu"
    pool = "AvgPool2D" if variant == "classic" else "MaxPool2D"
    b = Builder("lenet5", size, channels)
    with b.scope("features"):
        x = b.conv(b.input, "c1", 6, 5, padding="valid", activation=act)
        x = b.add(pool, x, "s2", pool_size=2, strides=2)
        x = b.conv(x, "c3", 16, 5, padding="valid", activation=act)
        x = b.add(pool, x, "s4", pool_size=2, strides=2)
    with b.scope("classifier"):
        x = b.add("Flatten", x, "flatten")
        x = b.add("Dense", x, "c5", units=120, activation=act)
        x = b.add("Dense", x, "f6", units=84, activation=act)
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    return b.finish()


ALEXNET_KNOBS = (
    ParamSpec("lrn", "bool", True, "Local response normalization after conv1 and conv2 "
              "(the tutorial's NORM layers; 'not common anymore')."),
    ParamSpec("dropout", "float", 0.5, "Dropout before FC7 and FC8.", minimum=0.0, maximum=0.9),
    ParamSpec("two_tower", "bool", False, "Split conv2, conv4 and conv5 into 2 groups as the "
              "original 2-GPU network did (fewer parameters).", advanced=True),
    ParamSpec("fc_units", "int", 4096, "Neurons in FC6 and FC7.", minimum=16, maximum=16384,
              advanced=True),
)


def alexnet(size: tuple[int, int], channels: int, classes: int, lrn: bool = True,
            dropout: float = 0.5, two_tower: bool = False, fc_units: int = 4096) -> Graph:
    """The tutorial's single-tower AlexNet: 227×227×3 -> 55 -> 27 -> 13 -> 6."""
    groups = 2 if two_tower else 1
    b = Builder("alexnet", size, channels)
    with b.scope("conv1"):
        x = b.conv(b.input, "conv1", 96, 11, strides=4, padding="valid", activation="relu")
        x = b.add("MaxPool2D", x, "pool1", pool_size=3, strides=2)
        if lrn:
            x = b.add("LRN", x, "norm1", size=5, alpha=1e-4, beta=0.75, bias=2.0)
    with b.scope("conv2"):
        x = b.conv(x, "conv2", 256, 5, padding=2, activation="relu", groups=groups)
        x = b.add("MaxPool2D", x, "pool2", pool_size=3, strides=2)
        if lrn:
            x = b.add("LRN", x, "norm2", size=5, alpha=1e-4, beta=0.75, bias=2.0)
    with b.scope("conv3-5"):
        x = b.conv(x, "conv3", 384, 3, padding=1, activation="relu")
        x = b.conv(x, "conv4", 384, 3, padding=1, activation="relu", groups=groups)
        x = b.conv(x, "conv5", 256, 3, padding=1, activation="relu", groups=groups)
        x = b.add("MaxPool2D", x, "pool3", pool_size=3, strides=2)
    with b.scope("classifier"):
        x = b.add("Flatten", x, "flatten")
        x = b.add("Dense", x, "fc6", units=fc_units, activation="relu")
        if dropout:
            x = b.add("Dropout", x, "drop6", rate=dropout)
        x = b.add("Dense", x, "fc7", units=fc_units, activation="relu")
        if dropout:
            x = b.add("Dropout", x, "drop7", rate=dropout)
        x = b.add("Dense", x, "fc8", units=classes, activation="softmax")
    return b.finish()


NIN_KNOBS = (
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
    b = Builder("nin", size, channels)
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


VGG_KNOBS = (
    ParamSpec("depth", "choice", 16, "Weight layers: 11 (A), 13 (B), 16 (D) or 19 (E) from "
              "Simonyan & Zisserman's table 1.", choices=(11, 13, 16, 19)),
    ParamSpec("batch_norm", "bool", False, "BatchNorm after every convolution (VGG-BN), "
              "convolutions then drop their bias."),
    ParamSpec("fc_units", "int", 4096, "Neurons in fc1 and fc2.", minimum=16, maximum=16384,
              advanced=True),
    ParamSpec("dropout", "float", 0.0, "Dropout after fc1 and fc2 (the paper used 0.5; "
              "keras.applications leaves it out).", minimum=0.0, maximum=0.9),
)

_VGG_CONVS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def vgg(size: tuple[int, int], channels: int, classes: int, depth: int = 16,
        batch_norm: bool = False, fc_units: int = 4096, dropout: float = 0.0) -> Graph:
    """VGG: 3×3 'same' convolutions in five blocks, 2×2 max pooling, three FC layers."""
    b = Builder(f"vgg{depth}", size, channels)
    x = b.input
    for block, (count, filters) in enumerate(zip(_VGG_CONVS[int(depth)], (64, 128, 256, 512, 512), strict=True),
                                             start=1):
        with b.scope(f"block{block}"):
            for j in range(1, count + 1):
                name = f"block{block}_conv{j}"
                if batch_norm:
                    x = b.conv(x, name, filters, 3, use_bias=False)
                    x = b.bn(x, f"{name}_bn")
                    x = b.relu(x, f"{name}_relu")
                else:
                    x = b.conv(x, name, filters, 3, activation="relu")
            x = b.add("MaxPool2D", x, f"block{block}_pool", pool_size=2, strides=2)
    with b.scope("classifier"):
        x = b.add("Flatten", x, "flatten")
        for i in (1, 2):
            x = b.add("Dense", x, f"fc{i}", units=fc_units, activation="relu")
            if dropout:
                x = b.add("Dropout", x, f"fc{i}_dropout", rate=dropout)
        x = b.add("Dense", x, "predictions", units=classes, activation="softmax")
    return b.finish()
