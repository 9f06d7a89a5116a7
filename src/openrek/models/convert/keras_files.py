"""Pull-time steps "tfjs-layers-to-onnx" and "keras-h5-to-onnx": read a published Keras
model (a TF.js layers model, or a Keras .h5 file) into its model config and weights,
then build the ONNX file from them (`keras_model.build_onnx`), without TensorFlow.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from openrek.models.convert.js_literal import exported_value, is_javascript_bundle
from openrek.models.convert.keras_layers import KerasConversionError
from openrek.models.convert.keras_model import build_onnx
from openrek.models.convert.onnx_graph import Array
from openrek.models.convert.tfjs_weights import read_tfjs_weights


def prepare_tfjs(parts: Mapping[str, bytes]) -> bytes:
    """A TF.js layers model -> ONNX bytes.

    Part "model" is the model.json; every other part is a weights shard, named as the
    manifest's `paths` name it (e.g. "group1-shard1of1"). Either may also be the
    JavaScript bundle that nsfwjs ships instead (`module.exports = {...}` with the JSON
    as a JavaScript object literal, or a shard as a base64 string): the literal is
    parsed as data, never executed.
    """
    model_json = _read_model_json(parts["model"])
    shards = {name: _read_shard(data) for name, data in parts.items() if name != "model"}
    flat = read_tfjs_weights(model_json["weightsManifest"], shards)
    weights: dict[str, dict[str, Array]] = {}
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
        config = json.loads(_text(h5.attrs["model_config"]))
        root = h5.get("model_weights", h5)
        weights: dict[str, dict[str, Array]] = {}
        for layer in root:
            group = root[layer]
            for raw_name in group.attrs.get("weight_names", []):
                name = _text(raw_name)
                parameter = name.rpartition("/")[2].partition(":")[0]
                weights.setdefault(layer, {})[parameter] = np.asarray(group[name])
        version = _text(h5.attrs.get("keras_version", b"?"))
    return build_onnx(config, weights, doc=f"Keras .h5 model, Keras {version}")


def _text(value: Any) -> str:
    """h5py hands back attributes as bytes or str depending on how they were written."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_model_json(data: bytes) -> dict[str, Any]:
    value = exported_value(data) if is_javascript_bundle(data) else json.loads(data)
    if not isinstance(value, dict) or "modelTopology" not in value or "weightsManifest" not in value:
        raise KerasConversionError("model part is not a TF.js layers model.json")
    return value


def _read_shard(data: bytes) -> bytes:
    if not is_javascript_bundle(data):
        return data
    value = exported_value(data)
    if not isinstance(value, str):
        raise KerasConversionError("JavaScript weights bundle does not export a base64 string")
    return base64.b64decode(value, validate=True)
