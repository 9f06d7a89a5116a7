"""Quadrilaterals around text: ordering, growing, cropping and slicing along a line.

A quad is a (4, 2) float array in image pixels, in reading order: top-left,
top-right, bottom-right, bottom-left *of the text*, so for text turned 90 degrees
its "top-left" corner is not the image's top-left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

# A crop this much taller than wide is a column of text read top to bottom.
VERTICAL_ASPECT = 1.5

# OpenCV's rotated rectangle: (centre x, y), (width, height), angle in degrees.
RotatedRect = tuple[Sequence[float], Sequence[float], float]


def rect_quad(rect: RotatedRect) -> np.ndarray:
    """The corners of an OpenCV rotated rect, ordered top-left first, clockwise."""
    return order_corners(cv2.boxPoints(rect))


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four corners as top-left, top-right, bottom-right, bottom-left on the image."""
    points = np.asarray(points, dtype=np.float32).reshape(4, 2)
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def grow_rect(rect: RotatedRect, ratio: float) -> RotatedRect:
    """DB's "unclip": push every side out by area * ratio / perimeter.

    The detector's probability map covers a shrunk core of each text line; DB
    trains the shrink as that same distance, so this restores the full line. For a
    rectangle, offsetting the outline by d and taking the minimum-area rectangle of
    the result is the rectangle grown by d on each side, so no polygon clipper is
    needed.
    """
    (cx, cy), (w, h), angle = rect
    perimeter = 2.0 * (w + h)
    if perimeter <= 0:
        return rect
    distance = w * h * ratio / perimeter
    return (cx, cy), (w + 2 * distance, h + 2 * distance), angle


def is_column(quad: np.ndarray) -> bool:
    """Whether an image-ordered quad is much taller than wide."""
    width = float(np.linalg.norm(quad[1] - quad[0]))
    height = float(np.linalg.norm(quad[3] - quad[0]))
    return height >= VERTICAL_ASPECT * width


def reading_quad(quad: np.ndarray) -> np.ndarray:
    """Reorder an image-ordered quad so its top edge runs along the text.

    Boxes much taller than wide hold text written top to bottom (turned 90 degrees
    clockwise): their right edge becomes the reading "top".
    """
    return np.roll(quad, -1, axis=0) if is_column(quad) else quad


def turn_around(quad: np.ndarray) -> np.ndarray:
    """The same quad read upside down (text rotated 180 degrees)."""
    return np.roll(quad, 2, axis=0)


def quad_size(quad: np.ndarray) -> tuple[int, int]:
    """(length along the text, height across it) in whole pixels, at least 1."""
    length = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))
    height = max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]))
    return max(1, round(length)), max(1, round(height))


def crop_quad(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quad's pixels warped to an upright rectangle, its top edge on top."""
    width, height = quad_size(quad)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    transform = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(
        image, transform, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


def slice_quad(quad: np.ndarray, start: float, end: float) -> np.ndarray:
    """The part of a line's quad between two fractions of its length (0 = start)."""
    start, end = max(0.0, start), min(1.0, end)
    top = quad[0] + (quad[1] - quad[0]) * np.array([[start], [end]], dtype=np.float32)
    bottom = quad[3] + (quad[2] - quad[3]) * np.array([[start], [end]], dtype=np.float32)
    return np.array([top[0], top[1], bottom[1], bottom[0]], dtype=np.float32)


def fraction_inside(quad: np.ndarray, region: np.ndarray) -> float:
    """How much of a quad's area lies inside a polygon (any shape), both in pixels.

    Both are rasterised over the quad's bounding box at a resolution of at least
    64 samples across its smaller side, so tiny words are measured as finely as
    large ones.
    """
    left, top = np.floor(quad.min(axis=0))
    right, bottom = np.ceil(quad.max(axis=0))
    span = max(1.0, min(right - left, bottom - top))
    scale = max(1.0, 64.0 / span)
    width = math.ceil((right - left) * scale) + 1
    height = math.ceil((bottom - top) * scale) + 1
    origin = np.array([left, top], dtype=np.float64)

    def mask(points: np.ndarray) -> np.ndarray:
        canvas = np.zeros((height, width), dtype=np.uint8)
        shifted = np.round((points.astype(np.float64) - origin) * scale * 16).astype(np.int32)
        cv2.fillPoly(canvas, [shifted], 1, lineType=cv2.LINE_8, shift=4)
        return canvas

    word = mask(quad)
    area = int(word.sum())
    if area == 0:
        return 0.0
    return float(np.logical_and(word, mask(region)).sum()) / area
