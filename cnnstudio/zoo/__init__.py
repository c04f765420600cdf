"""The architecture zoo: parametric builders for the tutorial's ten families -> Graph.

`families()` lists them, `describe(name)` gives one (knobs as ParamSpecs, for generated
forms), `create(name, size, channels, classes, **knobs)` builds the Graph. Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnnstudio.errors import ParameterError, StudioError
from cnnstudio.graph.model import Graph
from cnnstudio.graph.params import ParamSpec
from cnnstudio.zoo import alexnet, densenet, dpn, googlenet, lenet, nin, resnet, resnext, vgg, wrn


class ZooError(StudioError):
    """An unknown family name or knob."""


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    summary: str
    reference: str
    knobs: tuple[ParamSpec, ...]
    build: Callable[..., Graph]
    input_shape: tuple[int, int, int]  # default H, W, C
    classes: int = 1000
    min_size: int = 32
    extra: dict[str, Any] = field(default_factory=dict)

    def knob(self, name: str) -> ParamSpec:
        for spec in self.knobs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.knobs}


FAMILIES: dict[str, Family] = {}


def _register(family: Family) -> None:
    FAMILIES[family.name] = family


_register(Family(
    "lenet5", "LeNet-5", "Two 5×5 convolutions with subsampling, then three fully connected layers.",
    "LeCun et al. 1998, Gradient-Based Learning Applied to Document Recognition",
    lenet.KNOBS, lenet.lenet5, (32, 32, 1), classes=10, min_size=28))
_register(Family(
    "alexnet", "AlexNet", "Five convolutions (11×11/4 first), LRN, max pooling, three FC layers "
    "with dropout: the tutorial's single-tower table.",
    "Krizhevsky et al. 2012, ImageNet Classification with Deep Convolutional Neural Networks",
    alexnet.KNOBS, alexnet.alexnet, (227, 227, 3), min_size=195))
_register(Family(
    "nin", "Network in Network", "mlpconv blocks (a convolution followed by 1×1 convolutions) "
    "and global average pooling instead of FC layers.",
    "Lin et al. 2014, Network In Network", nin.KNOBS, nin.nin, (32, 32, 3),
    classes=10, min_size=32))
_register(Family(
    "vgg", "VGG", "Stacks of 3×3 convolutions and 2×2 max pooling, three FC layers.",
    "Simonyan & Zisserman 2015, Very Deep Convolutional Networks for Large-Scale Image "
    "Recognition", vgg.KNOBS, vgg.vgg, (224, 224, 3)))
_register(Family(
    "googlenet", "GoogLeNet", "Inception v1: parallel 1×1, 3×3, 5×5 and pooling branches with "
    "1×1 bottleneck reductions, concatenated; no FC layers but the classifier.",
    "Szegedy et al. 2015, Going Deeper with Convolutions", googlenet.KNOBS, googlenet.googlenet,
    (224, 224, 3)))
_register(Family(
    "resnet", "ResNet", "Residual blocks H(x) = F(x) + x (basic 3-3 or bottleneck 1-3-1), "
    "v1 or pre-activation v2.",
    "He et al. 2016, Deep Residual Learning for Image Recognition; Identity Mappings in Deep "
    "Residual Networks", resnet.KNOBS, resnet.resnet, (224, 224, 3)))
_register(Family(
    "wrn", "Wide ResNet", "Shallower, k times wider pre-activation residual networks.",
    "Zagoruyko & Komodakis 2016, Wide Residual Networks", wrn.KNOBS, wrn.wrn,
    (32, 32, 3), classes=10))
_register(Family(
    "resnext", "ResNeXt", "Bottleneck blocks whose 3×3 convolution is split into C groups "
    "(cardinality) of width d.",
    "Xie et al. 2017, Aggregated Residual Transformations for Deep Neural Networks",
    resnext.KNOBS, resnext.resnext, (32, 32, 3), classes=10))
_register(Family(
    "densenet", "DenseNet", "Each layer receives the concatenated maps of all earlier layers "
    "of its block; transitions compress and pool.",
    "Huang et al. 2017, Densely Connected Convolutional Networks", densenet.KNOBS,
    densenet.densenet, (224, 224, 3)))
_register(Family(
    "dpn", "Dual Path Network", "ResNeXt-style residual path plus a DenseNet-style growing path "
    "in every block.", "Chen et al. 2017, Dual Path Networks", dpn.KNOBS, dpn.dpn,
    (224, 224, 3)))


def families() -> list[Family]:
    return list(FAMILIES.values())


def names() -> list[str]:
    return list(FAMILIES)


def describe(name: str) -> Family:
    try:
        return FAMILIES[name.lower()]
    except KeyError:
        raise ZooError(f"unknown architecture {name!r}; choose one of {', '.join(FAMILIES)}.") from None


def knob_specs(name: str) -> tuple[ParamSpec, ...]:
    """The family's knobs as ParamSpecs, for a generated dialog."""
    return describe(name).knobs


def check_knobs(name: str, knobs: dict[str, Any]) -> dict[str, Any]:
    """Every knob checked and normalised, defaults filled in; raises ZooError/ParameterError."""
    family = describe(name)
    known = {spec.name for spec in family.knobs}
    for key in knobs:
        if key not in known:
            raise ZooError(f"{family.name} has no setting {key!r}; it takes "
                           f"{', '.join(sorted(known))}.")
    out: dict[str, Any] = {}
    for spec in family.knobs:
        value = knobs.get(spec.name, spec.default)
        if spec.kind == "choice" and isinstance(value, str):
            # Command-line values arrive as text; choices may be numbers (VGG's depth).
            for choice in spec.choices:
                if str(choice) == value:
                    value = choice
        if spec.optional and isinstance(value, str) and value.lower() in ("", "none", "auto"):
            value = None
        out[spec.name] = spec.check(value, family.name)
    return out


def create(name: str, size: tuple[int, int] | None = None, channels: int | None = None,
           classes: int | None = None, **knobs: Any) -> Graph:
    """Build family `name` for images of `size` (H, W) × `channels` and `classes` outputs."""
    family = describe(name)
    height, width = size or family.input_shape[:2]
    channels = family.input_shape[2] if channels is None else channels
    classes = family.classes if classes is None else classes
    if min(height, width) < family.min_size:
        raise ParameterError(f"{family.name} needs images of at least {family.min_size}×"
                             f"{family.min_size} pixels. Received: input {height}×{width}",
                             field="input")
    if channels < 1 or classes < 1:
        raise ParameterError(f"{family.name}: channels and classes must be at least 1. "
                             f"Received: channels={channels}, classes={classes}", field="classes")
    values = check_knobs(family.name, knobs)
    graph = family.build((int(height), int(width)), int(channels), int(classes), **values)
    # Knobs valid one by one can still combine into an impossible network (cardinality × width
    # beyond any layer's range, an input too small for the depth): say so instead of
    # handing out a broken graph.
    from cnnstudio.graph.analysis import analyze

    errors = analyze(graph).errors
    if errors:
        chosen = ", ".join(f"{k}={v}" for k, v in values.items()) or "the defaults"
        raise ParameterError(f"{family.name} with {chosen} at {height}×{width}×{channels} does not make a "
                             f"valid network: {errors[0].message} Choose smaller settings.", field="settings")
    return graph


__all__ = ["FAMILIES", "Family", "ZooError", "check_knobs", "create", "describe", "families",
           "knob_specs", "names"]
