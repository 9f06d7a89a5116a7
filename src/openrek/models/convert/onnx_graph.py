"""The ONNX graph every converter writes into, and how it becomes model bytes.

Each converted file is pinned by SHA-256 in the manifests, so the same parts must
give the same bytes on every machine: nodes keep the order they were written in,
initializers are sorted by name, serialisation is deterministic, and every model
declares the same opset and IR version. Opset 17 covers every op the converters
write; IR 8 is the version it shipped with, so runtimes from 2022 on load the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

OPSET = 17
IR_VERSION = 8

Array = npt.NDArray[Any]


class OnnxGraph:
    """Nodes and named constants (initializers) of a graph being written."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.constants: dict[str, Array] = {}

    def constant(self, name: str, value: Array) -> str:
        self.constants[name] = value
        return name

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        outputs: str | Sequence[str],
        *,
        name: str | None = None,
        **attributes: Any,
    ) -> str:
        """Append one node, named after its first output unless `name` is given; return
        that first output."""
        names = [outputs] if isinstance(outputs, str) else list(outputs)
        self.nodes.append(helper.make_node(op, list(inputs), names, name=name or names[0], **attributes))
        return names[0]

    def model(
        self,
        inputs: Sequence[onnx.ValueInfoProto],
        outputs: Sequence[onnx.ValueInfoProto],
        *,
        graph_name: str,
        producer: str,
        doc: str = "",
    ) -> onnx.ModelProto:
        """The checked model of this graph."""
        initializers = [
            numpy_helper.from_array(np.asarray(value, order="C"), name)
            for name, value in sorted(self.constants.items())
        ]
        graph = helper.make_graph(
            self.nodes, graph_name, list(inputs), list(outputs), initializer=initializers
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name=producer,
            ir_version=IR_VERSION,
        )
        if doc:  # an empty doc_string would still be written as a field, changing the bytes
            model.doc_string = doc
        onnx.checker.check_model(model)
        return model


def model_bytes(model: onnx.ModelProto) -> bytes:
    return bytes(model.SerializeToString(deterministic=True))
