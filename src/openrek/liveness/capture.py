"""The capture page's upload: frames with their capture time and the flash shown.

`POST /liveness/sessions/{id}/frames` carries the whole capture as AWS-style JSON
(docs/liveness.md):

    {"Frames": [{"TimestampMs": 0, "Flash": null, "Image": "<base64 JPEG or PNG>"}, ...],
     "SDKType": "openrek-console"}

Frames are decoded one at a time and measured (signals.measure_frame); only their
encoded bytes are kept while the request runs, for the reference and audit images.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from openrek.protocol.errors import InvalidImageFormatException, InvalidParameterException

MIN_FRAMES = 12
MAX_FRAMES = 300
MAX_FRAME_BYTES = 1024 * 1024
MIN_SIDE, MAX_SIDE = 160, 1920
MAX_SDK_TYPE = 64


@dataclass(frozen=True)
class CapturedFrame:
    timestamp_ms: float
    flash: int | None
    encoded: bytes


@dataclass(frozen=True)
class Capture:
    frames: list[CapturedFrame]
    sdk_type: str | None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidParameterException(f"{where}.TimestampMs must be a number of milliseconds, 0 or more")
    return float(value)


def _flash(value: Any, where: str, flash_count: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < flash_count:
        raise InvalidParameterException(
            f"{where}.Flash must be null or the index of a flash of the challenge (0-{flash_count - 1})"
        )
    return value


def _image(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidParameterException(f"{where}.Image must be a base64-encoded JPEG or PNG")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterException(f"{where}.Image is not valid base64") from None
    if not data or len(data) > MAX_FRAME_BYTES:
        raise InvalidParameterException(f"{where}.Image must be 1 to {MAX_FRAME_BYTES} bytes")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise InvalidImageFormatException(f"{where}.Image is neither JPEG nor PNG")
    return data


def parse_capture(body: Any, flash_count: int) -> Capture:
    if not isinstance(body, dict) or not isinstance(body.get("Frames"), list):
        raise InvalidParameterException("The body must be a JSON object with a Frames list")
    unknown = set(body) - {"Frames", "SDKType"}
    if unknown:
        raise InvalidParameterException(f"Unknown member(s): {', '.join(sorted(unknown))}")
    sdk_type = body.get("SDKType")
    if sdk_type is not None and (not isinstance(sdk_type, str) or not 1 <= len(sdk_type) <= MAX_SDK_TYPE):
        raise InvalidParameterException(f"SDKType must be a string of 1 to {MAX_SDK_TYPE} characters")
    items = body["Frames"]
    if not MIN_FRAMES <= len(items) <= MAX_FRAMES:
        raise InvalidParameterException(
            f"Frames must hold {MIN_FRAMES} to {MAX_FRAMES} frames, not {len(items)}"
        )
    frames = []
    for n, item in enumerate(items):
        where = f"Frames[{n}]"
        if not isinstance(item, dict) or set(item) - {"TimestampMs", "Flash", "Image"}:
            raise InvalidParameterException(f"{where} must be an object of TimestampMs, Flash and Image")
        frames.append(
            CapturedFrame(
                _number(item.get("TimestampMs"), where),
                _flash(item.get("Flash"), where, flash_count),
                _image(item.get("Image"), where),
            )
        )
    if any(b.timestamp_ms < a.timestamp_ms for a, b in itertools.pairwise(frames)):
        raise InvalidParameterException(
            "Frames must be in the order they were taken (TimestampMs never decreasing)"
        )
    return Capture(frames, sdk_type)


def decoded(capture: Capture) -> Iterator[tuple[CapturedFrame, np.ndarray]]:
    """Each frame with its RGB pixels, decoded one at a time; all must share one size."""
    size: tuple[int, ...] | None = None
    for n, frame in enumerate(capture.frames):
        pixels = cv2.imdecode(np.frombuffer(frame.encoded, np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise InvalidImageFormatException(f"Frames[{n}].Image could not be decoded")
        height, width = pixels.shape[:2]
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise InvalidParameterException(
                f"Frames[{n}] is {width}x{height}; frames must be {MIN_SIDE} to {MAX_SIDE} pixels a side"
            )
        if size is not None and pixels.shape != size:
            raise InvalidParameterException(f"Frames[{n}] differs in size from the first frame")
        size = pixels.shape
        yield frame, np.ascontiguousarray(pixels[:, :, ::-1])
