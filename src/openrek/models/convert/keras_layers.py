"""Keras layers -> ONNX nodes: one method per layer class that image classifiers such
as MobileNetV2 use; any other layer stops the conversion with its name and class.

Inside the graph, 4-D tensors are NCHW (ONNX's convolution layout) while shapes are
tracked in Keras's terms, (H, W, C) without the batch. BatchNormalization is folded
into the convolution before it; a ZeroPadding2D that only feeds a 'valid'
convolution becomes that convolution's pads. Only elementwise numpy touches the
weights, so the same weights give the same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from openrek.models.convert.onnx_graph import Array, OnnxGraph
from openrek.models.convert.same_padding import same_padding

Weights = Mapping[str, Mapping[str, Array]]  # layer name -> parameter name -> array


class KerasConversionError(ValueError):
    """The model uses something this converter does not translate."""


@dataclass
class KerasTensor:
    name: str  # the ONNX value
    shape: tuple[int | None, ...]  # Keras shape without the batch: (H, W, C) or (units,)
    # A ZeroPadding2D output not yet written as a Pad: the unpadded tensor and its pads
    # (top, left, bottom, right), so that a 'valid' convolution can take them as its own.
    unpadded: KerasTensor | None = None
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class _Conv:
    """A convolution this builder wrote, kept open so a following BatchNormalization
    can be folded into its weights."""

    weight: str
    bias: str
    output: str


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _out_size(size: int | None, kernel: int, stride: int, dilation: int, pad: int) -> int | None:
    if size is None:
        return None
    return (size + pad - ((kernel - 1) * dilation + 1)) // stride + 1


class LayerBuilder:
    """Writes Keras layers, one call to `layer` each, into an ONNX graph (NCHW inside)."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self.graph = OnnxGraph()
        self.convs: dict[str, _Conv] = {}
        self.consumers: Counter[str] = Counter()
        self.padded: dict[str, KerasTensor] = {}
        self.handlers: dict[str, Callable[[dict[str, Any], list[KerasTensor], str], KerasTensor]] = {
            "Conv2D": self._conv,
            "DepthwiseConv2D": self._conv,
            "BatchNormalization": self._batch_norm,
            "ReLU": self._relu,
            "Activation": lambda c, x, n: self._activation(c["activation"], self.plain(x[0]), n),
            "LeakyReLU": lambda c, x, n: self._leaky(self.plain(x[0]), float(c.get("alpha", 0.3)), n),
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

    def _param(self, layer: str, name: str) -> Array:
        try:
            return np.asarray(self.weights[layer][name], dtype=np.float32)
        except KeyError:
            raise KerasConversionError(f"layer {layer}: weight {name!r} not found") from None

    def plain(self, tensor: KerasTensor) -> KerasTensor:
        """The tensor with any pending zero padding written out as a Pad node."""
        if tensor.unpadded is None:
            return tensor
        if tensor.name in self.padded:
            return self.padded[tensor.name]
        top, left, bottom, right = tensor.pads
        pads = self.graph.constant(
            f"{tensor.name}/pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64)
        )
        self.graph.node("Pad", [tensor.unpadded.name, pads], tensor.name)
        self.padded[tensor.name] = KerasTensor(tensor.name, tensor.shape)
        return self.padded[tensor.name]

    def _activation(self, kind: str, x: KerasTensor, out: str) -> KerasTensor:
        if kind == "linear":
            return x
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu", "softplus": "Softplus"}
        if kind in simple:
            return KerasTensor(self.graph.node(simple[kind], [x.name], out), x.shape)
        if kind == "relu6":
            return self._clip(x, 0.0, 6.0, out)
        if kind == "softmax":
            return KerasTensor(
                self.graph.node("Softmax", [x.name], out, axis=1 if len(x.shape) == 3 else -1), x.shape
            )
        if kind in ("swish", "silu"):
            gate = self.graph.node("Sigmoid", [x.name], f"{out}/sigmoid")
            return KerasTensor(self.graph.node("Mul", [x.name, gate], out), x.shape)
        raise KerasConversionError(f"{out}: activation {kind!r} is not supported")

    def _clip(self, x: KerasTensor, low: float, high: float, out: str) -> KerasTensor:
        low_name = self.graph.constant(f"{out}/min", np.array(low, np.float32))
        high_name = self.graph.constant(f"{out}/max", np.array(high, np.float32))
        return KerasTensor(self.graph.node("Clip", [x.name, low_name, high_name], out), x.shape)

    def _leaky(self, x: KerasTensor, alpha: float, out: str) -> KerasTensor:
        return KerasTensor(self.graph.node("LeakyRelu", [x.name], out, alpha=alpha), x.shape)

    # -- layers

    def _conv(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
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
            x = self.plain(x)
        if padding == "same":
            padding_attributes = same_padding(x.shape[:2], [kh, kw], [sh, sw], [dh, dw])
        elif padding == "valid":
            padding_attributes = {"pads": pads}
        else:
            raise KerasConversionError(f"layer {name}: padding {padding!r} is not supported")
        weight_name = self.graph.constant(f"{name}/weight", weight)
        bias_name = self.graph.constant(f"{name}/bias", bias)
        raw = f"{name}/conv" if config.get("activation", "linear") != "linear" else name
        self.graph.node(
            "Conv",
            [x.name, weight_name, bias_name],
            raw,
            kernel_shape=[kh, kw],
            strides=[sh, sw],
            dilations=[dh, dw],
            group=groups,
            **padding_attributes,
        )
        # with auto_pad the input size is unknown, and so is the output's
        written = padding_attributes.get("pads")
        height = None if written is None else _out_size(x.shape[0], kh, sh, dh, written[0] + written[2])
        width = None if written is None else _out_size(x.shape[1], kw, sw, dw, written[1] + written[3])
        result = KerasTensor(raw, (height, width, outputs))
        if raw == name:
            self.convs[name] = _Conv(weight_name, bias_name, name)
        return self._activation(config.get("activation", "linear"), result, name)

    def _batch_norm(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
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
        return KerasTensor(self.graph.node("Add", [scaled, shift_name], name), x.shape)

    def _relu(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
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
        return KerasTensor(self.graph.node("Relu", [x.name], name), x.shape)

    def _softmax(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
        if config.get("axis", -1) not in (-1, len(x.shape)):
            raise KerasConversionError(
                f"layer {name}: Softmax over axis {config.get('axis')} is not supported"
            )
        return self._activation("softmax", x, name)

    def _zero_padding(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
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
        return KerasTensor(name, shape, unpadded=x, pads=(top, left, bottom, right))

    def _add(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        plain = [self.plain(x) for x in inputs]
        return KerasTensor(self.graph.node("Sum", [x.name for x in plain], name), plain[0].shape)

    def _global_pool(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
        keep = bool(config.get("keepdims", False))
        op = "ReduceMean" if "Average" in config["_class"] else "ReduceMax"
        self.graph.node(op, [x.name], name, axes=[2, 3], keepdims=int(keep))
        return KerasTensor(name, (1, 1, x.shape[2]) if keep else (x.shape[2],))

    def _pool(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
        kh, kw = _pair(config.get("pool_size", 2))
        sh, sw = _pair(config.get("strides") or (kh, kw))
        padding = config.get("padding", "valid")
        pads = [0, 0, 0, 0]
        if padding == "same":
            same = same_padding(x.shape[:2], [kh, kw], [sh, sw])
            if "pads" not in same:
                raise KerasConversionError(f"layer {name}: 'same' pooling needs a known input size")
            pads = same["pads"]
        op = "AveragePool" if "Average" in config["_class"] else "MaxPool"
        self.graph.node(op, [x.name], name, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads)
        return KerasTensor(
            name,
            (
                _out_size(x.shape[0], kh, sh, 1, pads[0] + pads[2]),
                _out_size(x.shape[1], kw, sw, 1, pads[1] + pads[3]),
                x.shape[2],
            ),
        )

    def _flatten(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
        if len(x.shape) == 1:
            return x
        if None in x.shape:
            raise KerasConversionError(f"layer {name}: Flatten needs a known input size")
        source = x.name
        if x.shape[0] != 1 or x.shape[1] != 1:  # Keras flattens in (H, W, C) order
            source = self.graph.node("Transpose", [x.name], f"{name}/nhwc", perm=[0, 2, 3, 1])
        size = int(np.prod([int(d) for d in x.shape if d is not None]))
        return KerasTensor(self.graph.node("Flatten", [source], name, axis=1), (size,))

    def _dense(self, config: dict[str, Any], inputs: list[KerasTensor], name: str) -> KerasTensor:
        x = self.plain(inputs[0])
        if len(x.shape) != 1:
            raise KerasConversionError(
                f"layer {name}: Dense on a {len(x.shape) + 1}-D tensor is not supported"
            )
        kernel = self._param(name, "kernel")
        units = int(kernel.shape[1])
        bias = self._param(name, "bias") if config.get("use_bias", True) else np.zeros(units, np.float32)
        weight_name = self.graph.constant(f"{name}/weight", kernel)
        bias_name = self.graph.constant(f"{name}/bias", bias)
        activation = config.get("activation", "linear")
        raw = f"{name}/dense" if activation != "linear" else name
        self.graph.node("Gemm", [x.name, weight_name, bias_name], raw)
        return self._activation(activation, KerasTensor(raw, (units,)), name)

    # -- the whole model

    def layer(
        self, class_name: str, config: dict[str, Any], inputs: list[KerasTensor], name: str
    ) -> KerasTensor:
        handler = self.handlers.get(class_name)
        if handler is None:
            raise KerasConversionError(
                f"layer {name!r} of class {class_name} is not supported "
                f"(supported: InputLayer, {', '.join(sorted(self.handlers))})"
            )
        return handler({**config, "_class": class_name}, inputs, name)
