"""Read the weights of a TF.js model (graph or layers format) without TensorFlow.

A TF.js `model.json` lists `weightsManifest`: groups, each naming its shard files
(`paths`) and the weights stored one after another in the concatenation of those
shards. A weight is `{"name", "shape", "dtype"}` plus, when the converter
quantised it, `"quantization": {"dtype": "uint8"|"uint16"|"float16", "min",
"scale"}`: then the bytes hold the quantised values and the real value is
`q * scale + min` (affine, uint8/uint16) or the half-precision number (float16).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

_STORED: dict[str, np.dtype] = {  # TF.js dtype name -> how its values are laid out (little-endian)
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("u1"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
    "float16": np.dtype("<f2"),
}
_RESULT: dict[str, type] = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


class TfjsWeightsError(ValueError):
    """The manifest or shards do not describe readable weights."""


def _decode(spec: Mapping[str, object], raw: np.ndarray) -> np.ndarray:
    name, dtype = spec["name"], str(spec["dtype"])
    quantization = spec.get("quantization")
    if not isinstance(quantization, Mapping):
        return raw.astype(_RESULT[dtype])
    stored = str(quantization["dtype"])
    if stored == "float16":
        return raw.astype(_RESULT[dtype])
    if stored in ("uint8", "uint16"):
        scale = np.float32(quantization["scale"])
        minimum = np.float32(quantization["min"])
        real = raw.astype(np.float32) * scale + minimum
        # int32 weights quantised affinely come back rounded, as TF.js does
        return np.round(real).astype(np.int32) if dtype == "int32" else real.astype(_RESULT[dtype])
    raise TfjsWeightsError(f"weight {name}: unsupported quantization dtype {stored!r}")


def read_tfjs_weights(
    weights_manifest: list[dict[str, Any]], shards: Mapping[str, bytes]
) -> dict[str, np.ndarray]:
    """Return every weight of the manifest by name, as float32 / int32 / bool arrays.

    `shards` maps each path named in the manifest (as written there, e.g.
    "group1-shard1of2.bin") to its bytes.
    """
    weights: dict[str, np.ndarray] = {}
    for group in weights_manifest:
        try:
            buffer = b"".join(shards[path] for path in group["paths"])
        except KeyError as missing:
            raise TfjsWeightsError(f"weights shard {missing.args[0]!r} not given") from None
        offset = 0
        for spec in group["weights"]:
            dtype = str(spec["dtype"])
            quantization = spec.get("quantization")
            stored_name = str(quantization["dtype"]) if quantization else dtype
            if dtype not in _RESULT or stored_name not in _STORED:
                raise TfjsWeightsError(f"weight {spec['name']}: unsupported dtype {stored_name!r}")
            shape = tuple(int(d) for d in spec["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            stored = _STORED[stored_name]
            end = offset + count * stored.itemsize
            if end > len(buffer):
                raise TfjsWeightsError(f"weight {spec['name']}: shards end before its data")
            raw = np.frombuffer(buffer, dtype=stored, count=count, offset=offset)
            weights[str(spec["name"])] = _decode(spec, raw).reshape(shape)
            offset = end
    return weights
