"""Merges: Add (residual), Multiply (gating), Concatenate (Inception, DenseNet)."""

from __future__ import annotations

from cnnstudio.graph.layer_type import KerasCall, LayerType, LayerTypes, ShapeProblem, format_shape
from cnnstudio.graph.params import ParamSpec

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register


def _elementwise_shape(inputs, params):
    rank = len(inputs[0])
    if any(len(s) != rank for s in inputs):
        raise ShapeProblem(
            "receives inputs of different ranks ("
            + ", ".join(format_shape(s) for s in inputs)
            + "): every input must have the same shape."
        )
    out = []
    for axis in range(rank):
        sizes = {s[axis] for s in inputs if s[axis] is not None}
        # Keras broadcasts a size-1 axis (squeeze-and-excitation gates).
        big = {d for d in sizes if d != 1}
        if len(big) > 1:
            raise ShapeProblem(
                "receives inputs of different shapes ("
                + ", ".join(format_shape(s) for s in inputs)
                + "): make them equal, e.g. with a 1×1 convolution (projection shortcut) "
                "or matching strides."
            )
        if big:
            out.append(big.pop())
        elif any(s[axis] is None for s in inputs):
            out.append(None)  # 1 broadcast against an unknown size: unknown (flexible-size models)
        else:
            out.append(1)
    return tuple(out)


register(
    LayerType(
        name="Add",
        category="Merge",
        label="Add",
        help="Element-wise sum of its inputs: the shortcut of a residual block, H(x) = F(x) + x.",
        params=(),
        output_shape=_elementwise_shape,
        keras=lambda p: [KerasCall("Add", {})],
        min_inputs=2,
        max_inputs=None,
        keras_classes=("Add",),
        from_keras=lambda cls, c: {},
    ),
    aliases=("sum", "residual"),
)

register(
    LayerType(
        name="Multiply",
        category="Merge",
        label="Multiply",
        help="Element-wise product of its inputs (gating, squeeze-and-excitation).",
        params=(),
        output_shape=_elementwise_shape,
        keras=lambda p: [KerasCall("Multiply", {})],
        min_inputs=2,
        max_inputs=None,
        keras_classes=("Multiply",),
        from_keras=lambda cls, c: {},
    ),
    aliases=("mul", "product"),
)


def _concat_shape(inputs, params):
    rank = len(inputs[0])
    if any(len(s) != rank for s in inputs):
        raise ShapeProblem(
            "receives inputs of different ranks ("
            + ", ".join(format_shape(s) for s in inputs)
            + "): concatenate tensors of the same rank."
        )
    axis = params["axis"]
    axis = axis if axis >= 0 else rank + axis
    if not 0 <= axis < rank:
        raise ShapeProblem(f"has axis {params['axis']} but its inputs have rank {rank}.")
    out = []
    for i in range(rank):
        sizes = [s[i] for s in inputs]
        if i == axis:
            out.append(None if None in sizes else sum(sizes))
            continue
        known = {d for d in sizes if d is not None}
        if len(known) > 1:
            raise ShapeProblem(
                "receives inputs whose sizes differ outside the concatenation axis ("
                + ", ".join(format_shape(s) for s in inputs)
                + "): match their spatial sizes (same strides and padding on every branch)."
            )
        out.append(known.pop() if known else None)
    return tuple(out)


register(
    LayerType(
        name="Concatenate",
        category="Merge",
        label="Concatenate",
        help="Stacks its inputs along the channel axis (Inception's branches, DenseNet's growth).",
        params=(ParamSpec("axis", "int", -1, "Axis to join on; -1 is channels.", minimum=-4, maximum=3,
                          advanced=True),),
        output_shape=_concat_shape,
        # Our shapes leave out the batch axis; Keras counts it, so a positive axis shifts by one.
        keras=lambda p: [KerasCall("Concatenate", {"axis": p["axis"] + 1 if p["axis"] >= 0 else p["axis"]})],
        min_inputs=2,
        max_inputs=None,
        summary=lambda p: "" if p["axis"] == -1 else f"axis {p['axis']}",
        keras_classes=("Concatenate",),
        from_keras=lambda cls, c: {"axis": c.get("axis", -1) - 1 if c.get("axis", -1) > 0 else c.get("axis", -1)},
    ),
    aliases=("concat", "cat"),
)
