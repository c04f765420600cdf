"""docs/zoo.md: every zoo preset with its parameters, multiply-adds, depth and reference.

Run: python -m cnnstudio.zoo.docs > docs/zoo.md (tests/zoo/test_docs_page.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnstudio import zoo
from cnnstudio.graph.analysis import Analysis, analyze, human_count
from cnnstudio.graph.model import Graph

WEIGHTED = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense")


@dataclass(frozen=True)
class Preset:
    label: str
    family: str
    knobs: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, int, int] = (224, 224, 3)
    classes: int = 1000
    reference: str = ""  # the published figure the count is compared with


CIFAR = (32, 32, 3)
PRESETS = (
    Preset("LeNet-5", "lenet5", {}, (32, 32, 1), 10, "~60K (LeCun 1998; sparse C3)"),
    Preset("LeNet-5 (ReLU, max pool)", "lenet5", {"variant": "modern"}, (32, 32, 1), 10),
    Preset("AlexNet (tutorial, one tower)", "alexnet", {}, (227, 227, 3)),
    Preset("AlexNet (two towers)", "alexnet", {"two_tower": True}, (227, 227, 3), 1000, "60M"),
    Preset("NiN (CIFAR-10)", "nin", {}, CIFAR, 10, "0.97M (Caffe model)"),
    Preset("NiN (ImageNet)", "nin", {"style": "imagenet"}),
    Preset("VGG-11", "vgg", {"depth": 11}, reference="133M"),
    Preset("VGG-13", "vgg", {"depth": 13}, reference="133M"),
    Preset("VGG-16", "vgg", {"depth": 16}, reference="138M; keras 138,357,544"),
    Preset("VGG-19", "vgg", {"depth": 19}, reference="144M; keras 143,667,240"),
    Preset("VGG-16-BN", "vgg", {"depth": 16, "batch_norm": True}),
    Preset("GoogLeNet", "googlenet", {}, reference="6.8M weights (table 1)"),
    Preset("GoogLeNet + aux heads", "googlenet", {"aux_heads": True}),
    Preset("ResNet-18", "resnet", {"depth": 18}, reference="11.7M"),
    Preset("ResNet-34", "resnet", {"depth": 34}, reference="21.8M"),
    Preset("ResNet-50", "resnet", {"depth": 50}, reference="keras 25,636,712"),
    Preset("ResNet-101", "resnet", {"depth": 101}, reference="keras 44,707,176"),
    Preset("ResNet-152", "resnet", {"depth": 152}, reference="keras 60,419,944"),
    Preset("ResNet-50 v2", "resnet", {"depth": 50, "preact": True}, reference="keras 25,613,800"),
    Preset("ResNet-20 (CIFAR)", "resnet", {"depth": 20}, CIFAR, 10, "0.27M"),
    Preset("ResNet-56 (CIFAR)", "resnet", {"depth": 56}, CIFAR, 10, "0.85M"),
    Preset("ResNet-110 (CIFAR)", "resnet", {"depth": 110}, CIFAR, 10, "1.7M"),
    Preset("Pre-act ResNet-164 (CIFAR)", "resnet", {"depth": 164, "preact": True}, CIFAR, 10, "1.7M"),
    Preset("Pre-act ResNet-1001 (CIFAR)", "resnet", {"depth": 1001, "preact": True}, CIFAR, 10, "10.2M"),
    Preset("WRN-16-8", "wrn", {"depth": 16, "widen": 8}, CIFAR, 10, "11.0M"),
    Preset("WRN-28-10", "wrn", {"depth": 28, "widen": 10}, CIFAR, 10, "36.5M"),
    Preset("WRN-40-4", "wrn", {"depth": 40, "widen": 4}, CIFAR, 10, "8.9M"),
    Preset("ResNeXt-29 8×64d", "resnext", {"depth": 29, "cardinality": 8, "width": 64}, CIFAR, 10, "34.4M"),
    Preset("ResNeXt-29 16×64d", "resnext", {"depth": 29, "cardinality": 16, "width": 64}, CIFAR, 10, "68.1M"),
    Preset("ResNeXt-50 32×4d", "resnext", {"depth": 50, "cardinality": 32, "width": 4, "style": "imagenet"},
           reference="25.0M"),
    Preset("ResNeXt-101 32×4d", "resnext", {"depth": 101, "cardinality": 32, "width": 4, "style": "imagenet"},
           reference="44.3M"),
    Preset("DenseNet-121", "densenet", {"depth": 121}, reference="keras 8,062,504"),
    Preset("DenseNet-169", "densenet", {"depth": 169}, reference="keras 14,307,880"),
    Preset("DenseNet-201", "densenet", {"depth": 201}, reference="keras 20,242,984"),
    Preset("DenseNet-161 (k=48)", "densenet", {"depth": 161}, reference="28.9M"),
    Preset("DenseNet-40 (k=12)", "densenet", {"depth": 40, "growth": 12, "bc": False}, CIFAR, 10, "1.0M"),
    Preset("DenseNet-BC-100 (k=12)", "densenet", {"depth": 100, "growth": 12}, CIFAR, 10, "0.8M"),
    Preset("DenseNet-BC-250 (k=24)", "densenet", {"depth": 250, "growth": 24}, CIFAR, 10, "15.3M"),
    Preset("DenseNet-BC-190 (k=40)", "densenet", {"depth": 190, "growth": 40}, CIFAR, 10, "25.6M"),
    Preset("DPN-92 (32×3d)", "dpn", {"depth": 92}, reference="37.8M"),
    Preset("DPN-98 (40×4d)", "dpn", {"depth": 98}, reference="61.7M"),
    Preset("DPN-131 (40×4d)", "dpn", {"depth": 131}, reference="79.5M"),
)


def weighted_depth(graph: Graph, analysis: Analysis) -> int:
    """Weight layers (convolutions, FC) on the longest input-to-output path: the paper's depth."""
    longest: dict[str, int] = {}
    for name in analysis.order:
        node = graph[name]
        before = max((longest.get(s, 0) for s in node.inputs), default=0)
        longest[name] = before + (1 if node.type in WEIGHTED else 0)
    return max(longest[name] for name in analysis.outputs[:1])


def build(preset: Preset) -> tuple[Graph, Analysis]:
    h, w, c = preset.input_shape
    graph = zoo.create(preset.family, (h, w), c, preset.classes, **preset.knobs)
    return graph, analyze(graph)


def render() -> str:
    lines = [
        "# The architecture zoo",
        "",
        "Generated by `python -m cnnstudio.zoo.docs > docs/zoo.md` from the builders themselves.",
        "Params count every weight Keras holds (BatchNorm's moving mean and variance too);",
        "*trainable* is what PyTorch code and most papers count. Depth counts the weight layers",
        "(convolutions and FC) on the longest path; Wide ResNet's names also count the 1×1",
        "shortcut convolutions (WRN-28-10 has 26 on its longest path). MACs are multiply-adds",
        "for one image.",
        "Create any of them with `cnnstudio zoo create FAMILY --set KEY=VALUE ...`.",
        "",
    ]
    for family in zoo.families():
        lines += [f"## {family.title} (`{family.name}`)", "", family.summary, "",
                  f"Reference: {family.reference}.", ""]
        knobs = ", ".join(f"`{s.name}`" for s in family.knobs) or "none"
        lines += [f"Settings: {knobs}.", ""]
        lines += ["| model | settings | input | params | trainable | MACs | depth | published |",
                  "|---|---|---|---:|---:|---:|---:|---|"]
        for preset in (p for p in PRESETS if p.family == family.name):
            graph, analysis = build(preset)
            settings = " ".join(f"{k}={v}" for k, v in preset.knobs.items()) or "—"
            shape = "×".join(map(str, preset.input_shape))
            lines.append(
                f"| {preset.label} | {settings} | {shape}, {preset.classes} classes | "
                f"{analysis.total_params:,} | {analysis.trainable_params:,} | "
                f"{human_count(analysis.macs)} | {weighted_depth(graph, analysis)} | "
                f"{preset.reference or '—'} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
