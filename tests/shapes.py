"""A strict, independent check that a response matches its botocore output shape.

Written separately from the server's request validator so a bug in one cannot
hide a bug in the other.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NoReturn

import regex
from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

from openrek.protocol.service_model import operation_model


def _fail(path: str, why: str) -> NoReturn:
    raise AssertionError(f"{path}: {why}")


def _matches(pattern: str, value: str) -> bool:
    # The tag patterns use Java's \p{L}-style classes, which `re` cannot read; the
    # third-party `regex` reads them (the server uses its own translation instead).
    if "\\p" in pattern:
        return regex.fullmatch(pattern, value) is not None
    return re.fullmatch(pattern, value) is not None


def check(shape: Shape, value: Any, path: str) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        assert isinstance(shape, StructureShape)  # botocore builds every structure as one
        if not isinstance(value, dict):
            _fail(path, f"expected an object, got {type(value).__name__}")
        for name in value:
            if name not in shape.members:
                _fail(path, f"unknown member {name!r}")
        for name in shape.required_members:
            if name not in value:
                _fail(path, f"missing required member {name!r}")
        for name, member in value.items():
            check(shape.members[name], member, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            _fail(path, "expected a list")
        if "max" in meta and len(value) > meta["max"]:
            _fail(path, f"more than {meta['max']} items")
        for index, item in enumerate(value):
            check(shape.member, item, f"{path}[{index}]")
    elif kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            _fail(path, "expected a map")
        for key, item in value.items():
            check(shape.key, key, f"{path}<key>")
            check(shape.value, item, f"{path}[{key}]")
    elif kind == "string":
        assert isinstance(shape, StringShape)
        if not isinstance(value, str):
            _fail(path, f"expected a string, got {value!r}")
        if shape.enum and value not in shape.enum:
            _fail(path, f"{value!r} not in enum {shape.enum}")
        if "pattern" in meta and not _matches(meta["pattern"], value):
            _fail(path, f"{value!r} does not match {meta['pattern']}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(path, f"expected an integer, got {value!r}")
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            _fail(path, f"expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            _fail(path, f"expected a boolean, got {value!r}")
    elif kind == "timestamp":
        if not isinstance(value, dt.datetime):
            _fail(path, f"expected a timestamp, got {value!r}")
    elif kind == "blob":
        if not isinstance(value, bytes):
            _fail(path, "expected bytes")
    if kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            _fail(path, f"{value} below minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            _fail(path, f"{value} above maximum {meta['max']}")


def assert_valid_output(operation: str, response: dict[str, Any]) -> None:
    model = operation_model(operation)
    assert model is not None and model.output_shape is not None
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    check(model.output_shape, body, operation)
