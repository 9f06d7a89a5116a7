"""Clips with camera-like motion, cuts, dissolves, black frames and colour bars, for the
segment-detection tests and bench/shot_boundaries.py.

A shot is a virtual camera moving over a photo: a crop box that pans and zooms from
one place to another, scaled to the output size, so consecutive frames differ as in
real footage and a detector comparing still pictures is not trivially right.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

Box = tuple[float, float, float]  # centre x, centre y (ratios of the photo) and zoom (1 = widest)


def camera(
    photo: np.ndarray, frames: int, size: tuple[int, int], start: Box, end: Box
) -> Iterator[np.ndarray]:
    """`frames` frames of width x height `size`, the crop moving smoothly from `start` to `end`."""
    width, height = size
    photo_h, photo_w = photo.shape[:2]
    aspect = width / height
    widest_w = min(photo_w, photo_h * aspect)
    for i in range(frames):
        t = i / max(1, frames - 1)
        cx, cy, zoom = (a + (b - a) * t for a, b in zip(start, end, strict=True))
        crop_w = widest_w / zoom
        crop_h = crop_w / aspect
        x0 = min(max(0.0, cx * photo_w - crop_w / 2), photo_w - crop_w)
        y0 = min(max(0.0, cy * photo_h - crop_h / 2), photo_h - crop_h)
        # Sub-pixel crop and scale in one affine warp: motion stays smooth.
        scale = width / crop_w
        matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
        yield cv2.warpAffine(
            photo, matrix, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT
        )


def dissolve(outgoing: list[np.ndarray], incoming: list[np.ndarray]) -> Iterator[np.ndarray]:
    """A cross-fade: the two lists, of equal length, blended from all-outgoing to all-incoming."""
    count = len(outgoing)
    for i, (a, b) in enumerate(zip(outgoing, incoming, strict=True)):
        w = (i + 1) / (count + 1)
        yield (a.astype(np.float32) * (1 - w) + b.astype(np.float32) * w).round().astype(np.uint8)


def solid(colour: tuple[int, int, int], frames: int, size: tuple[int, int]) -> Iterator[np.ndarray]:
    width, height = size
    for _ in range(frames):
        yield np.full((height, width, 3), colour, dtype=np.uint8)


# SMPTE 75% bars (top two thirds), in RGB: white, yellow, cyan, green, magenta, red, blue.
_BARS_75 = [
    (191, 191, 191),
    (191, 191, 0),
    (0, 191, 191),
    (0, 191, 0),
    (191, 0, 191),
    (191, 0, 0),
    (0, 0, 191),
]


def smpte_bars(size: tuple[int, int]) -> np.ndarray:
    """SMPTE colour bars: seven 75% bars over the top two thirds, the reversed blue row,
    then the black / white / -I / +Q strip, simplified to flat patches."""
    width, height = size
    picture = np.zeros((height, width, 3), np.uint8)
    edges = np.linspace(0, width, 8).round().astype(int)
    top, middle = round(height * 2 / 3), round(height * 0.75)
    reversed_row = [
        (0, 0, 191),
        (19, 19, 19),
        (191, 0, 191),
        (19, 19, 19),
        (0, 191, 191),
        (19, 19, 19),
        (191, 191, 191),
    ]
    for i in range(7):
        picture[:top, edges[i] : edges[i + 1]] = _BARS_75[i]
        picture[top:middle, edges[i] : edges[i + 1]] = reversed_row[i]
    quarter = width // 4
    picture[middle:, :quarter] = (0, 33, 76)
    picture[middle:, quarter : 2 * quarter] = (255, 255, 255)
    picture[middle:, 2 * quarter : 3 * quarter] = (50, 0, 106)
    picture[middle:, 3 * quarter :] = (19, 19, 19)
    return picture


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int | Fraction = 25, crf: int = 23) -> int:
    """H.264 in MP4 (yuv420p, limited range as cameras write it); returns the frame count."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("h264", rate=Fraction(fps), options={"crf": str(crf)})
        stream.pix_fmt = "yuv420p"
        for picture in frames:
            if count == 0:
                stream.height, stream.width = picture.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count
