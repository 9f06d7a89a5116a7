"""Real clips made with PyAV for the video tests."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT, FPS = 320, 240, 25
RED = (200, 40, 40)
BLACK = (0, 0, 0)


def plain(colour: tuple[int, int, int], width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    return np.full((height, width, 3), colour, dtype=np.uint8)


def pattern(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A picture with structure: a left-to-right ramp in red, top-to-bottom in green, a blue block top-left."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[..., 0] = np.broadcast_to(x, (height, width)).astype(np.uint8)
    rgb[..., 1] = np.broadcast_to(y, (height, width)).astype(np.uint8)
    rgb[: height // 4, : width // 4, 2] = 255
    return rgb


def make_clip(
    path: Path,
    segments: Sequence[tuple[np.ndarray, int]],
    *,
    fps: int = FPS,
    codec: str = "h264",
    container_format: str | None = None,
    faststart: bool = False,
    rotation: int = 0,
    with_audio: bool = False,
) -> Path:
    """Writes `segments` (picture, number of frames) one after another as a video."""
    options = {"movflags": "faststart"} if faststart else {}
    height, width = segments[0][0].shape[:2]
    with av.open(str(path), mode="w", format=container_format, options=options) as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        assert isinstance(stream, av.VideoStream)  # codec names a video codec
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        # Every stream is added before the first packet is written.
        audio = container.add_stream("aac", rate=44100) if with_audio else None
        for picture, count in segments:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            for _ in range(count):
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio is not None:
            _write_tone(container, audio, sum(count for _, count in segments) / fps)
    return path


def _write_tone(container: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    samples = int(44100 * seconds)
    tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 44100)).astype(np.float32)
    for start in range(0, samples, 1024):
        chunk = tone[None, start : start + 1024]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="mono")
        frame.sample_rate = 44100
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def make_audio_only(path: Path, seconds: float = 1.0) -> Path:
    with av.open(str(path), mode="w") as container:
        _write_tone(container, container.add_stream("aac", rate=44100), seconds)
    return path
