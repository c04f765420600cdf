from __future__ import annotations

import pytest

from cnnstudio.graph import Graph, analyze, training_memory
from cnnstudio.graph.analysis import human_bytes


def lenet() -> Graph:
    g = Graph(name="lenet")
    x = g.add_layer("Input", name="input", height=32, width=32, channels=1)
    x = g.add_layer("Conv2D", [x], name="conv1", filters=6, kernel_size=5, activation="tanh")
    x = g.add_layer("AvgPool2D", [x], name="pool1")
    x = g.add_layer("Conv2D", [x], name="conv2", filters=16, kernel_size=5, activation="tanh")
    x = g.add_layer("AvgPool2D", [x], name="pool2")
    x = g.add_layer("Flatten", [x], name="flatten")
    x = g.add_layer("Dense", [x], name="fc1", units=120, activation="tanh")
    x = g.add_layer("Dense", [x], name="fc2", units=84, activation="tanh")
    g.add_layer("Dense", [x], name="out", units=10, activation="softmax")
    return g


def vgg16() -> Graph:
    g = Graph(name="vgg16")
    x = g.add_layer("Input", name="input", height=224, width=224, channels=3)
    for block, (filters, repeats) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], 1):
        for i in range(repeats):
            x = g.add_layer("Conv2D", [x], name=f"conv{block}_{i + 1}", filters=filters, padding=1, activation="relu")
        x = g.add_layer("MaxPool2D", [x], name=f"pool{block}")
    x = g.add_layer("Flatten", [x], name="flatten")
    x = g.add_layer("Dense", [x], name="fc6", units=4096, activation="relu")
    x = g.add_layer("Dense", [x], name="fc7", units=4096, activation="relu")
    g.add_layer("Dense", [x], name="fc8", units=1000, activation="softmax")
    return g


def test_lenet_parameters_and_shapes():
    a = analyze(lenet())
    assert a.valid
    assert a.nodes["conv1"].output_shape == (28, 28, 6)
    assert a.nodes["pool2"].output_shape == (5, 5, 16)
    # Tutorial: F²·D·K weights (+K biases): (5·5·1)·6 and (5·5·6)·16.
    assert a.nodes["conv1"].param_count == 5 * 5 * 1 * 6 + 6
    assert a.nodes["conv2"].param_count == 5 * 5 * 6 * 16 + 16
    assert a.total_params == 61_706
    assert a.nodes["conv1"].macs == 28 * 28 * 6 * 5 * 5


def test_vgg16_matches_the_tutorial_table():
    a = analyze(vgg16())
    # The tutorial's table counts weights without biases.
    weights = {n: a.nodes[n].param_count - a.nodes[n].output_shape[-1] for n in ("conv1_1", "conv1_2", "conv5_3", "fc6", "fc7", "fc8")}
    assert weights == {
        "conv1_1": 1_728,
        "conv1_2": 36_864,
        "conv5_3": 2_359_296,
        "fc6": 102_760_448,
        "fc7": 16_777_216,
        "fc8": 4_096_000,
    }
    assert a.total_params == 138_357_544  # keras.applications.VGG16
    assert a.nodes["conv1_1"].activation_elements == 224 * 224 * 64  # "3.2M"
    assert a.nodes["pool5"].output_shape == (7, 7, 512)
    # ~15.2M values per image forward (the tutorial rounds its sum to 24M); 4 bytes each.
    assert 15.0e6 < a.activation_elements < 15.5e6
    assert a.activation_bytes == a.activation_elements * 4
    assert 15.3e9 < a.macs < 15.6e9


def test_receptive_field_of_three_3x3_convs_is_7x7():
    g = Graph()
    x = g.add_layer("Input", name="input", height=32, width=32, channels=3)
    for i in range(3):
        x = g.add_layer("Conv2D", [x], name=f"c{i}", filters=8, padding="same")
    a = analyze(g)
    assert a.nodes["c2"].receptive_field == (7, 7)
    x = g.add_layer("MaxPool2D", [x], name="pool")
    x = g.add_layer("Conv2D", [x], name="c3", filters=8, padding="same")
    a = analyze(g)
    assert a.nodes["c3"].receptive_field == (8 + 2 * 2, 8 + 2 * 2)
    assert a.nodes["c3"].jump == (2, 2)


def test_formula_with_stride_and_padding():
    # W' = (W − F + 2P)/S + 1: the tutorial's three worked examples.
    for stride, padding, expected in ((1, 0, 28), (2, 0, 14), (1, 2, 32)):
        g = Graph()
        x = g.add_layer("Input", name="input", height=32, width=32, channels=3)
        g.add_layer("Conv2D", [x], name="conv", filters=6, kernel_size=5, strides=stride, padding=padding)
        a = analyze(g)
        assert a.nodes["conv"].output_shape == (expected, expected, 6)
    uneven = [d for d in analyze(g).diagnostics if d.severity == "warning"]
    assert not uneven
    # (32 − 5)/2 is not whole: a warning, and Keras floors to 14.
    assert any("not a whole number" in d.message for d in analyze(_stride_two()).warnings)


def _stride_two() -> Graph:
    g = Graph()
    x = g.add_layer("Input", name="input", height=32, width=32, channels=3)
    g.add_layer("Conv2D", [x], name="conv", filters=6, kernel_size=5, strides=2)
    return g


def test_diagnostics_name_the_node():
    g = Graph()
    x = g.add_layer("Input", name="input", height=8, width=8, channels=3)
    g.add_layer("Conv2D", [x], name="conv3", filters=4, kernel_size=11)
    a = analyze(g)
    assert not a.valid
    (error,) = a.errors
    assert error.node == "conv3"
    assert "0×0" in error.message and "reduce the stride" in error.message

    g = Graph()
    x = g.add_layer("Input", name="input", height=8, width=8, channels=3)
    a1 = g.add_layer("Conv2D", [x], name="a", filters=4, padding="same")
    b1 = g.add_layer("Conv2D", [x], name="b", filters=8, padding="same")
    g.add_layer("Add", [a1, b1], name="sum")
    error = analyze(g).errors[0]
    assert error.node == "sum" and "8×8×4" in error.message and "8×8×8" in error.message

    g = Graph()
    x = g.add_layer("Input", name="input", height=8, width=8, channels=3)
    g.add_layer("Conv2D", [x], name="conv", filters=-1)
    error = analyze(g).errors[0]
    assert error.node == "conv" and "filters" in error.message and "-1" in error.message


def test_cycles_missing_inputs_and_arity():
    g = Graph()
    g.add_layer("Input", name="input", height=8, width=8, channels=3)
    g.add_layer("Conv2D", ["input", "b"], name="a", filters=4)
    g.add_layer("Conv2D", ["a"], name="b", filters=4)
    a = analyze(g)
    cyclic = {d.node for d in a.errors if "cycle" in d.message}
    assert cyclic == {"a", "b"}

    g = Graph()
    g.add_layer("Input", name="input", height=8, width=8, channels=3)
    g.add_layer("Conv2D", ["ghost"], name="a", filters=4)
    g.add_layer("Add", ["input"], name="merge")
    messages = {d.node: d.message for d in analyze(g).errors}
    assert "'ghost'" in messages["a"]
    assert "at least 2 inputs" in messages["merge"]

    empty = Graph()
    empty.add_layer("Dense", [], name="fc", units=3)
    assert any("no Input node" in d.message for d in analyze(empty).errors)


def test_unknown_sizes_propagate():
    g = Graph()
    x = g.add_layer("Input", name="input", height=None, width=None, channels=3)
    x = g.add_layer("Conv2D", [x], name="conv", filters=8, strides=2)
    x = g.add_layer("GlobalAvgPool2D", [x], name="gap")
    g.add_layer("Dense", [x], name="fc", units=5)
    a = analyze(g)
    assert a.valid
    assert a.nodes["conv"].output_shape == (None, None, 8)
    assert a.nodes["conv"].macs is None and a.macs is None
    assert a.nodes["fc"].output_shape == (5,)
    assert a.total_params == 3 * 3 * 3 * 8 + 8 + 8 * 5 + 5


def test_frozen_nodes_count_as_non_trainable():
    g = lenet()
    g.set_trainable("conv1", False)
    a = analyze(g)
    assert a.nodes["conv1"].trainable_params == 0
    assert a.non_trainable_params == 156


def test_training_memory_estimate():
    a = analyze(vgg16())
    memory = training_memory(a, batch_size=64, optimizer="adam")
    assert memory["weights"] == a.total_params * 4
    assert memory["optimizer"] == 2 * a.trainable_params * 4
    assert memory["activations"] == a.activation_bytes * 64 * 2
    assert memory["total"] == sum(v for k, v in memory.items() if k != "total")
    assert human_bytes(memory["total"]).endswith("GB")
    sgd = training_memory(a, 64, "sgd")
    assert sgd["optimizer"] == 0 and sgd["total"] < memory["total"]


def test_700_node_dense_graph_analyses():
    g = Graph()
    x = g.add_layer("Input", name="input", height=56, width=56, channels=64)
    features = [x]
    for i in range(175):  # 4 nodes per dense layer
        x = g.add_layer("BatchNorm", [features[-1]], name=f"bn{i}")
        x = g.add_layer("Activation", [x], name=f"relu{i}")
        x = g.add_layer("Conv2D", [x], name=f"conv{i}", filters=32, padding="same")
        features.append(g.add_layer("Concatenate", [features[-1], x], name=f"cat{i}"))
    assert len(g) > 700
    a = analyze(g)
    # How fast is a figure of benchmarks/analysis_speed.py (goal 50 ms), not a test limit.
    assert a.valid
    assert a.nodes["cat174"].output_shape == (56, 56, 64 + 175 * 32)


@pytest.mark.parametrize("bad", [{"filters": 0}, {"kernel_size": [3]}, {"padding": "full"}, {"activation": "nope"}])
def test_bad_parameter_values_are_diagnostics(bad):
    g = Graph()
    x = g.add_layer("Input", name="input", height=8, width=8, channels=3)
    g.add_layer("Conv2D", [x], name="conv", **bad)
    (error,) = analyze(g).errors
    assert error.node == "conv"
    assert "Received" in error.message


def test_gate_broadcast_against_an_unknown_size_stays_unknown():
    """A squeeze-and-excitation gate (1×1×C) times a None×None map is None×None, not 1×1
    (flexible-input MobileNetV3/EfficientNet imports used to shrink to 1×1 here)."""
    g = Graph()
    x = g.add_layer("Input", name="input", height=None, width=None, channels=8)
    gate = g.add_layer("GlobalAvgPool2D", [x], name="squeeze", keepdims=True)
    g.add_layer("Multiply", [x, gate], name="excite")
    a = analyze(g)
    assert a.valid
    assert a.nodes["squeeze"].output_shape == (1, 1, 8)
    assert a.nodes["excite"].output_shape == (None, None, 8)


def test_every_optimizer_the_settings_offer_has_its_memory_slots():
    """One optimizer table: the settings' choices, the memory estimate and the engine read it."""
    from cnnstudio.optimizer_table import OPTIMIZERS
    from cnnstudio.project import schema

    choices = next(spec.choices for spec in schema.TRAINING if spec.name == "optimizer")
    assert tuple(choices) == tuple(OPTIMIZERS)
    a = analyze(lenet())
    for name, kind in OPTIMIZERS.items():
        slots = training_memory(a, 8, name)["optimizer"]
        assert slots == kind.slots * a.trainable_params * 4
    assert training_memory(a, 8, "sgd")["optimizer"] == 0
