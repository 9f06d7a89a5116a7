"""The TF.js graph converter: real models against TensorFlow's own numbers, small graphs
against numpy, and the weights reader's dequantisation.

The expected values were computed once by TensorFlow 2.21 (tensorflow-cpu in a
throwaway venv, never a dependency) running the TF.js GraphDef with the same
weights on the same inputs; the converted ONNX files are the ones `openrek models
pull` writes, pinned by SHA-256.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import PIL.Image
import pytest

from openrek.models.convert.tfjs_graph import UnsupportedGraph, prepare
from openrek.models.convert.tfjs_weights import read_tfjs_weights
from openrek.models.store import ModelStore

MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# --- real models against TensorFlow -----------------------------------------------------


def test_nanodet_matches_tensorflow(models: ModelStore, photos: Path) -> None:
    cat = np.asarray(PIL.Image.open(photos / "skimage" / "chelsea.png").convert("RGB"))
    canvas = np.zeros((416, 416, 3), np.float32)
    canvas[:300] = cat[:, :416]  # no resampling: the input is exactly TensorFlow's
    tensor = ((canvas[:, :, ::-1] - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None]
    session = _session(models.path("object-detector"))
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"input_1": tensor}), strict=True))
    # class scores: best (cell, class) per stride and its value, as TensorFlow computed
    for name, cell, label, score in [
        ("Identity", 801, 74, 0.18362626),
        ("Identity_1", 233, 0, 0.11670694),
        ("Identity_2", 71, 15, 0.566051),
    ]:
        scores = outputs[name][0]
        assert np.unravel_index(scores.argmax(), scores.shape) == (cell, label)
        assert scores[cell, label] == pytest.approx(score, abs=1e-5)
    # box-side distributions (logits) of cell 100 of each stride, and their sums
    for name, row, total in [
        ("Identity_3", [-1.12215, -0.08398, 0.13618, 0.53279, 0.96902, 1.05591], -0.32655215),
        ("Identity_4", [0.58801, 1.69157, 1.76904, 1.64344, 0.96087, 0.36528], -0.55844665),
        ("Identity_5", [0.06879, 0.48724, 0.73163, 0.96401, 0.72127, 0.34278], -0.24795413),
    ]:
        sides = outputs[name][0]
        np.testing.assert_allclose(sides[100 % len(sides), :6], row, atol=1e-4)
        assert float(sides.sum()) == pytest.approx(total, abs=2e-2)  # sum of ~10^5 logits


@pytest.mark.parametrize(
    ("rows", "expected"),
    [  # first person: nose y, x, score; left shoulder y, x, score; box ymin..xmax, score
        (
            slice(None),
            [
                0.23958,
                0.43703,
                0.71721,
                0.50053,
                0.59284,
                0.62482,
                0.02344,
                0.05055,
                0.99135,
                0.71078,
                0.50356,
            ],
        ),
        (
            slice(32, 224),
            [0.1564, 0.43573, 0.69863, 0.5036, 0.59693, 0.58112, 0.00601, 0.05043, 0.98023, 0.71525, 0.41669],
        ),
    ],
    ids=["256x256", "192x256"],
)
def test_movenet_matches_tensorflow(
    models: ModelStore, photos: Path, rows: slice, expected: list[float]
) -> None:
    astronaut = np.asarray(PIL.Image.open(photos / "skimage" / "astronaut.png").convert("RGB"))
    image = astronaut[::2, ::2][rows].astype(np.int32)[None]
    (people,) = _session(models.path("body-pose")).run(None, {"input": image})
    assert people.shape == (1, 6, 56)
    np.testing.assert_allclose(people[0, 0, [0, 1, 2, 15, 16, 17, 51, 52, 53, 54, 55]], expected, atol=1e-4)


def test_nanodet_keeps_no_layout_transposes(models: ModelStore) -> None:
    graph = onnx.load(str(models.path("object-detector"))).graph
    ops = [node.op_type for node in graph.node]
    # NanoDet's own six output transposes stay; every NHWC<->NCHW pair cancelled
    assert ops.count("Transpose") == 6
    assert ops.count("Conv") == 34 and "Add" not in ops[: ops.index("Resize")]


# --- small graphs against numpy -------------------------------------------------------------


def _tiny_model(
    nodes: list[dict[str, Any]], constants: dict[str, np.ndarray], output: str
) -> dict[str, bytes]:
    weights = [
        {"name": k, "shape": list(v.shape), "dtype": "int32" if v.dtype == np.int32 else "float32"}
        for k, v in constants.items()
    ]
    shard = b"".join(
        np.ascontiguousarray(v).astype("<i4" if v.dtype == np.int32 else "<f4").tobytes()
        for v in constants.values()
    )
    graph = [
        {
            "name": "x",
            "op": "Placeholder",
            "attr": {
                "dtype": {"type": "DT_FLOAT"},
                "shape": {"shape": {"dim": [{"size": "2"}, {"size": "3"}, {"size": "4"}, {"size": "5"}]}},
            },
        }
    ]
    graph += [{"name": k, "op": "Const", "attr": {}} for k in constants]
    model = {
        "format": "graph-model",
        "modelTopology": {"node": graph + nodes},
        "signature": {"outputs": {"y": {"name": f"{output}:0", "dtype": "DT_FLOAT"}}},
        "weightsManifest": [{"paths": ["w.bin"], "weights": weights}],
    }
    return {"model": json.dumps(model).encode(), "weights": shard}


def _run(parts: dict[str, bytes], x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(prepare(parts), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


@pytest.mark.parametrize(
    ("begin", "end", "strides", "masks", "expected"),
    [
        ([0, 1, 0], [0, 3, 0], [1, 1, 1], {"begin_mask": 5, "end_mask": 5}, lambda x: x[:, 1:3, :]),
        (
            [1, 0, 2],
            [2, 0, 0],
            [1, 1, 1],
            {"shrink_axis_mask": 5, "begin_mask": 2, "end_mask": 2},
            lambda x: x[1, :, 2],
        ),
        (
            [0, 0, 0],
            [0, 0, 0],
            [1, 1, 1],
            {"begin_mask": 5, "end_mask": 5, "new_axis_mask": 2},
            lambda x: x[:, None, :],
        ),
        ([0, 3, 0], [0, 0, 0], [1, -1, 2], {"begin_mask": 5, "end_mask": 7}, lambda x: x[:, 3::-1, ::2]),
    ],
)
def test_strided_slice_follows_numpy(
    begin: list[int],
    end: list[int],
    strides: list[int],
    masks: dict[str, int],
    expected: Callable[[np.ndarray], np.ndarray],
) -> None:
    node = {
        "name": "y",
        "op": "StridedSlice",
        "input": ["x", "b", "e", "s"],
        "attr": {k: {"i": str(v)} for k, v in masks.items()},
    }
    constants = {n: np.array(v, np.int32) for n, v in (("b", begin), ("e", end), ("s", strides))}
    x = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(_run(_tiny_model([node], constants, "y"), x), expected(x))


def test_depthwise_convolution_and_fused_bias_relu6() -> None:
    rng = np.random.default_rng(7)
    kernel = rng.normal(size=(3, 3, 5, 2)).astype(np.float32)  # height, width, channels, multiplier
    bias = rng.normal(size=10).astype(np.float32)
    node = {
        "name": "y",
        "op": "FusedDepthwiseConv2dNative",
        "input": ["x", "k", "bias"],
        "attr": {
            "padding": {"s": "VkFMSUQ="},
            "strides": {"list": {"i": ["1", "1", "1", "1"]}},
            "fused_ops": {"list": {"s": ["Qmlhc0FkZA==", "UmVsdTY="]}},
        },
    }  # VALID; BiasAdd, Relu6
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32) * 3
    # numpy reference, NHWC: output channel c * multiplier + m
    expected = np.zeros((2, 1, 2, 10), np.float32)
    for i in range(1):
        for j in range(2):
            window = x[:, i : i + 3, j : j + 3, :]  # (n, 3, 3, channels)
            expected[:, i, j] = np.einsum("nhwc,hwcm->ncm", window, kernel).reshape(2, 10)
    expected = np.clip(expected + bias, 0, 6)
    got = _run(_tiny_model([node], {"k": kernel, "bias": bias}, "y"), x)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_unsupported_op_is_named() -> None:
    node = {"name": "y", "op": "Erf", "input": ["x"], "attr": {}}
    with pytest.raises(UnsupportedGraph, match="Erf"):
        prepare(_tiny_model([node], {}, "y"))


# --- weights reader ----------------------------------------------------------------------


def test_weights_reader_dequantises() -> None:
    manifest = [
        {
            "paths": ["a.bin", "b.bin"],
            "weights": [
                {
                    "name": "u8",
                    "shape": [3],
                    "dtype": "float32",
                    "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.5},
                },
                {"name": "f16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
                {
                    "name": "u16",
                    "shape": [1],
                    "dtype": "float32",
                    "quantization": {"dtype": "uint16", "min": 10.0, "scale": 0.25},
                },
                {"name": "i32", "shape": [2, 1], "dtype": "int32"},
            ],
        }
    ]
    data = (
        np.array([0, 1, 255], np.uint8).tobytes()
        + np.array([1.5, -2.25], "<f2").tobytes()
        + np.array([40000], "<u2").tobytes()
        + np.array([[7], [-9]], "<i4").tobytes()
    )
    weights = read_tfjs_weights(manifest, {"a.bin": data[:4], "b.bin": data[4:]})  # split shards
    np.testing.assert_allclose(weights["u8"], [-1.0, -0.5, 126.5])
    np.testing.assert_array_equal(weights["f16"], np.array([1.5, -2.25], np.float32))
    np.testing.assert_allclose(weights["u16"], [10.0 + 40000 * 0.25])
    assert weights["i32"].dtype == np.int32 and weights["i32"].tolist() == [[7], [-9]]
