"""EasyOCR's English line recogniser (`english_g2`) from its PyTorch state dict to ONNX (bench only).

The weights come as a `torch.save`d state dict. The architecture is EasyOCR's
generation-2 CRNN ("None-VGG-BiLSTM-CTC"), rebuilt here from the tensors' names
and shapes:

- a VGG-style feature extractor on a 64 px high grey line: 3x3 convolutions of 32, 64,
  128, 128, 256, 256 channels with ReLU, max-pooled 2x2 after the first two, 2x1
  (height only) after the fourth and sixth; the fifth and sixth carry BatchNorm (folded
  into their convolution here); a last 2x2 convolution without padding leaves 3 rows,
  averaged into one feature column per 4 input columns;
- two bidirectional LSTMs of 256 units, each followed by a 512 -> 256 linear layer;
- a linear layer to 97 classes: the CTC blank, then digits, punctuation, the space and
  the euro sign, then A-Z and a-z.

The graph takes what openrek's PP-OCR recogniser takes, so the same pipeline feeds
it: BGR strips scaled to [-1, 1], channels first, here 64 px high; a 1x1 convolution
turns them grey with the usual luma weights (a linear map, so it commutes with the
scaling). Its output follows PP-OCR's convention too: softmax scores with the blank
first and the space last (the classes are reordered in the graph), and the character
list in the model's metadata (`character`, one a line, blank and space left out).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper

from openrek.models.convert.onnx_graph import Array, OnnxGraph, model_bytes
from openrek.models.convert.torch_pickle import load_state_dict

HEIGHT = 64
BN_EPSILON = 1e-5  # torch.nn.BatchNorm2d's default
HIDDEN = 256
# EasyOCR's class order after the blank: its "number", "symbol" and English letters.
CHARACTERS = (
    "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
# (layer index in ConvNet, BatchNorm index or None, padding, pooling after it)
CONVOLUTIONS: tuple[tuple[int, int | None, int, tuple[int, int] | None], ...] = (
    (0, None, 1, (2, 2)),
    (3, None, 1, (2, 2)),
    (6, None, 1, None),
    (8, None, 1, (2, 1)),
    (11, 12, 1, None),
    (14, 15, 1, (2, 1)),
    (18, None, 0, None),
)
# BGR luma weights (ITU-R BT.601, as OpenCV's BGR2GRAY).
LUMA_BGR = (0.114, 0.587, 0.299)


class _CrnnGraph(OnnxGraph):
    def __init__(self, weights: Mapping[str, Array]) -> None:
        super().__init__()
        self.weights = {k.removeprefix("module."): v for k, v in weights.items()}
        self.used: set[str] = set()

    def weight(self, key: str) -> Array:
        self.used.add(key)
        return np.asarray(self.weights[key], dtype=np.float64)

    def convolution(self, x: str, index: int, norm: int | None, pad: int) -> str:
        prefix = f"FeatureExtraction.ConvNet.{index}"
        kernel = self.weight(f"{prefix}.weight")
        if norm is None:
            bias = self.weight(f"{prefix}.bias")
        else:  # fold BatchNorm: y = (conv - mean) * gamma / sqrt(var + eps) + beta
            bn = f"FeatureExtraction.ConvNet.{norm}"
            self.used.add(f"{bn}.num_batches_tracked")
            scale = self.weight(f"{bn}.weight") / np.sqrt(self.weight(f"{bn}.running_var") + BN_EPSILON)
            kernel = kernel * scale[:, None, None, None]
            bias = self.weight(f"{bn}.bias") - self.weight(f"{bn}.running_mean") * scale
        size = kernel.shape[2]
        y = self.node(
            "Conv",
            [
                x,
                self.constant(f"conv{index}_w", kernel.astype(np.float32)),
                self.constant(f"conv{index}_b", bias.astype(np.float32)),
            ],
            f"conv{index}",
            kernel_shape=[size, size],
            pads=[pad] * 4,
        )
        return self.node("Relu", [y], f"conv{index}_relu")

    def linear(self, x: str, layer: str, name: str) -> str:
        w = self.weight(f"{layer}.weight").T.astype(np.float32)
        y = self.node("MatMul", [x, self.constant(f"{name}_w", w)], f"{name}_mm")
        return self.node(
            "Add", [y, self.constant(f"{name}_b", self.weight(f"{layer}.bias").astype(np.float32))], name
        )

    def bidirectional_lstm(self, x: str, layer: int) -> str:
        """[T, B, 256] -> BiLSTM -> linear -> [T, B, 256]."""
        prefix = f"SequenceModeling.{layer}"

        def gates(tensor: Array) -> Array:
            # torch stacks the gates input, forget, cell, output; ONNX input, output, forget, cell.
            i, f, g, o = np.split(tensor, 4, axis=0)
            return np.concatenate([i, o, f, g], axis=0)

        directions = ("", "_reverse")
        w = np.stack([gates(self.weight(f"{prefix}.rnn.weight_ih_l0{d}")) for d in directions])
        r = np.stack([gates(self.weight(f"{prefix}.rnn.weight_hh_l0{d}")) for d in directions])
        b = np.stack(
            [
                np.concatenate(
                    [
                        gates(self.weight(f"{prefix}.rnn.bias_ih_l0{d}")),
                        gates(self.weight(f"{prefix}.rnn.bias_hh_l0{d}")),
                    ]
                )
                for d in directions
            ]
        )
        name = f"lstm{layer}"
        y = self.node(
            "LSTM",
            [
                x,
                self.constant(f"{name}_w", w.astype(np.float32)),
                self.constant(f"{name}_r", r.astype(np.float32)),
                self.constant(f"{name}_b", b.astype(np.float32)),
            ],
            f"{name}_y",
            hidden_size=HIDDEN,
            direction="bidirectional",
        )  # [T, 2, B, 256]
        y = self.node("Transpose", [y], f"{name}_t", perm=[0, 2, 1, 3])
        y = self.node(
            "Reshape", [y, self.constant("both_directions", np.array([0, 0, -1], np.int64))], f"{name}_cat"
        )
        return self.linear(y, f"{prefix}.linear", f"{name}_out")


def build_model(weights: Mapping[str, Array]) -> onnx.ModelProto:
    graph = _CrnnGraph(weights)
    luma = np.array(LUMA_BGR, np.float32).reshape(1, 3, 1, 1)
    x = graph.node("Conv", ["x", graph.constant("luma", luma)], "grey", kernel_shape=[1, 1])
    for index, norm, pad, pool in CONVOLUTIONS:
        x = graph.convolution(x, index, norm, pad)
        if pool:
            x = graph.node("MaxPool", [x], f"pool{index}", kernel_shape=list(pool), strides=list(pool))
    x = graph.node("ReduceMean", [x], "columns", axes=[2], keepdims=0)  # [B, 256, T]
    x = graph.node("Transpose", [x], "sequence", perm=[2, 0, 1])  # [T, B, 256]
    x = graph.bidirectional_lstm(x, 0)
    x = graph.bidirectional_lstm(x, 1)
    logits = graph.linear(x, "Prediction", "prediction")  # [T, B, 97]
    space = 1 + CHARACTERS.index(" ")
    order = [0, *[c for c in range(1, len(CHARACTERS) + 1) if c != space], space]
    logits = graph.node(
        "Gather", [logits, graph.constant("class_order", np.array(order, np.int64))], "ordered", axis=2
    )
    scores = graph.node("Softmax", [logits], "scores_tb", axis=2)
    graph.node("Transpose", [scores], "scores", perm=[1, 0, 2])
    left_over = sorted(set(graph.weights) - graph.used)
    if left_over:
        raise ValueError(f"state dict has tensors the graph does not use: {left_over[:5]}")
    model = graph.model(
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, HEIGHT, "width"])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "steps", len(CHARACTERS) + 1])],
        graph_name="easyocr_english_g2",
        producer="openrek easyocr-crnn",
    )
    characters = [c for c in CHARACTERS if c != " "]
    helper.set_model_props(model, {"character": "\n".join(characters), "height": str(HEIGHT)})
    return model


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """The state dict ("file") to ONNX bytes."""
    (data,) = parts.values()
    return model_bytes(build_model(load_state_dict(data)))
