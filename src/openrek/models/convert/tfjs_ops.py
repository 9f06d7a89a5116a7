"""TF ops -> ONNX nodes, one function per op family, for the ops openrek's TF.js graph
models use. Each handler gets the builder, the TF node and its input values, and
returns the node's output values; a handler folds the op into a constant instead when
all its inputs are constants, as TF's own constant folding would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

from openrek.models.convert.same_padding import same_padding
from openrek.models.convert.tfjs_nodes import (
    TF_TYPES,
    Builder,
    Handler,
    TfNode,
    UnsupportedGraph,
    Value,
    all_constant,
    constant_input,
)

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


# --- element-wise ---------------------------------------------------------------------

_BINARY = {
    "Add": ("Add", np.add),
    "AddV2": ("Add", np.add),
    "Sub": ("Sub", np.subtract),
    "Mul": ("Mul", np.multiply),
    "RealDiv": ("Div", np.divide),
    "Maximum": ("Max", np.maximum),
    "Minimum": ("Min", np.minimum),
    "Equal": ("Equal", np.equal),
    "Less": ("Less", np.less),
    "Greater": ("Greater", np.greater),
    "GreaterEqual": ("GreaterOrEqual", np.greater_equal),
    "LogicalAnd": ("And", np.logical_and),
}


def binary(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    onnx_op, numpy_op = _BINARY[node.op]
    if all_constant(x):
        result = np.asarray(numpy_op(x[0], x[1]))
        return [result if result.dtype == np.bool_ else result.astype(np.asarray(x[0]).dtype)]
    return [b.one(onnx_op, x, node.name)]


def squared_difference(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    difference = b.one("Sub", x, f"{node.name}/difference")
    return [b.one("Mul", [difference, difference], node.name)]


def floor_div(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    if node.tf_type() == "DT_FLOAT":
        return [b.one("Floor", [b.one("Div", x, f"{node.name}/div")], node.name)]
    # ONNX integer Div truncates toward zero; TF floors: divide in float (exact for
    # the small indices these graphs divide) and floor.
    as_float = [
        b.one("Cast", [b.tensor(v, f"{node.name}/in{i}")], f"{node.name}/float{i}", to=TensorProto.FLOAT)
        for i, v in enumerate(x)
    ]
    floored = b.one("Floor", [b.one("Div", as_float, f"{node.name}/div")], f"{node.name}/floor")
    return [b.one("Cast", [floored], node.name, to=TF_TYPES[node.tf_type()][0])]


def add_n(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("Sum", x, node.name)]


_UNARY = {"Sigmoid": "Sigmoid", "Exp": "Exp", "Abs": "Abs", "Relu": "Relu", "Reciprocal": "Reciprocal"}


def unary(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    if node.op == "LeakyRelu":
        alpha = float(node.attr.get("alpha", {}).get("f", 0.2))
        return [b.one("LeakyRelu", x[:1], node.name, alpha=alpha)]
    if node.op == "Relu6":
        return [_relu6(b, x[0], node.name)]
    return [b.one(_UNARY[node.op], x[:1], node.name)]


def _relu6(b: Builder, x: Value, name: str) -> str:
    return b.one("Clip", [x, np.array(0, np.float32), np.array(6, np.float32)], name)


def cast(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    onnx_type, numpy_type = TF_TYPES[node.tf_type("DstT")]
    if all_constant(x):
        return [constant_input(x, node, 0).astype(numpy_type)]
    return [b.one("Cast", x, node.name, to=onnx_type)]


def select(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("Where", x, node.name)]


# --- convolution, pooling, resizing (NHWC in TF, NCHW in ONNX) ---------------------


def _nchw(b: Builder, x: Value, name: str) -> str:
    return b.one("Transpose", [x], f"{name}/to_nchw", perm=TO_NCHW)


def _nhwc(b: Builder, x: str, name: str) -> str:
    return b.one("Transpose", [x], name, perm=TO_NHWC)


def _window(node: TfNode, key: str) -> list[int]:
    if node.text("data_format") not in ("", "NHWC"):
        raise UnsupportedGraph(f"{node.op} {node.name}: data_format {node.text('data_format')}")
    values = node.ints(key) or [1, 1, 1, 1]
    return values[1:3]


def _padding(node: TfNode, kernel: list[int]) -> dict[str, Any]:
    padding = node.text("padding")
    if padding == "SAME":  # a TF.js graph does not record its spatial sizes
        return same_padding([None, None], kernel, _window(node, "strides"), _window(node, "dilations"))
    if padding == "VALID":
        return {}
    raise UnsupportedGraph(f"{node.op} {node.name}: padding {padding!r}")


def convolution(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    """Conv2D, DepthwiseConv2dNative and their fused forms (bias, then Relu / Relu6)."""
    kernel = constant_input(x, node, 1)  # TF: height, width, in, out (depthwise: in, multiplier)
    height, width, channels, out = kernel.shape
    if node.op in ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
        weight = kernel.reshape(height, width, channels * out).transpose(2, 0, 1)[:, None]
        group = channels
    else:
        weight, group = kernel.transpose(3, 2, 0, 1), 1
    fused = node.texts("fused_ops")
    inputs: list[Value] = [_nchw(b, x[0], node.name), np.ascontiguousarray(weight, np.float32)]
    if fused[:1] == ["BiasAdd"]:
        inputs.append(constant_input(x, node, 2).astype(np.float32))
        fused = fused[1:]
    elif fused:
        raise UnsupportedGraph(f"{node.op} {node.name}: fused ops {fused}")
    output = b.one(
        "Conv",
        inputs,
        f"{node.name}/conv",
        group=group,
        kernel_shape=[height, width],
        strides=_window(node, "strides"),
        dilations=_window(node, "dilations"),
        **_padding(node, [height, width]),
    )
    for activation in fused:
        if activation == "Relu":
            output = b.one("Relu", [output], f"{node.name}/relu")
        elif activation == "Relu6":
            output = _relu6(b, output, f"{node.name}/relu6")
        else:
            raise UnsupportedGraph(f"{node.op} {node.name}: fused activation {activation}")
    return [_nhwc(b, output, node.name)]


def max_pool(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    pooled = b.one(
        "MaxPool",
        [_nchw(b, x[0], node.name)],
        f"{node.name}/pool",
        kernel_shape=_window(node, "ksize"),
        strides=_window(node, "strides"),
        **_padding(node, _window(node, "ksize")),
    )
    return [_nhwc(b, pooled, node.name)]


def resize_bilinear(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    if node.flag("align_corners") or not node.flag("half_pixel_centers"):
        raise UnsupportedGraph(f"{node.name}: only half-pixel-centre bilinear resizing is handled")
    image = _nchw(b, x[0], node.name)
    batch_channels = b.one(
        "Slice",
        [b.one("Shape", [image], f"{node.name}/shape"), np.array([0]), np.array([2])],
        f"{node.name}/nc",
    )
    sizes = b.one("Concat", [batch_channels, b.int64(x[1], node.name)], f"{node.name}/sizes", axis=0)
    resized = b.one(
        "Resize",
        [image, "", "", sizes],
        f"{node.name}/resize",
        mode="linear",
        coordinate_transformation_mode="half_pixel",
    )
    return [_nhwc(b, resized, node.name)]


# --- shapes, slicing and gathering ------------------------------------------------


def transpose(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    perm = [int(p) for p in constant_input(x, node, 1)]
    if all_constant(x):
        return [np.transpose(x[0], perm)]
    return [b.one("Transpose", x[:1], node.name, perm=perm)]


def reshape(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    if all_constant(x):
        return [np.reshape(x[0], tuple(int(d) for d in constant_input(x, node, 1)))]
    return [b.one("Reshape", [x[0], b.int64(x[1], node.name)], node.name)]


def pad(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    paddings = constant_input(x, node, 1).astype(np.int64)  # (rank, 2): before, after
    inputs: list[Value] = [x[0], np.concatenate([paddings[:, 0], paddings[:, 1]])]
    if node.op == "PadV2":
        inputs.append(constant_input(x, node, 2).reshape(()))
    return [b.one("Pad", inputs, node.name, mode="constant")]


def _axis(node: TfNode, x: list[Value], index: int) -> int:
    return int(constant_input(x, node, index).reshape(()))


def concat(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axis = _axis(node, x, len(x) - 1)
    if all_constant(x):
        return [np.concatenate(x[:-1], axis=axis)]
    return [b.one("Concat", x[:-1], node.name, axis=axis)]


def pack(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axis = node.int("axis")
    if all_constant(x):
        return [np.stack(x, axis=axis)]
    expanded = [
        b.one("Unsqueeze", [v, np.array([axis])], f"{node.name}/unsqueeze{i}") for i, v in enumerate(x)
    ]
    return [b.one("Concat", expanded, node.name, axis=axis)]


def unpack(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axis, count = node.int("axis"), node.int("num")
    parts = b.emit("Split", [x[0]], f"{node.name}/split", count, axis=axis)
    return [
        b.one("Squeeze", [p, np.array([axis])], node.name if i == 0 else f"{node.name}:{i}")
        for i, p in enumerate(parts)
    ]


def split(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    count = node.int("num_split")
    if node.op == "SplitV":
        data, sizes, axis = x[0], constant_input(x, node, 1).astype(np.int64), _axis(node, x, 2)
        if (sizes < 0).any():
            raise UnsupportedGraph(f"{node.name}: SplitV with an inferred size")
        return list(b.emit("Split", [data, sizes], node.name, count, axis=axis))
    # opset 13-17 Split without sizes cuts into equal parts, one per output
    return list(b.emit("Split", [x[1]], node.name, count, axis=_axis(node, x, 0)))


def squeeze(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axes = node.ints("squeeze_dims")
    if not axes:
        raise UnsupportedGraph(f"{node.name}: Squeeze without explicit axes")
    return [b.one("Squeeze", [x[0], np.array(axes)], node.name)]


def expand_dims(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("Unsqueeze", [x[0], np.array([_axis(node, x, 1)])], node.name)]


def shape(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    onnx_op = "Shape" if node.op == "Shape" else "Size"
    measured = b.one(onnx_op, x[:1], f"{node.name}/int64")
    return [b.one("Cast", [measured], node.name, to=TF_TYPES[node.tf_type("out_type")][0])]


def strided_slice(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    """TF StridedSlice = ONNX Slice, then Squeeze (shrink_axis) and Unsqueeze (new_axis)."""
    if node.int("ellipsis_mask"):
        raise UnsupportedGraph(f"{node.name}: StridedSlice with an ellipsis")
    begin, end, step = (constant_input(x, node, i).astype(np.int64) for i in (1, 2, 3))
    masks = {key: node.int(f"{key}_mask") for key in ("begin", "end", "new_axis", "shrink_axis")}
    starts, ends, axes, steps, shrunk, new_axes = [], [], [], [], [], []
    input_axis = output_axis = 0
    for i in range(len(begin)):
        bit = 1 << i
        if masks["new_axis"] & bit:
            new_axes.append(output_axis)
            output_axis += 1
            continue
        if masks["shrink_axis"] & bit:
            first = int(begin[i])
            starts.append(first)
            ends.append(first + 1 if first != -1 else _INT64_MAX)
            steps.append(1)
            shrunk.append(input_axis)
        else:
            forward = step[i] > 0
            starts.append((0 if forward else _INT64_MAX) if masks["begin"] & bit else int(begin[i]))
            ends.append((_INT64_MAX if forward else _INT64_MIN) if masks["end"] & bit else int(end[i]))
            steps.append(int(step[i]))
            output_axis += 1
        axes.append(input_axis)
        input_axis += 1
    result = b.one(
        "Slice",
        [x[0], np.array(starts), np.array(ends), np.array(axes), np.array(steps)],
        f"{node.name}/slice",
    )
    if shrunk:
        result = b.one("Squeeze", [result, np.array(shrunk)], f"{node.name}/shrink")
    if new_axes:
        result = b.one("Unsqueeze", [result, np.array(new_axes)], f"{node.name}/new_axis")
    return [b.one("Identity", [result], node.name)]


def tile(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("Tile", [x[0], b.int64(x[1], node.name)], node.name)]


def fill(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("Expand", [x[1], b.int64(x[0], node.name)], node.name)]


def range_(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("Range", x, node.name)]


def gather_nd(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [b.one("GatherND", [x[0], b.int64(x[1], node.name)], node.name)]


def top_k(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    k = b.int64(x[1], node.name)
    k = k.reshape(1) if isinstance(k, np.ndarray) else b.one("Reshape", [k, np.array([1])], f"{node.name}/k")
    values, indices = b.emit("TopK", [x[0], k], f"{node.name}/topk", 2, axis=-1, largest=1, sorted=1)
    return [
        b.one("Identity", [values], node.name),
        b.one("Cast", [indices], f"{node.name}:1", to=TensorProto.INT32),
    ]


def arg_max(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    index = b.one("ArgMax", [x[0]], f"{node.name}/int64", axis=_axis(node, x, 1), keepdims=0)
    return [b.one("Cast", [index], node.name, to=TF_TYPES[node.tf_type("output_type")][0])]


def reduce(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axes = constant_input(x, node, 1).astype(np.int64).reshape(-1)
    keep = int(node.flag("keep_dims"))
    if node.op == "Sum":
        return [b.one("ReduceSum", [x[0], axes], node.name, keepdims=keep)]
    return [b.one("ReduceMax", [x[0]], node.name, axes=[int(a) for a in axes], keepdims=keep)]


def sparse_to_dense(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    # appears in ONNX-exported graphs only to build constant shapes: fold it here
    indices, dense_shape, updates, default = (constant_input(x, node, i) for i in range(4))
    dense = np.full(tuple(int(d) for d in dense_shape), default, dtype=default.dtype)
    if indices.size:
        dense[tuple(np.asarray(indices, np.int64).reshape(len(indices), -1).T)] = updates
    return [dense]


def identity(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [x[0]]


HANDLERS: dict[str, Handler] = {
    **{op: binary for op in _BINARY},
    "SquaredDifference": squared_difference,
    "FloorDiv": floor_div,
    "AddN": add_n,
    **{op: unary for op in (*_UNARY, "LeakyRelu", "Relu6")},
    "Cast": cast,
    "Select": select,
    "SelectV2": select,
    **{
        op: convolution
        for op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")
    },
    "MaxPool": max_pool,
    "ResizeBilinear": resize_bilinear,
    "Transpose": transpose,
    "Reshape": reshape,
    "Pad": pad,
    "PadV2": pad,
    "ConcatV2": concat,
    "Pack": pack,
    "Unpack": unpack,
    "Split": split,
    "SplitV": split,
    "Squeeze": squeeze,
    "ExpandDims": expand_dims,
    "Shape": shape,
    "Size": shape,
    "StridedSlice": strided_slice,
    "Tile": tile,
    "Fill": fill,
    "Range": range_,
    "GatherNd": gather_nd,
    "TopKV2": top_k,
    "ArgMax": arg_max,
    "Sum": reduce,
    "Max": reduce,
    "SparseToDense": sparse_to_dense,
    "Identity": identity,
}
