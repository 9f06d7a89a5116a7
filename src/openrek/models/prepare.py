"""Deterministic steps that turn fetched, verified files into the files openrek runs.

Each step gets the bytes of an entry's parts by part name ("file" for a single
file) and returns the bytes to store; its result is pinned by SHA-256 in the
manifest, so a step must be deterministic (no BLAS reductions, no timestamps).
Conversions live in `openrek.models.convert` and are imported only when a
pull needs them.

The YuNet int8 file (block-quantised by OpenCV Zoo) sets `block_size` on
DequantizeLinear nodes whose scale is per-tensor or per-axis, which onnxruntime
1.20+ rejects. Its weights are constants, so we dequantise them once here into
float32 initializers: the graph becomes a plain float model that every runtime and
execution provider accepts, and outputs equal what OpenCV computes from the file.

The SFace int8 file (same block quantisation) also still lists, as graph inputs,
the 29 float weights that quantisation replaced: no node reads them any more, but
onnxruntime reports them as required inputs. Its BatchNorm and PReLU constants are
listed as graph inputs too, which makes onnxruntime treat them as overridable and
skip constant folding. `dequantize-and-drop-stale-inputs` dequantises as above and
then keeps only the graph inputs that are real inputs (read by a node, not constant).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

import numpy as np


def _expand(values: np.ndarray, axis: int, block: int, shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast a per-tensor, per-axis or blocked scale / zero point to `shape`."""
    if values.size == 1:
        return values.reshape(())
    if values.ndim == 1 and block == 0:
        view = [1] * len(shape)
        view[axis] = values.shape[0]
        return values.reshape(view)
    repeated = np.repeat(values, block, axis=axis)
    return np.take(repeated, np.arange(shape[axis]), axis=axis)


def dequantize_constant_weights(data: bytes) -> bytes:
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    replaced = []
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in constants for i in node.input):
            continue
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        quantised = numpy_helper.to_array(constants[node.input[0]])
        scale = numpy_helper.to_array(constants[node.input[1]]).astype(np.float32)
        zero = (
            numpy_helper.to_array(constants[node.input[2]]).astype(np.float32)
            if len(node.input) > 2 and node.input[2]
            else np.zeros_like(scale)
        )
        axis = int(attributes.get("axis", 1)) % max(quantised.ndim, 1)
        block = int(attributes.get("block_size", 0))
        if scale.size > 1 and scale.ndim == quantised.ndim and block == 0:
            block = int(np.ceil(quantised.shape[axis] / scale.shape[axis]))
        shape = quantised.shape
        real = (quantised.astype(np.float32) - _expand(zero, axis, block, shape)) * _expand(
            scale, axis, block, shape
        )
        graph.initializer.append(numpy_helper.from_array(real.astype(np.float32), node.output[0]))
        replaced.append(node)
    for node in replaced:
        graph.node.remove(node)
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    return bytes(model.SerializeToString())


def drop_stale_inputs(data: bytes) -> bytes:
    """Remove graph inputs that no node reads or that are constants (initializers)."""
    import onnx

    model = onnx.load_from_string(data)
    graph = model.graph
    read = {name for node in graph.node for name in node.input}
    constants = {init.name for init in graph.initializer}
    stale = [i for i in graph.input if i.name not in read or i.name in constants]
    for graph_input in stale:
        graph.input.remove(graph_input)
    return bytes(model.SerializeToString())


def dequantize_and_drop_stale_inputs(data: bytes) -> bytes:
    return drop_stale_inputs(dequantize_constant_weights(data))


def free_image_size(data: bytes) -> bytes:
    """Declare the image input's height and width symbolic instead of fixed.

    YuNet is fully convolutional and its output reshapes follow the input, but the
    file declares 640x640; with symbolic sizes the detector can run on a canvas
    that fits the photo (no padding to a square, no upscaling of small photos).
    """
    import onnx

    model = onnx.load_from_string(data)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in model.graph.output:  # cell counts follow the input size
        output.type.tensor_type.shape.dim[1].dim_param = "cells"
    return bytes(model.SerializeToString())


def prepare_detector(data: bytes) -> bytes:
    return free_image_size(dequantize_constant_weights(data))


PREPARATIONS: dict[str, str] = {
    # name in the manifests -> "module:function" taking the parts, returning the bytes
    "dequantize-and-free-image-size": "openrek.models.prepare:prepare_detector_parts",
    "dequantize-and-drop-stale-inputs": "openrek.models.prepare:dequantize_and_drop_stale_inputs_parts",
    "tfjs-graph-to-onnx": "openrek.models.convert.tfjs_graph:prepare",
    "tfjs-layers-to-onnx": "openrek.models.convert.keras_files:prepare_tfjs",
    "keras-h5-to-onnx": "openrek.models.convert.keras_files:prepare_h5",
    "torch-efficientnet-lite-to-onnx": "openrek.models.convert.efficientnet_lite:prepare",
    "torch-transnetv2-to-onnx": "openrek.models.convert.transnetv2:prepare",
    "imagenet-wordnet-taxonomy": "openrek.models.convert.wordnet_taxonomy:prepare",
}


def prepare_detector_parts(parts: Mapping[str, bytes]) -> bytes:
    return prepare_detector(parts["file"])


def dequantize_and_drop_stale_inputs_parts(parts: Mapping[str, bytes]) -> bytes:
    return dequantize_and_drop_stale_inputs(parts["file"])


def preparation(name: str) -> Callable[[Mapping[str, bytes]], bytes]:
    module, function = PREPARATIONS[name].split(":")
    step: Callable[[Mapping[str, bytes]], bytes] = getattr(importlib.import_module(module), function)
    return step
