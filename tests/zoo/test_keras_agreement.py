"""Every zoo family builds in Keras; every node's shape and parameter count agree with Keras.

Small inputs keep the forward passes cheap on CPU; the largest ImageNet models are built
and compared without a forward pass.
"""

from __future__ import annotations

import pytest

from cnnstudio import zoo

# (family, input H×W×C, classes, knobs, forward pass?)
CASES = [
    ("lenet5", (32, 32, 1), 10, {}, True),
    ("lenet5", (28, 28, 1), 10, {"variant": "modern"}, True),
    ("alexnet", (227, 227, 3), 10, {"fc_units": 256}, True),
    ("alexnet", (227, 227, 3), 10, {"lrn": False, "two_tower": True, "fc_units": 256}, True),
    ("nin", (32, 32, 3), 10, {}, True),
    ("nin", (128, 128, 3), 10, {"style": "imagenet"}, True),
    ("vgg", (32, 32, 3), 10, {"depth": 11, "fc_units": 64}, True),
    ("vgg", (32, 32, 3), 10, {"depth": 19, "batch_norm": True, "fc_units": 64, "dropout": 0.5}, True),
    ("googlenet", (96, 96, 3), 10, {"aux_heads": True}, True),
    ("googlenet", (64, 64, 3), 10, {"lrn": False}, True),
    ("resnet", (32, 32, 3), 10, {"depth": 20}, True),
    ("resnet", (32, 32, 3), 10, {"depth": 20, "preact": True}, True),
    ("resnet", (32, 32, 3), 10, {"depth": 29, "bottleneck": "bottleneck", "preact": True}, True),
    ("resnet", (64, 64, 3), 10, {"depth": 18, "style": "imagenet"}, True),
    ("resnet", (64, 64, 3), 10, {"depth": 50, "style": "imagenet"}, True),
    ("resnet", (64, 64, 3), 10, {"depth": 50, "style": "imagenet", "preact": True}, True),
    ("wrn", (32, 32, 3), 10, {"depth": 16, "widen": 2, "dropout": 0.3}, True),
    ("resnext", (32, 32, 3), 10, {"depth": 29, "cardinality": 4, "width": 4}, True),
    ("resnext", (64, 64, 3), 10, {"depth": 50, "cardinality": 32, "width": 4, "style": "imagenet"}, True),
    ("densenet", (32, 32, 3), 10, {"depth": 40, "bc": False}, True),
    ("densenet", (32, 32, 3), 10, {"depth": 40, "growth": 12}, True),
    ("densenet", (64, 64, 3), 10, {"depth": 121, "style": "imagenet"}, True),
    ("dpn", (64, 64, 3), 10, {"depth": 92}, True),
]


def _id(case) -> str:
    name, shape, _, knobs, _ = case
    return f"{name}-{'x'.join(map(str, shape))}-" + "-".join(f"{k}={v}" for k, v in knobs.items())


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_family_agrees_with_keras(case, keras_compare):
    name, (h, w, c), classes, knobs, forward = case
    graph = zoo.create(name, (h, w), c, classes, **knobs)
    keras_compare(graph, forward=forward)


def test_every_family_is_covered():
    assert {case[0] for case in CASES} == set(zoo.names())


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, knobs",
    [
        ("resnet", {"depth": 152}),
        ("densenet", {"depth": 161}),
        ("dpn", {"depth": 131}),
        ("googlenet", {"aux_heads": True}),
    ],
    ids=["resnet152", "densenet161", "dpn131", "googlenet-aux-224"],
)
def test_big_imagenet_models_build(name, knobs, keras_compare):
    keras_compare(zoo.create(name, (224, 224), 3, 1000, **knobs), forward=False)
