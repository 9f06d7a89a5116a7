"""Keras layer models (TF.js layers format or a Keras .h5 file) -> ONNX, without TensorFlow.

Both formats carry the same thing: a Keras model config (layers, each with the
`inbound_nodes` that wire a functional graph) and the layers' weights. One builder
turns that config into an ONNX graph for the layers image classifiers such as
MobileNetV2 use; any other layer stops the conversion with its name and class.

The ONNX model keeps Keras's input: NHWC float32, batch first, exactly the values the
Keras model expects (the caller resizes and normalises, e.g. to [0, 1] or [-1, 1]).
Inside, 4-D tensors are NCHW (ONNX's convolution layout); the input is transposed
once at the start and 4-D outputs once at the end. BatchNormalization is folded into
the convolution before it; a ZeroPadding2D that only feeds a 'valid' convolution
becomes that convolution's pads. The result is deterministic: the same parts give
the same bytes (elementwise numpy only, fixed opset, IR version and names).
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

OPSET = 13
IR_VERSION = 7  # the IR that opset 13 shipped with: readable by every current runtime

Weights = Mapping[str, Mapping[str, np.ndarray]]  # layer name -> parameter name -> array


class KerasConversionError(ValueError):
    """The model uses something this converter does not translate."""


# --------------------------------------------------------------------------- entry points


def prepare_tfjs(parts: Mapping[str, bytes]) -> bytes:
    """A TF.js layers model -> ONNX bytes.

    Part "model" is the model.json; every other part is a weights shard, named as the
    manifest's `paths` name it (e.g. "group1-shard1of1"). Either may also be the
    JavaScript bundle that nsfwjs ships instead (`module.exports = {...}` with the JSON
    as a JavaScript object literal, or a shard as a base64 string): the literal is
    parsed as data, never executed.
    """
    from openrek.models.convert.tfjs_weights import read_tfjs_weights

    model_json = _read_model_json(parts["model"])
    shards = {name: _read_shard(data) for name, data in parts.items() if name != "model"}
    flat = read_tfjs_weights(model_json["weightsManifest"], shards)
    weights: dict[str, dict[str, np.ndarray]] = {}
    for full_name, array in flat.items():
        layer, _, parameter = full_name.rpartition("/")
        weights.setdefault(layer.rpartition("/")[2], {})[parameter] = array
    topology = model_json["modelTopology"]
    config = topology.get("model_config", topology)
    return build_onnx(config, weights, doc=f"TF.js layers model, Keras {topology.get('keras_version', '?')}")


def prepare_h5(parts: Mapping[str, bytes]) -> bytes:
    """A Keras .h5 model file (part "model") -> ONNX bytes."""
    import h5py

    with h5py.File(io.BytesIO(parts["model"]), "r") as h5:
        if "model_config" not in h5.attrs:
            raise KerasConversionError("the .h5 file has no model_config: it holds weights only")
        raw = h5.attrs["model_config"]
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        root = h5.get("model_weights", h5)
        weights: dict[str, dict[str, np.ndarray]] = {}
        for layer in root:
            group = root[layer]
            for raw_name in group.attrs.get("weight_names", []):
                name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
                parameter = name.rpartition("/")[2].partition(":")[0]
                weights.setdefault(layer, {})[parameter] = np.asarray(group[name])
        version = h5.attrs.get("keras_version", b"?")
        version = version.decode() if isinstance(version, bytes) else version
    return build_onnx(config, weights, doc=f"Keras .h5 model, Keras {version}")


# --------------------------------------------------------------------------- reading nsfwjs bundles


def _is_javascript(data: bytes) -> bool:
    """A bundle's prelude is plain ASCII naming `exports`; raw weights or JSON are not both."""
    head = data[:4096]
    return head.isascii() and b"exports" in head and not head.lstrip().startswith(b"{")


def _bundle_value(data: bytes) -> Any:
    """The value a browserify bundle assigns to `exports` (object literal or string)."""
    text = data.decode("utf-8")
    found = re.search(r"\.exports\s*=\s*(?=[{\"'\[])", text)
    if not found:
        raise KerasConversionError("JavaScript bundle without an `exports = <literal>` assignment")
    value, _ = _JsLiteral(text, found.end()).value()
    return value


def _read_model_json(data: bytes) -> dict[str, Any]:
    value = _bundle_value(data) if _is_javascript(data) else json.loads(data)
    if not isinstance(value, dict) or "modelTopology" not in value or "weightsManifest" not in value:
        raise KerasConversionError("model part is not a TF.js layers model.json")
    return value


def _read_shard(data: bytes) -> bytes:
    if not _is_javascript(data):
        return data
    value = _bundle_value(data)
    if not isinstance(value, str):
        raise KerasConversionError("JavaScript weights bundle does not export a base64 string")
    return base64.b64decode(value, validate=True)


class _JsLiteral:
    """A reader for the JavaScript literals minifiers write: JSON plus unquoted keys,
    `!0` / `!1`, numbers such as `.5`, single-quoted strings and `void 0`."""

    _NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
    _WORD = re.compile(r"[A-Za-z_$][\w$]*")
    _CONSTANTS: ClassVar[dict[str, Any]] = {"true": True, "false": False, "null": None, "undefined": None}

    def __init__(self, text: str, at: int) -> None:
        self.text, self.at = text, at

    def _skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t\r\n":
            self.at += 1

    def _fail(self, what: str) -> KerasConversionError:
        return KerasConversionError(f"JavaScript literal: {what} at offset {self.at}")

    def value(self) -> tuple[Any, int]:
        self._skip()
        char = self.text[self.at]
        if char == "{":
            return self._object(), self.at
        if char == "[":
            return self._array(), self.at
        if char in "\"'":
            return self._string(), self.at
        if char == "!" and self.text[self.at + 1] in "01":
            self.at += 2
            return self.text[self.at - 1] == "0", self.at
        if self.text.startswith("void 0", self.at):
            self.at += 6
            return None, self.at
        number = self._NUMBER.match(self.text, self.at)
        if number:
            self.at = number.end()
            literal = number.group()
            is_float = any(c in literal for c in ".eE")
            return (float(literal) if is_float else int(literal)), self.at
        word = self._WORD.match(self.text, self.at)
        if word and word.group() in self._CONSTANTS:
            self.at = word.end()
            return self._CONSTANTS[word.group()], self.at
        raise self._fail(f"unexpected {char!r}")

    def _expect(self, char: str) -> None:
        self._skip()
        if self.text[self.at] != char:
            raise self._fail(f"expected {char!r}")
        self.at += 1

    def _object(self) -> dict[str, Any]:
        self._expect("{")
        result: dict[str, Any] = {}
        while True:
            self._skip()
            if self.text[self.at] == "}":
                self.at += 1
                return result
            if self.text[self.at] in "\"'":
                key = self._string()
            else:
                word = self._WORD.match(self.text, self.at) or self._NUMBER.match(self.text, self.at)
                if not word:
                    raise self._fail("expected a key")
                key, self.at = word.group(), word.end()
            self._expect(":")
            result[key], _ = self.value()
            self._skip()
            if self.text[self.at] == ",":
                self.at += 1

    def _array(self) -> list[Any]:
        self._expect("[")
        result: list[Any] = []
        while True:
            self._skip()
            if self.text[self.at] == "]":
                self.at += 1
                return result
            item, _ = self.value()
            result.append(item)
            self._skip()
            if self.text[self.at] == ",":
                self.at += 1

    def _string(self) -> str:
        quote = self.text[self.at]
        end = self.at + 1
        while self.text[end] != quote:
            end += 2 if self.text[end] == "\\" else 1
        raw = self.text[self.at + 1 : end]
        self.at = end + 1
        if "\\" not in raw:
            return raw
        return str(json.loads('"' + raw.replace("\\'", "'").replace('"', '\\"') + '"'))


# --------------------------------------------------------------------------- the graph builder


@dataclass
class _Tensor:
    name: str  # the ONNX value
    shape: tuple[int | None, ...]  # Keras shape without the batch: (H, W, C) or (units,)
    # A ZeroPadding2D output not yet written as a Pad: the unpadded tensor and its pads
    # (top, left, bottom, right), so that a 'valid' convolution can take them as its own.
    unpadded: _Tensor | None = None
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class _Conv:
    """A convolution this builder wrote, kept open so a following BatchNormalization
    can be folded into its weights."""

    weight: str
    bias: str
    output: str


@dataclass
class _Graph:
    nodes: list[Any] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)

    def constant(self, name: str, array: np.ndarray) -> str:
        self.constants[name] = array
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _same_pads(size: int | None, kernel: int, stride: int, dilation: int) -> tuple[int, int] | None:
    """TF's 'same' padding: the output is ceil(size / stride); any odd pixel goes at the end."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _out_size(size: int | None, kernel: int, stride: int, dilation: int, pad: int) -> int | None:
    if size is None:
        return None
    return (size + pad - ((kernel - 1) * dilation + 1)) // stride + 1


class _Builder:
    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self.graph = _Graph()
        self.convs: dict[str, _Conv] = {}
        self.consumers: Counter[str] = Counter()
        self.padded: dict[str, _Tensor] = {}
        self.handlers: dict[str, Callable[[dict[str, Any], list[_Tensor], str], _Tensor]] = {
            "Conv2D": self._conv,
            "DepthwiseConv2D": self._conv,
            "BatchNormalization": self._batch_norm,
            "ReLU": self._relu,
            "Activation": lambda c, x, n: self._activation(c["activation"], self._plain(x[0]), n),
            "LeakyReLU": lambda c, x, n: self._leaky(self._plain(x[0]), float(c.get("alpha", 0.3)), n),
            "Softmax": self._softmax,
            "ZeroPadding2D": self._zero_padding,
            "Add": self._add,
            "GlobalAveragePooling2D": self._global_pool,
            "GlobalMaxPooling2D": self._global_pool,
            "AveragePooling2D": self._pool,
            "MaxPooling2D": self._pool,
            "Flatten": self._flatten,
            "Dense": self._dense,
            "Dropout": lambda c, x, n: x[0],  # inference: identity
        }

    # -- helpers

    def _param(self, layer: str, name: str) -> np.ndarray:
        try:
            return np.asarray(self.weights[layer][name], dtype=np.float32)
        except KeyError:
            raise KerasConversionError(f"layer {layer}: weight {name!r} not found") from None

    def _plain(self, tensor: _Tensor) -> _Tensor:
        """The tensor with any pending zero padding written out as a Pad node."""
        if tensor.unpadded is None:
            return tensor
        if tensor.name in self.padded:
            return self.padded[tensor.name]
        top, left, bottom, right = tensor.pads
        pads = self.graph.constant(f"{tensor.name}/pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
        self.graph.node("Pad", [tensor.unpadded.name, pads], tensor.name)
        self.padded[tensor.name] = _Tensor(tensor.name, tensor.shape)
        return self.padded[tensor.name]

    def _activation(self, kind: str, x: _Tensor, out: str) -> _Tensor:
        if kind == "linear":
            return x
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu", "softplus": "Softplus"}
        if kind in simple:
            return _Tensor(self.graph.node(simple[kind], [x.name], out), x.shape)
        if kind == "relu6":
            return self._clip(x, 0.0, 6.0, out)
        if kind == "softmax":
            return _Tensor(self.graph.node("Softmax", [x.name], out, axis=1 if len(x.shape) == 3 else -1), x.shape)
        if kind in ("swish", "silu"):
            gate = self.graph.node("Sigmoid", [x.name], f"{out}/sigmoid")
            return _Tensor(self.graph.node("Mul", [x.name, gate], out), x.shape)
        raise KerasConversionError(f"{out}: activation {kind!r} is not supported")

    def _clip(self, x: _Tensor, low: float, high: float, out: str) -> _Tensor:
        low_name = self.graph.constant(f"{out}/min", np.array(low, np.float32))
        high_name = self.graph.constant(f"{out}/max", np.array(high, np.float32))
        return _Tensor(self.graph.node("Clip", [x.name, low_name, high_name], out), x.shape)

    def _leaky(self, x: _Tensor, alpha: float, out: str) -> _Tensor:
        return _Tensor(self.graph.node("LeakyRelu", [x.name], out, alpha=alpha), x.shape)

    # -- layers

    def _conv(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        (x,) = inputs
        if config.get("data_format", "channels_last") != "channels_last":
            raise KerasConversionError(f"layer {name}: only channels_last is supported")
        depthwise = "depth_multiplier" in config or "depthwise_initializer" in config
        kh, kw = _pair(config["kernel_size"])
        sh, sw = _pair(config.get("strides", 1))
        dh, dw = _pair(config.get("dilation_rate", 1))
        if depthwise:
            kernel = self._param(name, "depthwise_kernel")  # (kh, kw, C, multiplier)
            outputs = int(kernel.shape[2] * kernel.shape[3])
            weight = kernel.reshape(kh, kw, outputs).transpose(2, 0, 1)[:, None]
            groups = int(kernel.shape[2])
        else:
            kernel = self._param(name, "kernel")  # (kh, kw, C / groups, filters)
            outputs = int(kernel.shape[3])
            weight = kernel.transpose(3, 2, 0, 1)
            groups = int(config.get("groups", 1))
        bias = self._param(name, "bias") if config.get("use_bias", True) else np.zeros(outputs, np.float32)
        padding = config.get("padding", "valid")
        pads = [0, 0, 0, 0]  # top, left, bottom, right
        if x.unpadded is not None and padding == "valid" and self.consumers[x.name] == 1:
            pads = [x.pads[0], x.pads[1], x.pads[2], x.pads[3]]
            x = x.unpadded
        else:
            x = self._plain(x)
        attributes: dict[str, Any] = {
            "kernel_shape": [kh, kw], "strides": [sh, sw], "dilations": [dh, dw], "group": groups,
        }
        if padding == "same":
            vertical, horizontal = _same_pads(x.shape[0], kh, sh, dh), _same_pads(x.shape[1], kw, sw, dw)
            if vertical is None or horizontal is None:
                attributes["auto_pad"] = "SAME_UPPER"
            else:
                pads = [vertical[0], horizontal[0], vertical[1], horizontal[1]]
        elif padding != "valid":
            raise KerasConversionError(f"layer {name}: padding {padding!r} is not supported")
        if "auto_pad" not in attributes:
            attributes["pads"] = pads
        weight_name = self.graph.constant(f"{name}/weight", weight)
        bias_name = self.graph.constant(f"{name}/bias", bias)
        raw = f"{name}/conv" if config.get("activation", "linear") != "linear" else name
        self.graph.node("Conv", [x.name, weight_name, bias_name], raw, **attributes)
        # with auto_pad the input size is unknown, and so is the output's
        height = _out_size(x.shape[0], kh, sh, dh, pads[0] + pads[2]) if "pads" in attributes else None
        width = _out_size(x.shape[1], kw, sw, dw, pads[1] + pads[3]) if "pads" in attributes else None
        result = _Tensor(raw, (height, width, outputs))
        if raw == name:
            self.convs[name] = _Conv(weight_name, bias_name, name)
        return self._activation(config.get("activation", "linear"), result, name)

    def _batch_norm(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) else axis
        if axis not in (-1, len(x.shape)):
            raise KerasConversionError(f"layer {name}: BatchNormalization over axis {axis} is not supported")
        mean, variance = self._param(name, "moving_mean"), self._param(name, "moving_variance")
        gamma = self._param(name, "gamma") if config.get("scale", True) else np.ones_like(mean)
        beta = self._param(name, "beta") if config.get("center", True) else np.zeros_like(mean)
        epsilon = np.float32(config.get("epsilon", 1e-3))
        scale = (gamma / np.sqrt(variance + epsilon)).astype(np.float32)
        shift = (beta - mean * scale).astype(np.float32)
        conv = self.convs.get(x.name)
        if conv is not None and self.consumers[x.name] == 1:
            # y = scale * (W x + b) + shift = (scale W) x + (scale b + shift)
            constants = self.graph.constants
            constants[conv.weight] = constants[conv.weight] * scale[:, None, None, None]
            constants[conv.bias] = constants[conv.bias] * scale + shift
            return x
        view = (-1, 1, 1) if len(x.shape) == 3 else (-1,)
        scale_name = self.graph.constant(f"{name}/scale", scale.reshape(view))
        shift_name = self.graph.constant(f"{name}/shift", shift.reshape(view))
        scaled = self.graph.node("Mul", [x.name, scale_name], f"{name}/scaled")
        return _Tensor(self.graph.node("Add", [scaled, shift_name], name), x.shape)

    def _relu(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        maximum = config.get("max_value")
        slope = float(config.get("negative_slope", 0.0) or 0.0)
        if float(config.get("threshold", 0.0) or 0.0) != 0.0:
            raise KerasConversionError(f"layer {name}: ReLU with a threshold is not supported")
        if slope and maximum is not None:
            raise KerasConversionError(f"layer {name}: ReLU with both a slope and a maximum is not supported")
        if slope:
            return self._leaky(x, slope, name)
        if maximum is not None:
            return self._clip(x, 0.0, float(maximum), name)
        return _Tensor(self.graph.node("Relu", [x.name], name), x.shape)

    def _softmax(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        if config.get("axis", -1) not in (-1, len(x.shape)):
            raise KerasConversionError(f"layer {name}: Softmax over axis {config.get('axis')} is not supported")
        return self._activation("softmax", x, name)

    def _zero_padding(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        padding = config.get("padding", 1)
        if isinstance(padding, int):
            (top, bottom), (left, right) = (padding, padding), (padding, padding)
        elif isinstance(padding[0], int):
            (top, bottom), (left, right) = (padding[0], padding[0]), (padding[1], padding[1])
        else:
            (top, bottom), (left, right) = _pair(padding[0]), _pair(padding[1])
        height, width, channels = x.shape
        shape = (
            None if height is None else height + top + bottom,
            None if width is None else width + left + right,
            channels,
        )
        return _Tensor(name, shape, unpadded=x, pads=(top, left, bottom, right))

    def _add(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        plain = [self._plain(x) for x in inputs]
        return _Tensor(self.graph.node("Sum", [x.name for x in plain], name), plain[0].shape)

    def _global_pool(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        keep = bool(config.get("keepdims", False))
        op = "ReduceMean" if "Average" in config["_class"] else "ReduceMax"
        self.graph.node(op, [x.name], name, axes=[2, 3], keepdims=int(keep))
        return _Tensor(name, (1, 1, x.shape[2]) if keep else (x.shape[2],))

    def _pool(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        kh, kw = _pair(config.get("pool_size", 2))
        sh, sw = _pair(config.get("strides") or (kh, kw))
        padding = config.get("padding", "valid")
        pads = [0, 0, 0, 0]
        if padding == "same":
            vertical, horizontal = _same_pads(x.shape[0], kh, sh, 1), _same_pads(x.shape[1], kw, sw, 1)
            if vertical is None or horizontal is None:
                raise KerasConversionError(f"layer {name}: 'same' pooling needs a known input size")
            pads = [vertical[0], horizontal[0], vertical[1], horizontal[1]]
        op = "AveragePool" if "Average" in config["_class"] else "MaxPool"
        self.graph.node(op, [x.name], name, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads)
        return _Tensor(name, (
            _out_size(x.shape[0], kh, sh, 1, pads[0] + pads[2]),
            _out_size(x.shape[1], kw, sw, 1, pads[1] + pads[3]),
            x.shape[2],
        ))

    def _flatten(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        if len(x.shape) == 1:
            return x
        if None in x.shape:
            raise KerasConversionError(f"layer {name}: Flatten needs a known input size")
        source = x.name
        if x.shape[0] != 1 or x.shape[1] != 1:  # Keras flattens in (H, W, C) order
            source = self.graph.node("Transpose", [x.name], f"{name}/nhwc", perm=[0, 2, 3, 1])
        size = int(np.prod([int(d) for d in x.shape if d is not None]))
        return _Tensor(self.graph.node("Flatten", [source], name, axis=1), (size,))

    def _dense(self, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        x = self._plain(inputs[0])
        if len(x.shape) != 1:
            raise KerasConversionError(f"layer {name}: Dense on a {len(x.shape) + 1}-D tensor is not supported")
        kernel = self._param(name, "kernel")
        units = int(kernel.shape[1])
        bias = self._param(name, "bias") if config.get("use_bias", True) else np.zeros(units, np.float32)
        weight_name = self.graph.constant(f"{name}/weight", kernel)
        bias_name = self.graph.constant(f"{name}/bias", bias)
        activation = config.get("activation", "linear")
        raw = f"{name}/dense" if activation != "linear" else name
        self.graph.node("Gemm", [x.name, weight_name, bias_name], raw)
        return self._activation(activation, _Tensor(raw, (units,)), name)

    # -- the whole model

    def layer(self, class_name: str, config: dict[str, Any], inputs: list[_Tensor], name: str) -> _Tensor:
        handler = self.handlers.get(class_name)
        if handler is None:
            raise KerasConversionError(
                f"layer {name!r} of class {class_name} is not supported "
                f"(supported: InputLayer, {', '.join(sorted(self.handlers))})"
            )
        return handler({**config, "_class": class_name}, inputs, name)


def _inbound(layer: dict[str, Any]) -> list[str]:
    """The names of the layers feeding `layer` (Keras 2 lists or Keras 3 dicts)."""
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise KerasConversionError(f"layer {layer['name']!r} is shared (called {len(nodes)} times)")
    if not nodes:
        return []
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [... {"config": {"keras_history": [...]}}]}
        return [history[0] for history in _histories(node.get("args", []))]
    names = []
    for entry in node:
        if entry[1] != 0 or entry[2] != 0:
            raise KerasConversionError(f"layer {layer['name']!r} reads a layer's output {entry[1:3]}")
        names.append(entry[0])
    return names


def _histories(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, dict):
        history = value.get("config", {}).get("keras_history") if value.get("class_name") == "__keras_tensor__" else None
        if history:
            yield history
        else:
            for item in value.values():
                yield from _histories(item)
    elif isinstance(value, list):
        for item in value:
            yield from _histories(item)


def _functional(config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Layers (each with its input layer names), graph inputs and graph outputs."""
    if isinstance(config, dict) and config.get("class_name") in ("Model", "Functional", "Sequential"):
        kind, config = config["class_name"], config["config"]
    else:
        kind = "Sequential" if isinstance(config, list) or "input_layers" not in config else "Model"
    raw_layers = config if isinstance(config, list) else config["layers"]
    layers: list[dict[str, Any]] = []
    if kind == "Sequential":
        previous: str | None = None
        for raw in raw_layers:
            layer: dict[str, Any] = {
                "class_name": raw["class_name"], "config": raw["config"], "name": raw["config"]["name"],
            }
            if previous is None and raw["class_name"] != "InputLayer":
                shape = raw["config"].get("batch_input_shape") or raw["config"].get("batch_shape")
                layers.append({"class_name": "InputLayer", "name": "input", "inputs": [],
                               "config": {"batch_input_shape": shape, "name": "input"}})
                previous = "input"
            layer["inputs"] = [previous] if previous else []
            layers.append(layer)
            previous = layer["name"]
        return layers, [layers[0]["name"]], [layers[-1]["name"]]
    for raw in raw_layers:
        if raw["class_name"] in ("Model", "Functional", "Sequential"):
            raise KerasConversionError(f"layer {raw['name']!r} is a nested model, which is not supported")
        layers.append({**raw, "inputs": _inbound(raw)})
    inputs = [entry[0] for entry in config["input_layers"]]
    outputs_raw = config["output_layers"]
    if outputs_raw and isinstance(outputs_raw[0], str):  # a single output written flat
        outputs_raw = [outputs_raw]
    return layers, inputs, [entry[0] for entry in outputs_raw]


def build_onnx(model_config: dict[str, Any], weights: Weights, doc: str = "") -> bytes:
    """A Keras model config plus its weights -> ONNX bytes (NHWC float32 input)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    layers, input_names, output_names = _functional(model_config)
    builder = _Builder(weights)
    for layer in layers:
        for source in layer["inputs"]:
            builder.consumers[source] += 1
    for name in output_names:
        builder.consumers[name] += 1
    tensors: dict[str, _Tensor] = {}
    graph_inputs = []
    for layer in layers:
        name = layer["name"]
        if layer["class_name"] == "InputLayer":
            shape = layer["config"].get("batch_input_shape") or layer["config"].get("batch_shape")
            if not shape or len(shape) != 4 or shape[3] is None:
                raise KerasConversionError(f"input {name!r}: expected an NHWC image input, got {shape}")
            graph_inputs.append(helper.make_tensor_value_info(
                name, TensorProto.FLOAT, ["batch", *shape[1:]]))
            nchw = builder.graph.node("Transpose", [name], f"{name}/nchw", perm=[0, 3, 1, 2])
            tensors[name] = _Tensor(nchw, tuple(shape[1:]))
            continue
        try:
            inputs = [tensors[source] for source in layer["inputs"]]
        except KeyError as missing:
            raise KerasConversionError(f"layer {name!r} reads {missing.args[0]!r} before it is defined") from None
        tensors[name] = builder.layer(layer["class_name"], layer.get("config", {}), inputs, name)
    if [layer["name"] for layer in layers if layer["class_name"] == "InputLayer"] != input_names:
        raise KerasConversionError(f"inputs {input_names} do not match the InputLayers")
    graph_outputs = []
    for name in output_names:
        result = builder._plain(tensors[name])
        source = result.name
        if len(result.shape) == 3:
            source = builder.graph.node("Transpose", [source], f"{name}/nhwc", perm=[0, 2, 3, 1])
        final = builder.graph.node("Identity", [source], f"{name}/output")
        graph_outputs.append(helper.make_tensor_value_info(final, TensorProto.FLOAT, ["batch", *result.shape]))
    initializers = [numpy_helper.from_array(array, name) for name, array in builder.graph.constants.items()]
    graph = helper.make_graph(builder.graph.nodes, "keras", graph_inputs, graph_outputs, initializers)
    model = helper.make_model(graph, producer_name="openrek", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())
