"""Real clips in formats Rekognition refuses (the pedestrians clip is MS-MPEG4 in AVI),
re-encoded with PyAV into the H.264 MP4 a client would upload."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av


def h264_excerpt(
    source: Path,
    out: Path,
    *,
    seconds: float | None = None,
    size: tuple[int, int] | None = None,
) -> Path:
    """The first `seconds` of `source` (all of it when None) as H.264 in MP4, at the
    source's frame rate, resized to `size` (width, height) when given."""
    with av.open(str(source)) as reader, av.open(str(out), "w") as writer:
        stream_in = reader.streams.video[0]
        rate = Fraction(stream_in.average_rate or 25)
        stream = writer.add_stream("libx264", rate=rate)
        width, height = size or (stream_in.codec_context.width, stream_in.codec_context.height)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        limit = None if seconds is None else round(seconds * rate)
        for number, frame in enumerate(reader.decode(stream_in)):
            if limit is not None and number >= limit:
                break
            pixels = frame.to_ndarray(format="rgb24", width=width, height=height)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                writer.mux(packet)
        for packet in stream.encode():
            writer.mux(packet)
    return out
