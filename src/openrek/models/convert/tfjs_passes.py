"""Clean-up passes over a converted TF.js graph: they remove what wrapping each NHWC op
in Transposes costs (see `tfjs_graph`), and whatever the outputs do not need.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from openrek.models.convert.tfjs_nodes import Builder


def _consumers(builder: Builder) -> dict[str, list[onnx.NodeProto]]:
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in builder.nodes:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    return readers


def _rename_input(builder: Builder, old: str, new: str) -> None:
    for node in builder.nodes:
        node.input[:] = [new if i == old else i for i in node.input]


def fold_bias_into_conv(builder: Builder) -> None:
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


def cancel_transposes(builder: Builder) -> None:
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
            builder.nodes.insert(
                builder.nodes.index(first) + 1,
                helper.make_node("Identity", [first.input[0]], list(second.output), name=second.name),
            )
            changed = True
            break
    _skip_identities(builder)


def _skip_identities(builder: Builder) -> None:
    """Readers of an Identity read its input instead (graph outputs keep their Identity)."""
    for node in list(builder.nodes):
        if node.op_type == "Identity":
            _rename_input(builder, node.output[0], node.input[0])


def drop_unused(builder: Builder, outputs: list[str]) -> None:
    needed = set(outputs)
    kept = []
    for node in reversed(builder.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    builder.nodes[:] = list(reversed(kept))
    for name in [k for k in builder.constants if k not in needed]:
        del builder.constants[name]
