"""What the TF.js graph converter works with: TF nodes as read from model.json, the
ONNX graph being written (`Builder`), and the values that flow between them.

A value is either a numpy array, when it is known at conversion time (constants and
whatever folds from them), or the name of an ONNX tensor computed at run time.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from onnx import TensorProto

from openrek.models.convert.onnx_graph import Array, OnnxGraph

TF_TYPES = {  # TF DataType -> (ONNX element type, numpy dtype)
    "DT_FLOAT": (TensorProto.FLOAT, np.float32),
    "DT_INT32": (TensorProto.INT32, np.int32),
    "DT_INT64": (TensorProto.INT64, np.int64),
    "DT_BOOL": (TensorProto.BOOL, np.bool_),
}


class UnsupportedGraph(ValueError):
    """The TF.js graph uses an op or a form of an op that this converter does not handle."""


Value = Array | str  # a constant known at conversion time, or an ONNX tensor name


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


class Builder(OnnxGraph):
    """The ONNX graph being written, plus the value of every TF output converted so far."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Value] = {}
        self._count = 0

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
        self.node(op, node_inputs, names, name=name, **attrs)
        return names

    def one(self, op: str, inputs: Sequence[Value], name: str, **attrs: Any) -> str:
        return self.emit(op, inputs, name, **attrs)[0]

    def int64(self, value: Value, name: str) -> Value:
        """A shape / axes / index tensor as int64, as ONNX wants it."""
        if isinstance(value, np.ndarray):
            return value.astype(np.int64)
        return self.one("Cast", [value], f"{name}/int64", to=TensorProto.INT64)


def _same(a: Array, b: Array) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


Handler = Callable[[Builder, TfNode, list[Value]], list[Value]]


def constant_input(values: list[Value], node: TfNode, index: int) -> Array:
    value = values[index]
    if not isinstance(value, np.ndarray):
        raise UnsupportedGraph(f"{node.op} {node.name}: input {index} must be a constant")
    return value


def all_constant(values: list[Value]) -> bool:
    return all(isinstance(v, np.ndarray) for v in values)
