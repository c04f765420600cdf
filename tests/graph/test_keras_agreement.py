"""Random valid graphs (hypothesis): the analysis equals Keras node by node."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnstudio.graph import Graph, analyze
from tests.keras_agreement import assert_matches_keras

paddings = st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2))
sizes = st.one_of(st.integers(1, 4), st.lists(st.integers(1, 3), min_size=2, max_size=2))


@st.composite
def spatial_layer(draw, channels):
    kind = draw(st.sampled_from(["Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPool2D", "AvgPool2D",
                                 "L2Pool2D", "BatchNorm", "LayerNorm", "LRN", "Activation", "Dropout",
                                 "SpatialDropout", "ZeroPadding", "Cropping", "Rescaling"]))
    params: dict = {}
    if kind == "Conv2D":
        groups = draw(st.sampled_from([g for g in (1, 2, 4) if channels % g == 0]))
        params = {"filters": groups * draw(st.integers(1, 4)), "kernel_size": draw(sizes), "strides": draw(st.integers(1, 2)),
                  "padding": draw(paddings), "groups": groups, "use_bias": draw(st.booleans()),
                  "activation": draw(st.sampled_from(["linear", "relu", "tanh", "gelu"]))}
        if params["strides"] == 1 and draw(st.booleans()):
            params["dilation_rate"] = 2
    elif kind == "DepthwiseConv2D":
        params = {"kernel_size": draw(sizes), "strides": draw(st.integers(1, 2)), "padding": draw(paddings),
                  "depth_multiplier": draw(st.integers(1, 2)), "use_bias": draw(st.booleans())}
    elif kind == "SeparableConv2D":
        params = {"filters": draw(st.integers(1, 6)), "kernel_size": draw(sizes), "padding": draw(paddings),
                  "depth_multiplier": draw(st.integers(1, 2))}
    elif kind in ("MaxPool2D", "AvgPool2D", "L2Pool2D"):
        params = {"pool_size": draw(sizes), "strides": draw(st.integers(1, 3)),
                  "padding": draw(st.sampled_from(["same", "valid"]))}
    elif kind in ("BatchNorm", "LayerNorm"):
        params = {"center": draw(st.booleans()), "scale": draw(st.booleans())}
    elif kind == "Activation":
        params = {"function": draw(st.sampled_from(["relu", "leaky_relu", "elu", "swish", "sigmoid", "relu6"]))}
    elif kind in ("ZeroPadding", "Cropping"):
        key = "padding" if kind == "ZeroPadding" else "cropping"
        params = {key: draw(st.one_of(st.integers(0, 2), st.just([[1, 0], [0, 1]])))}
    return kind, params


@st.composite
def random_graph(draw):
    g = Graph(name="random")
    size = draw(st.integers(6, 20))
    channels = draw(st.integers(1, 4))
    x = g.add_layer("Input", name="input", height=size, width=size, channels=channels)
    shape = (size, size, channels)
    for i in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 4)) == 0:
            # A residual or concatenating branch around a 'same' conv.
            branch = g.add_layer("Conv2D", [x], name=f"branch{i}", filters=shape[2], padding="same")
            merge = draw(st.sampled_from(["Add", "Multiply", "Concatenate"]))
            x = g.add_layer(merge, [x, branch], name=f"merge{i}")
        else:
            kind, params = draw(spatial_layer(shape[2]))
            x = g.add_layer(kind, [x], name=f"n{i}", **params)
        a = analyze(g)
        assume(a.valid)
        shape = a.nodes[x].output_shape
    head = draw(st.sampled_from(["flatten", "gap", "gmp"]))
    if head == "flatten":
        x = g.add_layer("Flatten", [x], name="flatten")
    elif head == "gap":
        x = g.add_layer("GlobalAvgPool2D", [x], name="gap", keepdims=draw(st.booleans()))
    else:
        x = g.add_layer("GlobalMaxPool2D", [x], name="gmp")
    g.add_layer("Dense", [x], name="out", units=draw(st.integers(1, 5)), activation="softmax")
    return g


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(random_graph())
def test_random_graphs_agree_with_keras(graph):
    assert_matches_keras(graph)


def test_vgg16_agrees_with_keras_applications():
    import keras

    from tests.graph.test_analysis import vgg16

    assert analyze(vgg16()).total_params == keras.applications.VGG16(weights=None).count_params()
