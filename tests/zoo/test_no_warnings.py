"""The zoo's textbook networks open without warnings (issue: a published design, such as
ResNet's 7×7/2 stem with P=3 on 224, must never be flagged as if it lost image rows)."""

from __future__ import annotations

import pytest

from cnnstudio import zoo
from cnnstudio.graph.analysis import analyze
from cnnstudio.graph.model import Graph

TEXTBOOK = [(name, {}) for name in sorted(zoo.names())] + [
    ("resnet", {"depth": 18}),
    ("resnet", {"depth": 152}),
    ("resnet", {"depth": 50, "preact": True}),
    ("densenet", {"depth": 169}),
    ("densenet", {"depth": 201}),
    ("googlenet", {"aux_heads": True}),
    ("vgg", {"depth": 19}),
    ("nin", {"style": "imagenet", "size": (227, 227)}),  # 11×11/4 valid, as AlexNet
    ("dpn", {"depth": 131}),
]


@pytest.mark.parametrize("name, knobs", TEXTBOOK)
def test_textbook_network_at_its_default_input_has_no_warning(name, knobs):
    knobs = dict(knobs)
    analysis = analyze(zoo.create(name, knobs.pop("size", None), **knobs))
    assert analysis.valid
    assert analysis.warnings == []


def _strided(size: int, kernel: int, stride: int, padding) -> Graph:
    graph = Graph()
    x = graph.add_layer("Input", name="input", height=size, width=size, channels=3)
    graph.add_layer("Conv2D", [x], name="conv", filters=4, kernel_size=kernel, strides=stride, padding=padding)
    return graph


@pytest.mark.parametrize(
    "size, kernel, stride, padding, lost",
    [
        (224, 7, 2, 3, False),  # ResNet/DenseNet stem: Keras floors 111.5, dropping a padding row only
        (112, 3, 2, 1, False),  # their 3×3/2 max pooling with P=1
        (56, 1, 2, "valid", False),  # a 1×1/2 projection skips every other row by design
        (32, 5, 2, "valid", True),  # (32 − 5)/2: the last image row is never read
        (224, 7, 2, 0, True),  # the same stem without its padding loses an image row
        (33, 3, 2, "valid", False),  # (33 − 3)/2 = 15: divides
    ],
)
def test_the_stride_rule_flags_only_lost_image_rows(size, kernel, stride, padding, lost):
    warnings = analyze(_strided(size, kernel, stride, padding)).warnings
    assert bool(warnings) == lost, [w.message for w in warnings]
