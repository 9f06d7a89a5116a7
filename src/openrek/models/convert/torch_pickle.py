"""Read a PyTorch state dict (`torch.save` output) into numpy arrays, without torch.

Both layouts torch has written are understood:
- the zip archive (torch >= 1.6): `<root>/data.pkl` plus one file per storage under
  `<root>/data/<key>`;
- the legacy stream (older torch): five pickles in a row (magic number, protocol
  version, system info, the object, the list of storage keys) followed by each
  storage's bytes, each prefixed by its element count as a little-endian int64.

Unpickling runs arbitrary code unless restricted, and a weight file comes from a
registry package we do not control: the unpickler below resolves only the handful of
globals a state dict of plain tensors needs (an OrderedDict, the tensor rebuild
functions and the typed storage classes) and refuses everything else. Tensors are
first unpickled as references (a legacy file's bytes come after its pickle) and
filled in once every storage is at hand.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES: dict[str, type | None] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": None,  # no numpy dtype: refused when met
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsafePickleError(ValueError):
    """The file asks for something a plain state dict never needs."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        dtype = STORAGE_DTYPES[self.name]
        if dtype is None:
            raise UnsafePickleError(f"{self.name} tensors are not supported")
        return np.dtype(dtype).newbyteorder("<")


@dataclass(frozen=True)
class _StorageRef:
    key: str
    storage_type: _StorageType
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _tensor_ref(storage: _StorageRef, offset: int, size: Any, stride: Any, *_rest: Any) -> _TensorRef:
    """Stands in for torch._utils._rebuild_tensor(_v2); the rest (requires_grad,
    backward hooks) means nothing for inference."""
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


def _parameter(data: _TensorRef, *_rest: Any) -> _TensorRef:
    return data


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _tensor_ref,
    ("torch._utils", "_rebuild_tensor"): _tensor_ref,
    ("torch._utils", "_rebuild_parameter"): _parameter,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"refusing to load global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> _StorageRef:
        # ('storage', storage type, key, location, element count[, view metadata])
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise UnsafePickleError(f"unexpected persistent id {pid!r}")
        if not isinstance(pid[1], _StorageType):
            raise UnsafePickleError(f"unexpected storage type {pid[1]!r}")
        return _StorageRef(str(pid[2]), pid[1], int(pid[4]))


def _unpickle(stream: BinaryIO) -> Any:
    return _StateDictUnpickler(stream).load()


def _materialise(ref: _TensorRef, storage: np.ndarray) -> np.ndarray:
    if not ref.size:
        return np.array(storage[ref.offset])
    needed = ref.offset + 1 + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
    if needed > storage.size:
        raise ValueError(f"tensor of storage {ref.storage.key} reaches past its end")
    view = np.lib.stride_tricks.as_strided(
        storage[ref.offset :],
        shape=ref.size,
        strides=tuple(s * storage.dtype.itemsize for s in ref.stride),
        writeable=False,
    )
    return np.ascontiguousarray(view)


def _fill(obj: Any, storage_of: Callable[[_StorageRef], np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a state dict, found {type(obj).__name__}")
    tensors = {}
    for name, value in obj.items():
        if isinstance(value, _TensorRef):
            tensors[str(name)] = _materialise(value, storage_of(value.storage))
    return tensors


def _load_zip(data: bytes) -> dict[str, np.ndarray]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
        raise ValueError("not a PyTorch archive: no single data.pkl")
    root = pickles[0][: -len("data.pkl")]
    obj = _unpickle(io.BytesIO(archive.read(pickles[0])))

    def storage_of(ref: _StorageRef) -> np.ndarray:
        raw = archive.read(f"{root}data/{ref.key}")
        return np.frombuffer(raw, dtype=ref.storage_type.dtype, count=ref.numel)

    return _fill(obj, storage_of)


def _load_legacy(data: bytes) -> dict[str, np.ndarray]:
    stream = io.BytesIO(data)
    if _unpickle(stream) != LEGACY_MAGIC:
        raise ValueError("not a PyTorch file: bad magic number")
    _unpickle(stream)  # protocol version
    _unpickle(stream)  # system info (endianness, type sizes)
    obj = _unpickle(stream)
    keys = [str(k) for k in _unpickle(stream)]
    types = {}
    if isinstance(obj, dict):
        types = {v.storage.key: v.storage.storage_type for v in obj.values() if isinstance(v, _TensorRef)}
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", stream.read(8))
        dtype = types[key].dtype
        storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
    return _fill(obj, lambda ref: storages[ref.key])


def load_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a `torch.save`d state dict, by name, as numpy arrays."""
    if data[:4] == b"PK\x03\x04":
        return _load_zip(data)
    return _load_legacy(data)
