"""Flatten, Reshape, ZeroPadding, Cropping."""

from __future__ import annotations

from cnnstudio.graph.layer_type import (
    Geometry,
    KerasCall,
    LayerType,
    LayerTypes,
    ShapeProblem,
    format_shape,
    need_rank,
    product,
)
from cnnstudio.graph.params import ParamSpec, padding4

LAYER_TYPES = LayerTypes()
register = LAYER_TYPES.register


def _flatten_shape(inputs, params):
    return (product(inputs[0]),)


register(
    LayerType(
        name="Flatten",
        category="Reshape",
        label="Flatten",
        help="Unrolls an H×W×C map into one vector of H·W·C values, ready for a Dense layer.",
        params=(),
        output_shape=_flatten_shape,
        keras=lambda p: [KerasCall("Flatten", {})],
        keras_classes=("Flatten",),
        keeps_class_scores=True,
        from_keras=lambda cls, c: {},
    ),
)


def _reshape_shape(inputs, params):
    target = list(params["target_shape"])
    total = product(inputs[0])
    if -1 in target:
        known = product(d for d in target if d != -1)
        if total is None:
            target[target.index(-1)] = None
        elif total % known:
            raise ShapeProblem(
                f"cannot reshape {format_shape(inputs[0])} ({total} values) into "
                f"{params['target_shape']}: the sizes must multiply to {total}."
            )
        else:
            target[target.index(-1)] = total // known
    elif total is not None and product(target) != total:
        raise ShapeProblem(
            f"cannot reshape {format_shape(inputs[0])} ({total} values) into "
            f"{format_shape(tuple(target))} ({product(target)} values): the sizes must multiply "
            f"to {total}."
        )
    return tuple(target)


register(
    LayerType(
        name="Reshape",
        category="Reshape",
        label="Reshape",
        help="Rearranges values into a new shape with the same number of elements (-1: inferred).",
        params=(ParamSpec("target_shape", "shape", [-1], "New shape without the batch axis, e.g. "
                          "[1, 1, 1024].", label="Target shape"),),
        output_shape=_reshape_shape,
        keras=lambda p: [KerasCall("Reshape", {"target_shape": tuple(p["target_shape"])})],
        summary=lambda p: "×".join(str(d) for d in p["target_shape"]),
        keras_classes=("Reshape",),
        keeps_class_scores=True,
        from_keras=lambda cls, c: {"target_shape": list(c["target_shape"])},
    ),
)


def _pad_shape(sign):
    def rule(inputs, params):
        h, w, c = need_rank(inputs, 3, "feature-map H×W×C")
        (t, b), (left, right) = padding4(params[_key(sign)])
        out_h = None if h is None else h + sign * (t + b)
        out_w = None if w is None else w + sign * (left + right)
        if (out_h is not None and out_h <= 0) or (out_w is not None and out_w <= 0):
            raise ShapeProblem(
                f"crops a {format_shape((h, w))} map to nothing: crop fewer rows or columns."
            )
        return out_h, out_w, c

    return rule


def _key(sign):
    return "padding" if sign > 0 else "cropping"


def _pad_keras(class_name, key):
    def build(p):
        (t, b), (left, right) = padding4(p[key])
        return [KerasCall(class_name, {key: ((t, b), (left, right))})]

    return build


def _pad_from_keras(key):
    def read(cls, c):
        # The simplest form that says the same: P, [rows, cols] or [[top, bottom], [left, right]].
        (t, b), (left, right) = padding4(c.get(key, 1))
        if t == b and left == right:
            return {key: t if t == left else [t, left]}
        return {key: [[t, b], [left, right]]}

    return read


def _pad_geometry(params) -> Geometry:
    return Geometry()


register(
    LayerType(
        name="ZeroPadding",
        category="Reshape",
        label="Zero padding",
        help="Adds P rows/columns of zeros around the map (explicit padding before a 'valid' layer).",
        params=(ParamSpec("padding", "padding4", 1, "P: a number, [rows, cols] or [[top, bottom], "
                          "[left, right]].", label="Padding P"),),
        output_shape=_pad_shape(+1),
        keras=_pad_keras("ZeroPadding2D", "padding"),
        geometry=_pad_geometry,
        summary=lambda p: f"P{p['padding']}",
        keras_classes=("ZeroPadding2D",),
        from_keras=_pad_from_keras("padding"),
    ),
    aliases=("zeropadding2d", "pad"),
)

register(
    LayerType(
        name="Cropping",
        category="Reshape",
        label="Cropping",
        help="Removes rows/columns from the borders of the map.",
        params=(ParamSpec("cropping", "padding4", 1, "A number, [rows, cols] or [[top, bottom], "
                          "[left, right]]."),),
        output_shape=_pad_shape(-1),
        keras=_pad_keras("Cropping2D", "cropping"),
        geometry=_pad_geometry,
        summary=lambda p: f"crop {p['cropping']}",
        keras_classes=("Cropping2D",),
        from_keras=_pad_from_keras("cropping"),
    ),
    aliases=("cropping2d", "crop"),
)
