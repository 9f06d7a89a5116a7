"""Requests made from botocore's input shapes, mostly valid, some at or past the limits.

Each member is drawn from values a client could send: an enum's values, strings that
match the member's pattern (a few that do not), numbers at and inside the bounds (a few
outside), real and broken images as blobs, existing and missing S3 objects. Most
requests therefore pass validation and reach the operation itself, which is where a
hostile value would find a crash the validator cannot see.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

from openrek.protocol.java_regex import compile_java_pattern

# Values a client may put in a string member; each is used where it fits the pattern.
STRING_POOL = (
    "fuzz",
    "fuzz-collection",
    "Fuzz_1.a",
    "a",
    "0",
    "user-1",
    "11111111-2222-3333-4444-555555555555",
    "arn:aws:rekognition:us-east-1:000000000000:project/fuzz/1700000000000",
    "arn:aws:rekognition:us-east-1:000000000000:project/fuzz/version/v1/1700000000000",
    "arn:aws:rekognition:us-east-1:000000000000:collection/fuzz",
    "arn:aws:rekognition:us-east-1:000000000000:streamprocessor/fuzz",
    "arn:aws:kinesisvideo:us-east-1:000000000000:stream/fuzz/1",
    "arn:aws:kinesis:us-east-1:000000000000:stream/fuzz",
    "arn:aws:sns:us-east-1:000000000000:fuzz",
    "arn:aws:iam::000000000000:role/fuzz",
    "arn:aws:kms:us-east-1:000000000000:key/fuzz",
    "../../etc/passwd",
    "é漢字 ✓",
    "x" * 300,
    "",
)


HOSTILE_SHARE = 0.3
# Members whose values name a resource, kept from successful calls for later requests.
IDENTIFIER_SUFFIXES = ("Id", "Ids", "Arn", "Token", "VersionName", "ProjectName", "DatasetType")


# Structures that take exactly one of their members on AWS, though the model does not say so.
EXCLUSIVE_MEMBERS = {
    "StreamProcessorInput",
    "StreamProcessorSettings",
    "StreamProcessorOutput",
    "DatasetSource",
}


@dataclass(frozen=True)
class Blobs:
    """Bytes for blob members: a photo with faces, a small picture, broken files."""

    photo: bytes
    small: bytes

    def choices(self) -> tuple[bytes, ...]:
        return (
            self.photo,
            self.small,
            self.small[: len(self.small) // 2],  # truncated
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a header and nothing behind it
            bytes(random.Random(len(self.photo)).randrange(256) for _ in range(512)),
        )


@dataclass(frozen=True)
class S3Objects:
    bucket: str
    present: tuple[str, ...]  # keys that exist in the server's S3


class RequestMaker:
    def __init__(self, seed: int, blobs: Blobs, s3: S3Objects, strings: tuple[str, ...] = ()) -> None:
        self.random = random.Random(seed)
        # The pool, and ARNs of what exists beside the server (an SNS topic, a Kinesis stream).
        self._strings = STRING_POOL + strings
        self._blobs = blobs.choices()
        self._s3 = s3
        self._hostile = False
        # Values the server accepted or returned, by member name (CollectionId, JobId,
        # ProjectArn, ...): later requests name resources that exist.
        self._known: dict[str, list[str]] = {}

    def _odd(self, share: float) -> bool:
        """Whether to break this value: only in a hostile request, at `share` of values."""
        return self._hostile and self.random.random() < share

    def request(self, shape: StructureShape) -> dict[str, Any]:
        """A request: most fit the model, so they reach the operation; the rest carry
        values at or past its limits somewhere."""
        self._hostile = self.random.random() < HOSTILE_SHARE
        made = self._structure(shape, depth=0)
        assert isinstance(made, dict)
        return made

    def learn(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        """Remember the identifiers of a request that succeeded, and of its answer."""
        for document in (request, response):
            for name, value in _strings(document):
                # A request's Name names what it made (a stream processor); an answer's
                # Names are labels and the like.
                # A bare "Arn" names anything (a collection, a Kinesis stream): not kept.
                if name == "Arn":
                    continue
                if name.endswith(IDENTIFIER_SUFFIXES) or (name == "Name" and document is request):
                    known = self._known.setdefault(name, [])
                    if value not in known:
                        known.append(value)
                    if name.endswith("Arn"):
                        self._known.setdefault("ResourceArn", []).append(value)

    def _known_value(self, name: str) -> str | None:
        known = self._known.get(name) or self._known.get(name.removesuffix("s"))
        if known and self.random.random() < 0.8:
            return self.random.choice(known)
        return None

    def _value(self, shape: Shape, name: str, depth: int) -> Any:
        if isinstance(shape, StructureShape):
            return self._structure(shape, depth + 1)
        if isinstance(shape, ListShape):
            return [self._value(shape.member, name, depth + 1) for _ in range(self._count(shape))]
        if isinstance(shape, MapShape):
            return {
                self._string(shape.key, name): self._value(shape.value, name, depth + 1)
                for _ in range(self._count(shape))
            }
        kind = shape.type_name
        if kind == "string":
            return self._string(shape, name)
        if kind in ("integer", "long"):
            return self._integer(shape)
        if kind in ("float", "double"):
            return self._float(shape)
        if kind == "boolean":
            return self.random.random() < 0.5
        if kind == "blob":
            blob = b"" if self._odd(0.3) else self.random.choice(self._blobs)
            return base64.b64encode(blob).decode()
        if kind == "timestamp":
            return -1 if self._odd(0.3) else self.random.choice((0, 1_700_000_000, 4_102_444_800))
        raise AssertionError(f"{name}: no values for shape type {kind}")

    def _structure(self, shape: StructureShape, depth: int) -> dict[str, Any]:
        if shape.name == "S3Object" and not self._odd(0.3):
            return {"Bucket": self._s3.bucket, "Name": self.random.choice((*self._s3.present, "missing.jpg"))}
        required = set(shape.required_members)
        made: dict[str, Any] = {}
        for name, member in shape.members.items():
            # Deep optional members are rarer, so that requests stay small.
            if name in required or self.random.random() < 0.6 / (1 + depth):
                made[name] = self._value(member, name, depth)
        # Unions, and members such as Image whose Bytes and S3Object exclude each other:
        # exactly one member, except in a hostile request now and then.
        exclusive = shape.metadata.get("union") or shape.name in EXCLUSIVE_MEMBERS
        if (exclusive or set(shape.members) == {"Bytes", "S3Object"}) and not self._odd(0.5):
            keep = self.random.choice(sorted(made) or sorted(shape.members))
            made = {keep: made.get(keep) or self._value(shape.members[keep], keep, depth)}
        return made

    def _count(self, shape: Shape) -> int:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 3)
        if self._odd(0.2):
            return self.random.choice((0, high + 1)) if high < 50 else 0
        return self.random.randint(low, max(low, min(high, 3)))

    def _string(self, shape: Shape, name: str) -> str:
        known = self._known_value(name)
        if known is not None and not self._odd(0.5):
            return known
        if isinstance(shape, StringShape) and shape.enum:
            return "NOT_AN_ENUM" if self._odd(0.1) else str(self.random.choice(shape.enum))
        if self._odd(0.2):  # anything at all
            return self.random.choice(self._strings)
        fitting = [value for value in self._strings if _fits(shape, value)]
        if fitting:
            return self.random.choice(fitting)
        # No value in the pool fits: letters and digits, within the length bounds.
        low, high = shape.metadata.get("min", 1), shape.metadata.get("max", 20)
        size = self.random.randint(low, max(low, min(high, 20)))
        return "".join(self.random.choice(string.ascii_letters + string.digits) for _ in range(size))

    def _integer(self, shape: Shape) -> int:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 2**31 - 1)
        if self._odd(0.2):
            return self.random.choice((low - 1, high + 1, -(2**63), 2**63 - 1))
        roll = self.random.random()
        if roll < 0.3:
            return int(self.random.choice((low, high)))
        return self.random.randint(int(low), int(min(high, low + 1000)))

    def _float(self, shape: Shape) -> float:
        low, high = float(shape.metadata.get("min", 0)), float(shape.metadata.get("max", 100))
        if self._odd(0.2):
            return self.random.choice((low - 1, high + 1, 1e308, -1e308))
        roll = self.random.random()
        if roll < 0.3:
            return self.random.choice((low, high))
        return self.random.uniform(low, high)


def _strings(document: Any, name: str = "") -> list[tuple[str, str]]:
    """(member name, value) of every string in a JSON document, list items named by their list."""
    if isinstance(document, str):
        return [(name, document)]
    if isinstance(document, list):
        return [found for item in document for found in _strings(item, name)]
    if isinstance(document, dict):
        return [found for key, value in document.items() for found in _strings(value, key)]
    return []


def _fits(shape: Shape, value: str) -> bool:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 1 << 20)
    if not low <= len(value) <= high:
        return False
    pattern = shape.metadata.get("pattern")
    return pattern is None or compile_java_pattern(pattern).fullmatch(value) is not None
