"""Knobs shared by several families."""

from __future__ import annotations

from cnnstudio.graph.params import ParamSpec

STYLE = ParamSpec(
    "style", "choice", "auto",
    "cifar: a 3×3 stem for small images; imagenet: the 7×7 stride-2 stem and max pool. "
    "auto picks cifar below 128 pixels.",
    choices=("auto", "cifar", "imagenet"),
)


def resolve_style(style: str, size: tuple[int, int]) -> str:
    if style == "auto":
        return "cifar" if min(size) < 128 else "imagenet"
    return style


# keras.applications' ResNets and DenseNets use this BatchNorm epsilon (the catalogue's default
# is Keras's 1e-3); the zoo follows it so its networks and imported ones agree.
KERAS_BN_EPSILON = 1.001e-5
