"""The Keras-layers -> ONNX converter: on the two real models it converts at pull time
(nsfwjs from TF.js, the face-mask classifier from .h5) and on a small model checked
against a plain numpy implementation of the same Keras layers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from openrek.config import Settings
from openrek.inference.faces.detector import YuNetDetector
from openrek.inference.session import open_session
from openrek.models.convert.js_literal import read_js_literal
from openrek.models.convert.keras_files import prepare_tfjs
from openrek.models.convert.keras_layers import KerasConversionError
from openrek.models.convert.keras_model import build_onnx
from openrek.models.store import ModelStore

# Keras's own outputs (tf_keras 2.21, the original model files) on these photos, each
# squashed to 224x224 with PIL's bilinear filter: nsfwjs gets pixels / 255, the mask
# model pixels / 127.5 - 1. Computed once in a throwaway TensorFlow venv.
REFERENCE_PHOTOS = [
    "skimage/astronaut.png",
    "opencv-doc/starry_night.jpg",
    "skimage/chelsea.png",
    "face-api/sample1.jpg",
    "insightface/mask_blue.jpg",
]
KERAS_NSFWJS = np.array(
    [  # Drawing, Hentai, Neutral, Porn, Sexy
        [0.00433, 0.00014, 0.99538, 0.00013, 0.00002],
        [0.70240, 0.00048, 0.29710, 0.00001, 0.00002],
        [0.00093, 0.00047, 0.96050, 0.03614, 0.00195],
        [0.00465, 0.00023, 0.98024, 0.00520, 0.00969],
        [0.00330, 0.00070, 0.98923, 0.00658, 0.00019],
    ]
)
KERAS_FACE_MASK = np.array(
    [  # with mask, without mask
        [0.31424, 0.68576],
        [0.57107, 0.42893],
        [0.09867, 0.90133],
        [0.05493, 0.94507],
        [0.81673, 0.18327],
    ]
)


def squashed(path: Path) -> np.ndarray:
    image = Image.open(path).convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
    return np.asarray(image, np.float32)


def run(store: ModelStore, name: str, batch: np.ndarray) -> np.ndarray:
    session = open_session(store.path(name), Settings.from_env().runtime)
    assert session.input_shapes[0][1:] == (224, 224, 3)  # Keras's NHWC input kept
    return session.run({session.input_names[0]: batch.astype(np.float32)})[0]


def test_nsfwjs_conversion_matches_keras(models: ModelStore, photos: Path) -> None:
    batch = np.stack([squashed(photos / name) / 255.0 for name in REFERENCE_PHOTOS])
    np.testing.assert_allclose(run(models, "moderation-nsfwjs", batch), KERAS_NSFWJS, atol=1e-3)


def test_face_mask_conversion_matches_keras(models: ModelStore, photos: Path) -> None:
    batch = np.stack([squashed(photos / name) / 127.5 - 1.0 for name in REFERENCE_PHOTOS])
    np.testing.assert_allclose(run(models, "face-cover", batch), KERAS_FACE_MASK, atol=1e-3)


def test_face_mask_model_tells_masked_from_bare_faces(models: ModelStore, photos: Path) -> None:
    """Bare faces -> without mask; the same faces wearing insightface's mask textures
    (pasted from just above the nose tip to the chin, as insightface's mask
    augmentation does) -> with mask."""
    settings = Settings.from_env()
    detector = YuNetDetector(open_session(models.path("face-detector"), settings.runtime))
    textures = [
        np.asarray(Image.open(photos / f"insightface/mask_{c}.jpg").convert("RGB"))
        for c in ("black", "blue", "green", "white")
    ]
    bare, masked = [], []
    for name in ("face_recognition/obama.jpg", "face_recognition/biden.jpg", "insightface/t1.jpg"):
        rgb = np.asarray(Image.open(photos / name).convert("RGB"))
        faces = detector.detect(rgb)
        assert len(faces) >= 1
        for box, points in zip(faces.boxes, faces.points, strict=True):
            x0, y0, x1, y1 = (int(v) for v in np.rint(box))
            x0, y0 = max(x0, 0), max(y0, 0)
            bare.append(cv2.resize(rgb[y0:y1, x0:x1], (224, 224)))
            top = int(points[2][1] - 0.15 * (y1 - y0))
            for texture in textures:
                covered = rgb.copy()
                covered[top:y1, x0:x1] = cv2.resize(texture, (x1 - x0, y1 - top))
                masked.append(cv2.resize(covered[y0:y1, x0:x1], (224, 224)))
    with_mask_bare = run(models, "face-cover", np.stack(bare) / 127.5 - 1.0)[:, 0]
    with_mask_covered = run(models, "face-cover", np.stack(masked) / 127.5 - 1.0)[:, 0]
    assert len(bare) == 8 and len(masked) == 32
    assert (with_mask_bare < 0.5).all(), with_mask_bare
    # 31 of 32 today: Biden's face under the black mask scores 0.49
    assert (with_mask_covered > 0.5).sum() >= 31, with_mask_covered


# ---------------------------------------------------------------- a small model, by hand

RNG = np.random.default_rng(7)


def layer(name: str, kind: str, inputs: list[str], **config: object) -> dict[str, Any]:
    return {
        "name": name,
        "class_name": kind,
        "config": {"name": name, **config},
        "inbound_nodes": [[[i, 0, 0, {}] for i in inputs]] if inputs else [],
    }


def small_model() -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Every layer kind MobileNetV2 heads use, with both paddings and a residual add."""
    layers = [
        layer("image", "InputLayer", [], batch_input_shape=[None, 9, 11, 3]),
        layer("pad", "ZeroPadding2D", ["image"], padding=[[0, 1], [0, 1]]),
        layer(
            "conv",
            "Conv2D",
            ["pad"],
            filters=4,
            kernel_size=[3, 3],
            strides=[2, 2],
            padding="valid",
            use_bias=False,
            activation="linear",
        ),
        layer("bn", "BatchNormalization", ["conv"], axis=-1, epsilon=1e-3),
        layer("relu6", "ReLU", ["bn"], max_value=6.0, negative_slope=0.0, threshold=0.0),
        layer(
            "dw",
            "DepthwiseConv2D",
            ["relu6"],
            kernel_size=[3, 3],
            strides=[1, 1],
            padding="same",
            depth_multiplier=1,
            use_bias=True,
            activation="relu",
        ),
        layer("add", "Add", ["relu6", "dw"]),
        layer("pool", "AveragePooling2D", ["add"], pool_size=[2, 2], strides=[2, 2], padding="valid"),
        layer("flat", "Flatten", ["pool"]),
        layer("drop", "Dropout", ["flat"], rate=0.5),
        layer("dense", "Dense", ["drop"], units=3, activation="softmax", use_bias=True),
    ]
    config = {
        "class_name": "Model",
        "config": {"layers": layers, "input_layers": [["image", 0, 0]], "output_layers": [["dense", 0, 0]]},
    }
    weights = {
        "conv": {"kernel": RNG.normal(size=(3, 3, 3, 4))},
        "bn": {
            "gamma": RNG.uniform(0.5, 2, 4),
            "beta": RNG.normal(size=4),
            "moving_mean": RNG.normal(size=4),
            "moving_variance": RNG.uniform(0.5, 2, 4),
        },
        "dw": {"depthwise_kernel": RNG.normal(size=(3, 3, 4, 1)), "bias": RNG.normal(size=4)},
        "dense": {"kernel": RNG.normal(size=(2 * 2 * 4, 3)), "bias": RNG.normal(size=3)},
    }
    return config, {n: {k: v.astype(np.float32) for k, v in p.items()} for n, p in weights.items()}


def conv_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int, depthwise: bool) -> np.ndarray:
    """Direct NHWC convolution of an already padded input (Keras's definition)."""
    kh, kw = kernel.shape[:2]
    rows, cols = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols, kernel.shape[2] if depthwise else kernel.shape[3]))
    for r in range(rows):
        for c in range(cols):
            patch = x[r * stride : r * stride + kh, c * stride : c * stride + kw]
            out[r, c] = (patch * kernel[..., 0]).sum((0, 1)) if depthwise else np.tensordot(patch, kernel, 3)
    return out


def numpy_small_model(image: np.ndarray, w: dict[str, dict[str, np.ndarray]]) -> np.ndarray:
    x = np.pad(image, ((0, 1), (0, 1), (0, 0)))
    x = conv_nhwc(x, w["conv"]["kernel"], 2, depthwise=False)
    bn = w["bn"]
    x = (x - bn["moving_mean"]) / np.sqrt(bn["moving_variance"] + 1e-3) * bn["gamma"] + bn["beta"]
    skip = np.clip(x, 0, 6)
    x = np.pad(skip, ((1, 1), (1, 1), (0, 0)))  # 'same' for 3x3 stride 1
    x = np.maximum(conv_nhwc(x, w["dw"]["depthwise_kernel"], 1, depthwise=True) + w["dw"]["bias"], 0)
    x = skip + x  # (5, 6, 4)
    x = x[:4, :4].reshape(2, 2, 2, 2, 4).mean((1, 3))  # 2x2 average pooling, valid
    logits = x.reshape(-1) @ w["dense"]["kernel"] + w["dense"]["bias"]
    probabilities: np.ndarray = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    return probabilities


def test_small_model_matches_numpy_and_is_deterministic() -> None:
    config, weights = small_model()
    first, second = build_onnx(config, weights), build_onnx(config, weights)
    assert first == second
    session = ort.InferenceSession(first, providers=["CPUExecutionProvider"])
    images = RNG.uniform(-1, 1, size=(2, 9, 11, 3)).astype(np.float32)
    (got,) = session.run(None, {"image": images})
    want = np.stack([numpy_small_model(image, weights) for image in images])
    np.testing.assert_allclose(got, want, atol=1e-5)
    ops = {node.op_type for node in __import__("onnx").load_from_string(first).graph.node}
    assert "BatchNormalization" not in ops and "Pad" not in ops  # folded into the convolution


def test_tfjs_javascript_bundles_read_as_data() -> None:
    """nsfwjs ships model.json and shards as browserify bundles: a minified object
    literal and a base64 string. Both forms give the same ONNX file."""
    config, weights = small_model()
    names = [f"{layer_name}/{param}" for layer_name, params in weights.items() for param in params]
    manifest = [
        {
            "paths": ["group1-shard1of1"],
            "weights": [
                {
                    "name": n,
                    "shape": list(weights[n.split("/")[0]][n.split("/")[1]].shape),
                    "dtype": "float32",
                }
                for n in names
            ],
        }
    ]
    shard = b"".join(weights[n.split("/")[0]][n.split("/")[1]].astype("<f4").tobytes() for n in names)
    model_json = {
        "modelTopology": {"keras_version": "2.2.4", "model_config": config},
        "weightsManifest": manifest,
    }
    as_json = prepare_tfjs({"model": json.dumps(model_json).encode(), "group1-shard1of1": shard})
    literal = json.dumps(model_json).replace('"keras_version"', "keras_version").replace("true", "!0")
    bundle = f"!function(e){{}}({{1:[function(e,a,n){{a.exports={literal}}},{{}}]}})".encode()
    js_shard = f'!function(e){{}}({{1:[function(e,a,n){{a.exports="{base64.b64encode(shard).decode()}"}}]}})'.encode()
    assert prepare_tfjs({"model": bundle, "group1-shard1of1": js_shard}) == as_json


def test_js_literal_reader() -> None:
    text = "x={a:!0,b:!1,'c':.5,d:-1e-3,e:[1,\"two\\n\",null],f:void 0,g:{h:'it\\'s'}}"
    value, _ = read_js_literal(text, 2)
    assert value == {
        "a": True,
        "b": False,
        "c": 0.5,
        "d": -0.001,
        "e": [1, "two\n", None],
        "f": None,
        "g": {"h": "it's"},
    }


def test_unsupported_layer_is_named() -> None:
    config, weights = small_model()
    config["config"]["layers"][-2] = layer("drop", "LSTM", ["flat"], units=3)
    with pytest.raises(KerasConversionError, match="'drop' of class LSTM is not supported"):
        build_onnx(config, weights)


def keras3_nodes(config: dict[str, Any]) -> dict[str, Any]:
    """The same functional model written the way Keras 3 saves inbound nodes."""

    def tensor(name: str) -> dict[str, Any]:
        return {"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}}

    layers = []
    for raw in config["config"]["layers"]:
        sources = [entry[0] for entry in raw["inbound_nodes"][0]] if raw["inbound_nodes"] else []
        args = [[tensor(s) for s in sources]] if len(sources) > 1 else [tensor(s) for s in sources]
        layers.append({**raw, "inbound_nodes": [{"args": args, "kwargs": {}}] if sources else []})
    return {"class_name": "Functional", "config": {**config["config"], "layers": layers}}


def test_keras3_node_format_and_sequential_models_convert() -> None:
    config, weights = small_model()
    images = RNG.uniform(-1, 1, size=(1, 9, 11, 3)).astype(np.float32)

    def outputs(model_config: dict[str, Any], model_weights: dict[str, Any]) -> np.ndarray:
        session = ort.InferenceSession(
            build_onnx(model_config, model_weights), providers=["CPUExecutionProvider"]
        )
        output: np.ndarray = session.run(None, {session.get_inputs()[0].name: images})[
            0
        ]  # onnxruntime is untyped
        return output

    np.testing.assert_array_equal(outputs(keras3_nodes(config), weights), outputs(config, weights))
    sequential = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {
                    "class_name": "Conv2D",
                    "config": {
                        "name": "conv",
                        "batch_input_shape": [None, 9, 11, 3],
                        "filters": 4,
                        "kernel_size": [3, 3],
                        "padding": "same",
                        "use_bias": False,
                    },
                },
                {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}},
            ]
        },
    }
    got = outputs(sequential, {"conv": weights["conv"]})
    x = np.pad(images[0], ((1, 1), (1, 1), (0, 0)))
    np.testing.assert_allclose(
        got[0], conv_nhwc(x, weights["conv"]["kernel"], 1, False).mean((0, 1)), atol=1e-5
    )
