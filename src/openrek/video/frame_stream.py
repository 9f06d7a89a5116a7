"""Every frame of a stored video, one at a time, for analyses that cannot skip any
(shot boundaries, black frames): unlike `decode.sample`, nothing is dropped, and
nothing is converted to full-size RGB.

A frame offers what its consumers need, each made on request from the decoded
picture: a small RGB copy at a chosen size (TransNetV2 reads 48x27) and its luma
plane as coded, normalised by the stream's colour range. Frame numbers count from the
video's first frame; at a constant rate they follow the timestamps, so a damaged
spot the decoder skipped does not shift the frames after it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

# Reusing decode.py's checked opening (MP4/MOV demuxer only, codec and frame-size
# limits), its damaged-packet handling and its rotation reading keeps one definition
# of what a readable video is.
from openrek.video.decode import (
    TRUNCATED,
    VideoUnreadable,
    decoded_frames,
    frame_rate_of,
    open_video,
    rotation_turns,
)

# Luma planes read directly: 8-bit planar YUV. Other formats are converted to yuv420p
# first (which keeps their colour range).
_PLANAR_8_BIT = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv411p", "yuv440p", "nv12"}
)
# Luma is measured on at most this many columns: coverage of a 4K frame is estimated
# from every 6th pixel of every 6th row, which leaves a 640-wide grid of samples.
MAX_LUMA_WIDTH = 640

UInt8Array = np.ndarray[Any, np.dtype[np.uint8]]
FloatArray = np.ndarray[Any, np.dtype[np.float32]]


class Stopping(Exception):
    """The caller's stop event was set between two frames."""


@dataclass(frozen=True)
class StreamInfo:
    rate: Fraction  # frames a second (the average rate for a variable-rate video)
    full_range: bool  # luma 0-255 (FULL) rather than 16-235 (LIMITED)


class Frame:
    """One decoded frame; valid only until the stream moves to the next one."""

    def __init__(self, frame: Any, number: int, full_range: bool) -> None:
        self._frame = frame
        self.number = number
        self._full_range = full_range
        self._turns = rotation_turns(frame)

    def rgb(self, width: int, height: int) -> UInt8Array:
        """The picture, upright, scaled to width x height (bicubic, as FFmpeg's default)."""
        sideways = self._turns % 2 == 1
        scaled = self._frame.reformat(
            width=height if sideways else width,
            height=width if sideways else height,
            format="rgb24",
            interpolation="BICUBIC",
        )
        rgb: UInt8Array = scaled.to_ndarray()
        if self._turns:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=self._turns))
        return rgb

    def luma(self) -> FloatArray:
        """Luma as coded (Y'), 0.0 at the range's black and 1.0 at its white: (Y - 16) / 219
        for a limited-range video, Y / 255 for a full-range one. Values outside (below
        16 or above 235 in a limited-range file) are kept, not clipped. Sampled on a
        regular grid at most MAX_LUMA_WIDTH wide. Orientation does not matter here."""
        frame = self._frame
        if frame.format.name not in _PLANAR_8_BIT:
            frame = frame.reformat(format="yuv420p")
        plane = frame.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
        step = -(-plane.width // MAX_LUMA_WIDTH)
        grid = rows[::step, : plane.width : step].astype(np.float32)
        if self._full_range:
            return grid / np.float32(255.0)
        return (grid - np.float32(16.0)) / np.float32(219.0)


@contextmanager
def frame_stream(
    path: Path, stop: threading.Event | None = None
) -> Iterator[tuple[StreamInfo, Iterator[Frame]]]:
    """The stream's rate and colour range, and its frames in order. A set `stop`
    raises Stopping between two frames."""
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        context = stream.codec_context
        rate = frame_rate_of(stream) or Fraction(25)
        full_range = context.color_range == 2 or "yuvj" in (context.pix_fmt or "")
        constant_rate = stream.base_rate is not None and stream.base_rate == stream.average_rate
        yield StreamInfo(rate, full_range), _frames(container, stream, rate, constant_rate, full_range, stop)


def _frames(
    container: Any,
    stream: Any,
    rate: Fraction,
    constant_rate: bool,
    full_range: bool,
    stop: threading.Event | None,
) -> Iterator[Frame]:
    time_base = stream.time_base
    first_pts: int | None = None
    count = 0
    last_number = -1
    for frame in decoded_frames(container, stream):
        if stop is not None and stop.is_set():
            raise Stopping
        number = count
        if constant_rate and frame.pts is not None and time_base:
            if first_pts is None:
                first_pts = frame.pts
            number = round((frame.pts - first_pts) * time_base * rate)
        # Never twice the same number, never backwards (a stray timestamp).
        number = max(number, last_number + 1)
        last_number = number
        count += 1
        yield Frame(frame, number, full_range)
    if count == 0:
        raise VideoUnreadable(TRUNCATED)
    # FFmpeg stops quietly at the end of a cut file whose index is at the front:
    # frames far short of the declared length mean the file was truncated.
    if stream.duration and time_base:
        declared = float(stream.duration * time_base)
        reached = float((last_number + 1) / rate)
        if reached < declared - max(1.0, 0.05 * declared):
            raise VideoUnreadable(TRUNCATED)
