"""Reading stored videos: what a file holds (probe) and frames at a chosen rate (sample).

Both stream the file with PyAV (FFmpeg): `sample` decodes one frame at a time and
converts to RGB only the frames it yields, so a two-hour video never sits in memory.

What Rekognition Video accepts: H.264 video in an MP4 or MOV container. Anything
else is refused with a VideoUnreadable whose message is the job's StatusMessage.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

# FFmpeg's demuxer for MP4, MOV, M4V, 3GP: one demuxer, whose long name is what AWS
# reports as VideoMetadata.Format ("QuickTime / MOV") for .mp4 and .mov alike.
MP4_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
# 7680 x 4320 (8K UHD): larger frames are refused before one is decoded.
MAX_FRAME_PIXELS = 7680 * 4320
SUPPORTED_CODECS = frozenset({"h264"})

SUPPORTED = "H.264 video in an MP4 or MOV container"
NOT_A_VIDEO = (
    f"The file is not a video that can be read (unrecognised or corrupt data). Supported: {SUPPORTED}."
)
TRUNCATED = "The video file is truncated or corrupt: it could not be read to the end."
STILL_IMAGE = f"The file is a still image, not a video. Supported: {SUPPORTED}."
CORRUPT = "The video file is corrupt: too much of it could not be decoded."
NO_VIDEO_STREAM = "The file has no video stream."


class VideoUnreadable(Exception):
    """A stored video that cannot be analysed; str(error) is a user-facing StatusMessage."""


@dataclass(frozen=True)
class VideoMetadata:
    codec: str
    duration_millis: int
    format: str
    frame_rate: float
    frame_height: int
    frame_width: int
    color_range: str

    def as_aws(self) -> dict[str, object]:
        return {
            "Codec": self.codec,
            "DurationMillis": self.duration_millis,
            "Format": self.format,
            "FrameRate": self.frame_rate,
            "FrameHeight": self.frame_height,
            "FrameWidth": self.frame_width,
            "ColorRange": self.color_range,
        }


@dataclass(frozen=True)
class SampledFrame:
    timestamp_millis: int
    frame_number: int
    rgb: np.ndarray[Any, np.dtype[np.uint8]]


def _unsupported(codec: str, container_format: str) -> VideoUnreadable:
    return VideoUnreadable(
        f"Unsupported codec/format: the video is {codec} in {container_format}; supported: {SUPPORTED}."
    )


@contextmanager
def open_video(path: Path) -> Iterator[tuple[Any, Any]]:
    """The container and its first video stream, both checked as supported.

    Only FFmpeg's MP4/MOV demuxer ever reads the file: left to guess, FFmpeg would
    follow a playlist (HLS, concat) that an uploaded "video" names, to other files
    or hosts. That demuxer ignores external data references by default.
    """
    try:
        container: Any = av.open(str(path), mode="r", format=MP4_DEMUXER)
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise VideoUnreadable(_why_not_mp4(path)) from error
    try:
        if not container.streams.video:
            raise VideoUnreadable(NO_VIDEO_STREAM)
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in SUPPORTED_CODECS:
            raise _unsupported(codec, container.format.long_name)
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > MAX_FRAME_PIXELS:
            # A hostile header could ask for a frame of gigabytes; 8K UHD and below pass.
            raise VideoUnreadable(
                f"The video's frames are {width}x{height}; at most {MAX_FRAME_PIXELS // 1_000_000} "
                "megapixels a frame (8K UHD) are analysed."
            )
        yield container, stream
    finally:
        container.close()


# Other files by their first bytes, to say what they are.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "still"),
    (0, b"\xff\xd8\xff", "still"),
    (0, b"GIF8", "still"),
    (0, b"BM", "still"),
    (8, b"WEBP", "still"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska / WebM"),
    (8, b"AVI ", "AVI"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
    (0, b"OggS", "Ogg"),
    (0, b"#EXTM3U", "an HLS playlist"),
)


def _why_not_mp4(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return NOT_A_VIDEO
    # An MP4 whose index (moov) lies past the cut is refused when opened.
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return TRUNCATED
    for offset, signature, kind in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if kind == "still":
                return STILL_IMAGE
            return f"Unsupported codec/format: the file is {kind}; supported: {SUPPORTED}."
    return NOT_A_VIDEO


def rotation_turns(frame: Any) -> int:
    """The display rotation as quarter turns counter-clockwise (0..3)."""
    try:
        degrees = float(frame.rotation or 0)
    except (AttributeError, ValueError, TypeError):
        return 0
    return round(degrees / 90) % 4


def _upright_rgb(frame: Any) -> np.ndarray[Any, np.dtype[np.uint8]]:
    rgb: np.ndarray[Any, np.dtype[np.uint8]] = frame.to_ndarray(format="rgb24")
    turns = rotation_turns(frame)
    if turns:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=turns))
    return rgb


def decoded_frames(container: Any, stream: Any) -> Iterator[Any]:
    """The stream's frames in presentation order, one at a time.

    A packet the decoder refuses (a damaged spot) is skipped, as players do; a file
    the demuxer cannot read on, or one mostly damaged, is VideoUnreadable.
    """
    packets = container.demux(stream)
    total = bad = 0
    while True:
        try:
            packet = next(packets, None)
        except av.error.FFmpegError as error:
            raise VideoUnreadable(TRUNCATED) from error
        if packet is None:
            return
        total += 1
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            bad += 1
            if bad > max(25, total // 2):
                raise VideoUnreadable(CORRUPT) from None
            continue
        yield from frames


def frame_rate_of(stream: Any) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return None


def _declared_seconds(container: Any, stream: Any) -> float | None:
    """The length the file's header declares (nothing is decoded), if it declares one."""
    rate = frame_rate_of(stream)
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    if stream.frames and rate:
        return float(stream.frames / rate)
    return None


def declared_seconds(path: Path) -> float | None:
    """How long the video says it is, read from its header alone: cheap enough for a
    Start call. None when the file does not say, or is not a video this module reads
    (the job then fails with the reason)."""
    try:
        with open_video(path) as (container, stream):
            return _declared_seconds(container, stream)
    except VideoUnreadable:
        return None


def probe(path: Path) -> VideoMetadata:
    with open_video(path) as (container, stream):
        context = stream.codec_context
        rate = frame_rate_of(stream)
        seconds = _declared_seconds(container, stream) or 0.0
        width, height = context.width, context.height
        color_range = "FULL" if context.color_range == 2 or "yuvj" in (context.pix_fmt or "") else "LIMITED"
        # Width and height as shown: a phone video stored sideways with a display
        # rotation is analysed upright, so its sizes swap.
        first = next(decoded_frames(container, stream), None)
        if first is None:
            raise VideoUnreadable(TRUNCATED)
        if rotation_turns(first) % 2:
            width, height = height, width
        return VideoMetadata(
            codec=context.name,
            duration_millis=round(seconds * 1000),
            format=container.format.long_name,
            frame_rate=float(rate) if rate else 0.0,
            frame_height=height,
            frame_width=width,
            color_range=color_range,
        )


def sample(path: Path, frames_per_second: float) -> Iterator[SampledFrame]:
    """The first frame at or after each instant 0, 1/fps, 2/fps, ... (each frame at most once)."""
    if not frames_per_second > 0 or math.isinf(frames_per_second):
        raise ValueError(f"frames_per_second must be a positive number, not {frames_per_second}")
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        rate = frame_rate_of(stream)
        constant_rate = stream.base_rate is not None and stream.base_rate == stream.average_rate
        time_base = stream.time_base
        # Timestamps count from the start of the file as a player shows it: the
        # earliest start of any stream (audio may start before the first picture).
        stream_start = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        start = container.start_time / av.time_base if container.start_time is not None else stream_start
        start = min(start, stream_start)
        declared_end = stream_start - start + float(stream.duration * time_base) if stream.duration else None
        next_instant = 0  # index k of the next instant k / fps
        frame_number = -1
        seconds = 0.0
        for frame in decoded_frames(container, stream):
            frame_number += 1
            if frame.pts is not None and time_base:
                seconds = float(frame.pts * time_base) - start
            elif rate:
                seconds = float(frame_number / rate)
            # A microsecond of slack: 1/3 s at 3 fps must not miss the frame at 0.333333 s.
            if seconds + 1e-6 < next_instant / frames_per_second:
                continue
            yield SampledFrame(
                timestamp_millis=max(0, round(seconds * 1000)),
                # At a constant rate the timestamp says which frame this is even where a
                # damaged spot was skipped; at a variable one, count.
                frame_number=max(0, round(seconds * rate)) if constant_rate and rate else frame_number,
                rgb=_upright_rgb(frame),
            )
            next_instant = math.floor((seconds + 1e-6) * frames_per_second) + 1
        if frame_number < 0:
            raise VideoUnreadable(TRUNCATED)
        # FFmpeg stops quietly at the end of a cut file whose index is at the front:
        # frames far short of the declared length mean the file was truncated.
        frame_seconds = float(1 / rate) if rate else 0.0
        if declared_end is not None and seconds + frame_seconds < declared_end - max(
            1.0, 0.05 * declared_end
        ):
            raise VideoUnreadable(TRUNCATED)
