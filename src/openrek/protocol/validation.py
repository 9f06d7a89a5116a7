"""Parse and validate an AWS JSON 1.1 request body against botocore's input shape.

AWS's servers handle a request body in two steps, and so does this module:

1. Deserialisation. A value of the wrong JSON type (a string for an integer, a
   number for a blob, a list for a structure, bad base64...) stops everything
   with a `SerializationException`. Its wording is the AWS (Coral) server's, as
   measured against live AWS JSON services by emulators such as dynalite:
   "STRING_VALUE cannot be converted to Integer", "Start of structure or map found
   where not expected", "only base-64-encoded strings are convertible to bytes".
   Like AWS, these messages do not name the member.
2. Validation. Every constraint of the model (required, min/max, length, enum,
   pattern) is checked and *all* failures are reported in one
   `ValidationException`: "2 validation errors detected: Value ... ; Value ...".
   Paths are lowerCamelCase member names joined by '.', with structures inside
   lists as 'list.1.member.field' (1-based). A list of scalars (or a map) whose
   elements break their constraints gets one error at the list itself, listing
   every constraint of the element shape, as AWS does:
   "Value '[FOO]' at 'attributes' failed to satisfy constraint: Member must
   satisfy constraint: [Member must satisfy enum value set: [DEFAULT, ALL, ...]]".

The result is a new dict holding only the members the model knows (AWS ignores
unknown ones), with blobs decoded to `bytes` and timestamps turned into aware
`datetime`s. JSON `null` counts as absent, as it does for AWS.
"""

from __future__ import annotations

import binascii
import functools
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

from openrek.protocol.errors import SerializationException, ValidationException
from openrek.protocol.java_regex import compile_java_pattern

__all__ = ["parse_request"]

# Error values longer than this are cut short: AWS echoes the value, but a
# multi-megabyte string has no place in an error message or a log line.
_MAX_SHOWN = 512

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


# --------------------------------------------------------------------------- #
# How AWS prints values in its messages (Java's toString)
# --------------------------------------------------------------------------- #


def _java_double(value: float) -> str:
    """Java's Double.toString: plain between 1e-3 and 1e7, else 'd.dddE<exp>'."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1e7:
        return repr(float(value))  # repr never uses an exponent in this range
    sign, digits, exponent = Decimal(repr(float(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


def _show(shape: Shape, value: Any) -> str:
    """A parsed value as AWS's Java server would print it (unquoted)."""
    if value is None:
        return "null"
    if isinstance(value, bytes):
        # AWS prints the ByteBuffer, never the bytes.
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        member = shape.member if isinstance(shape, ListShape) else shape
        return "[" + ", ".join(_show(member, item) for item in value) + "]"
    if isinstance(value, dict):
        if isinstance(shape, StructureShape):
            # The AWS Java model classes print themselves as {Name: value,...}.
            parts = (f"{name}: {_show(shape.members[name], v)}" for name, v in value.items())
            return "{" + ",".join(parts) + "}"
        key_shape = shape.key if isinstance(shape, MapShape) else shape
        value_shape = shape.value if isinstance(shape, MapShape) else shape
        return (
            "{" + ", ".join(f"{_show(key_shape, k)}={_show(value_shape, v)}" for k, v in value.items()) + "}"
        )
    return str(value)


def _quoted(shape: Shape, value: Any) -> str:
    if value is None:
        return "null"  # AWS writes `Value null at ...`, unquoted
    text = _show(shape, value)
    if len(text) > _MAX_SHOWN:
        text = text[:_MAX_SHOWN] + "..."
    return f"'{text}'"


# --------------------------------------------------------------------------- #
# Constraints
# --------------------------------------------------------------------------- #


def _bound(value: Any) -> str:
    """A min/max from the model as AWS prints it (100, not 100.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _at_least(measure: str, bound: Any) -> str:
    return f"Member must have {measure} greater than or equal to {_bound(bound)}"


def _at_most(measure: str, bound: Any) -> str:
    return f"Member must have {measure} less than or equal to {_bound(bound)}"


def _enum(shape: Shape) -> list[str]:
    return shape.enum if isinstance(shape, StringShape) else []


def _scalar_failures(shape: Shape, value: Any) -> list[str]:
    """The constraints of a scalar shape that `value` (already parsed) breaks,
    in the order AWS reports them: enum, pattern, then length or range."""
    failures: list[str] = []
    meta = shape.metadata
    kind = shape.type_name
    if kind == "string":
        enum = _enum(shape)
        if enum and value not in enum:
            failures.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        if pattern is not None and compile_java_pattern(pattern).fullmatch(value) is None:
            failures.append(f"Member must satisfy regular expression pattern: {pattern}")
    if kind in ("string", "blob"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            failures.append(_at_least("length", meta["min"]))
        if "max" in meta and size > meta["max"]:
            failures.append(_at_most("length", meta["max"]))
    elif kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            failures.append(_at_least("value", meta["min"]))
        if "max" in meta and value > meta["max"]:
            failures.append(_at_most("value", meta["max"]))
    return failures


def _all_constraints(shape: Shape) -> list[str]:
    """Every constraint of an element shape, as AWS lists them inside
    'Member must satisfy constraint: [...]': enum, max, min, pattern."""
    meta = shape.metadata
    texts: list[str] = []
    enum = _enum(shape)
    if enum:
        texts.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    measure = "value" if shape.type_name in ("integer", "long", "float", "double") else "length"
    if "max" in meta:
        texts.append(_at_most(measure, meta["max"]))
    if "min" in meta:
        texts.append(_at_least(measure, meta["min"]))
    if "pattern" in meta:
        texts.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    return texts


# --------------------------------------------------------------------------- #
# Deserialisation errors
# --------------------------------------------------------------------------- #

_JAVA_TYPES = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "float": "Float",
    "double": "Double",
    "boolean": "Boolean",
    "timestamp": "Date",
}


def _token(value: object) -> str:
    """The JSON token name AWS's parser uses in its messages."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    return "STRING_VALUE"


def _wrong_type(shape: Shape, value: object) -> SerializationException:
    kind = shape.type_name
    if isinstance(value, list):
        message = "Start of list found where not expected"
    elif isinstance(value, dict):
        message = "Start of structure or map found where not expected"
    elif kind in ("structure", "list", "map"):
        message = "Unexpected field type"
    elif kind == "blob":
        message = "only base-64-encoded strings are convertible to bytes"
    elif kind == "boolean" and isinstance(value, str):
        message = "Unexpected token received from parser"
    else:
        message = f"{_token(value)} cannot be converted to {_JAVA_TYPES.get(kind, kind)}"
    return SerializationException(message)


def _decode_base64(text: str) -> bytes:
    """Decode strict, padded base64 the way AWS's server does, in one pass."""
    if len(text) % 4:
        raise SerializationException(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}"
        )
    try:
        # strict_mode rejects whitespace, stray characters and misplaced padding;
        # a2b_base64 takes the str directly, so a 7 MB image is not copied first.
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise SerializationException("Invalid Base64 character detected") from None
    # AWS also refuses a last character whose unused low bits are set
    # (e.g. '+/+=' decodes, but is not what any encoder produces).
    # endswith, not rstrip: rstrip would copy a multi-megabyte string.
    padding = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    if padding:
        last = _BASE64_ALPHABET.index(text[-padding - 1])
        if last & (0b1111 if padding == 2 else 0b11):
            # The typo is AWS's own.
            raise SerializationException("Invalid last non-pad Base64 character dectected")
    return data


# --------------------------------------------------------------------------- #
# The walk
# --------------------------------------------------------------------------- #


@functools.cache
def _lower_first(name: str) -> str:
    """AWS's paths use the member name with only its first letter lowered."""
    return name[:1].lower() + name[1:]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Parser:
    """One request's walk: converts values, raises on type errors, collects
    constraint failures (AWS reports them all at once)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    @staticmethod
    def _message(shape: Shape, value: Any, path: str, constraint: str) -> str:
        shown = _quoted(shape, value)
        return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"

    def fail(self, shape: Shape, value: Any, path: str, constraint: str) -> None:
        self.errors.append(self._message(shape, value, path, constraint))

    # ---- dispatch ---------------------------------------------------------

    def convert(self, shape: Shape, value: Any, path: str) -> Any:
        """Convert a non-null value to `shape`, without checking scalar constraints."""
        kind = shape.type_name
        if kind == "structure":
            if shape.metadata.get("document"):
                return value  # free-form JSON, nothing to check
            assert isinstance(shape, StructureShape)
            return self.parse_structure(shape, value, path)
        if kind == "list":
            assert isinstance(shape, ListShape)
            return self.parse_list(shape, value, path)
        if kind == "map":
            assert isinstance(shape, MapShape)
            return self.parse_map(shape, value, path)
        return _SCALARS.get(kind, _keep)(shape, value)

    def member(self, shape: Shape, value: Any, path: str) -> Any:
        """Convert a structure member and report its own constraints."""
        parsed = self.convert(shape, value, path)
        if shape.type_name not in ("structure", "list", "map"):
            for failure in _scalar_failures(shape, parsed):
                self.fail(shape, parsed, path, failure)
        return parsed

    # ---- aggregates -------------------------------------------------------

    def parse_structure(self, shape: StructureShape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _wrong_type(shape, value)
        required = shape.required_members
        out: dict[str, Any] = {}
        for name, member_shape in shape.members.items():
            wire_name = member_shape.serialization.get("name", name)
            raw = value.get(wire_name)
            member_path = _join(path, _lower_first(name))
            if raw is None:  # JSON null is the same as absent
                if name in required:
                    self.fail(member_shape, None, member_path, "Member must not be null")
                continue
            out[name] = self.member(member_shape, raw, member_path)
        return out

    def _collection_size(self, shape: Shape, value: Any, path: str, mark: int) -> None:
        """Check a list's or map's entry count. Its errors go at `mark`, before
        those of its elements: the container is reported before its contents."""
        meta = shape.metadata
        failures: list[str] = []
        if "min" in meta and len(value) < meta["min"]:
            failures.append(_at_least("length", meta["min"]))
        if "max" in meta and len(value) > meta["max"]:
            failures.append(_at_most("length", meta["max"]))
        for failure in failures:
            self.errors.insert(mark, self._message(shape, value, path, failure))
            mark += 1

    def _elements(
        self, shape: Shape, items: list[tuple[str, Any]], path: str
    ) -> tuple[list[Any], bool, bool]:
        """Convert list elements or map values (given as (path label, value)).

        Structures, lists and maps inside are walked with their own paths; for
        scalars only whether any breaks its constraints (or is null) is returned,
        since AWS reports those once, on the container.
        """
        nested = shape.type_name in ("structure", "list", "map")
        parsed: list[Any] = []
        broken = has_null = False
        for label, item in items:
            item_path = f"{path}.{label}"
            if item is None:
                has_null = True
                if nested:
                    self.fail(shape, None, item_path, "Member must not be null")
                parsed.append(None)
                continue
            converted = self.convert(shape, item, item_path)
            if not nested and not broken and _scalar_failures(shape, converted):
                broken = True
            parsed.append(converted)
        return parsed, broken, has_null and not nested

    def parse_list(self, shape: ListShape, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise _wrong_type(shape, value)
        member = shape.member
        mark = len(self.errors)
        parsed, broken, null_scalar = self._elements(
            member, [(f"{i}.member", item) for i, item in enumerate(value, 1)], path
        )
        self._collection_size(shape, parsed, path, mark)
        if broken or null_scalar:
            self._container_failure(member, parsed, path, "Member", null_scalar, shape)
        return parsed

    def parse_map(self, shape: MapShape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _wrong_type(shape, value)
        keys = list(value)
        mark = len(self.errors)
        # JSON object keys are always strings, so keys only need their constraints.
        keys_broken = any(_scalar_failures(shape.key, key) for key in keys)
        values, values_broken, null_value = self._elements(
            shape.value, [(key, value[key]) for key in keys], path
        )
        out = dict(zip(keys, values, strict=True))
        self._collection_size(shape, out, path, mark)
        if keys_broken:
            self._container_failure(shape.key, out, path, "Map keys", False, shape)
        if values_broken or null_value:
            self._container_failure(shape.value, out, path, "Map values", null_value, shape)
        return out

    def _container_failure(
        self,
        element: Shape,
        container: Any,
        path: str,
        subject: str,
        has_null: bool,
        container_shape: Shape,
    ) -> None:
        constraints = _all_constraints(element)
        if has_null:
            constraints.append("Member must not be null")
        self.fail(
            container_shape,
            container,
            path,
            f"{subject} must satisfy constraint: [{', '.join(constraints)}]",
        )


# ---- scalar converters ------------------------------------------------------


def _string(shape: Shape, value: Any) -> str:
    if not isinstance(value, str):
        raise _wrong_type(shape, value)
    return value


def _whole(shape: Shape, value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong_type(shape, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _wrong_type(shape, value)
        # A decimal where an integer is expected is truncated, as Java's
        # Number.intValue() does on AWS's side.
        value = int(value)
    checked: int = value
    if not bounds[0] <= checked <= bounds[1]:
        # Java would silently wrap; refusing is the only safe answer here.
        raise SerializationException(f"NUMBER_VALUE cannot be converted to {_JAVA_TYPES[shape.type_name]}")
    return checked


def _integer(shape: Shape, value: Any) -> int:
    return _whole(shape, value, _INT32)


def _long(shape: Shape, value: Any) -> int:
    return _whole(shape, value, _INT64)


def _real(shape: Shape, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong_type(shape, value)
    result = float(value)
    if not math.isfinite(result):
        raise _wrong_type(shape, value)
    return result


def _boolean(shape: Shape, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _wrong_type(shape, value)
    return value


def _blob(shape: Shape, value: Any) -> bytes:
    if not isinstance(value, str):
        raise _wrong_type(shape, value)
    return _decode_base64(value)


def _timestamp(shape: Shape, value: Any) -> datetime:
    """Epoch seconds (JSON's default format) or an ISO 8601 string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise SerializationException(f"{_token(value)} cannot be converted to Date") from None
    if not isinstance(value, str):
        raise _wrong_type(shape, value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise SerializationException(f"Unable to parse date value '{value[:_MAX_SHOWN]}'") from None
    # A time without an offset is taken as UTC, as AWS does.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _keep(shape: Shape, value: Any) -> Any:
    return value


_SCALARS: dict[str, Callable[[Shape, Any], Any]] = {
    "string": _string,
    "integer": _integer,
    "long": _long,
    "float": _real,
    "double": _real,
    "boolean": _boolean,
    "blob": _blob,
    "timestamp": _timestamp,
}


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #


def parse_request(shape: StructureShape | None, body: object) -> dict[str, Any]:
    """Check `body` (decoded JSON) against an operation's input shape.

    Returns a new dict of the known members, blobs as `bytes`, timestamps as
    aware `datetime`s. Raises `SerializationException` for a value of the wrong
    type and `ValidationException` (all failures in one message) for broken
    constraints.
    """
    if not isinstance(body, dict):
        if isinstance(body, list):
            raise SerializationException("Start of list found where not expected")
        raise SerializationException("Unexpected value type in payload")
    if shape is None:
        return {}
    parser = _Parser()
    result = parser.parse_structure(shape, body, "")
    if parser.errors:
        count = len(parser.errors)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(parser.errors)
        )
    return result
