"""PP-OCRv6 text detector: Differentiable Binarization (DB) run through onnxruntime.

The network maps a BGR image to a per-pixel probability of "inside a text line's
core". Lines are the connected blobs of that map above a threshold: each blob's
minimum-area rectangle, scored by the mean probability inside it, grown back to the
full line (DB's unclip) and scaled to the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.session import Session
from openrek.inference.text.geometry import grow_rect, rect_quad

# The network downsamples by 32: its input sides must be multiples of it.
STRIDE = 32
# PaddleOCR's detection resize: the shorter side is brought up to 736 px (small text
# in small photos becomes legible to the network) and the longer side kept within
# 2000 px (memory and time on large photos).
MIN_SHORT_SIDE = 736
MAX_LONG_SIDE = 2000
# ...but never enlarged more than this: a photo of a single word blown up 8x to reach
# 736 px is one huge blob to the network, and nothing is found (measured on the
# 74 px high scenetext_word03.jpg: nothing at 8x, the word at 2x).
MAX_UPSCALE = 2.0
# A photo far wider than tall (a single line) is padded to this aspect first: the
# detector was trained on scenes, and a strip squeezed to 32 px rows loses the line.
MAX_ASPECT = 8.0
MIN_PADDED_HEIGHT = 30

PIXEL_THRESHOLD = 0.3  # probability above which a pixel belongs to a text core
# Mean probability a blob needs to be kept as a line. PaddleOCR keeps 0.5; on the
# eval photos every real line scored 0.65 or more, while the blobs read as stray
# letters in photos without text (a cup, a motion-blurred plate) scored 0.50-0.55.
BOX_THRESHOLD = 0.6
UNCLIP_RATIO = 1.6  # how far a core is grown back to the line (see grow_rect)
MAX_CANDIDATES = 1000
MIN_CORE_SIDE = 3  # blobs thinner than this (in map pixels) are noise
MIN_LINE_SIDE = 4  # lines thinner than this (in photo pixels) cannot be read


@dataclass(frozen=True)
class DetectedLine:
    quad: np.ndarray  # (4, 2) float32 photo pixels: top-left, top-right, bottom-right, bottom-left
    score: float  # mean text probability inside the line's core, 0-1


def _input_size(height: int, width: int) -> tuple[int, int, float]:
    """The network's input size for a photo: (height, width, scale of the photo)."""
    scale = 1.0
    if max(height, width) > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / max(height, width)
    elif min(height, width) < MIN_SHORT_SIDE:
        scale = min(MIN_SHORT_SIDE / min(height, width), MAX_LONG_SIDE / max(height, width), MAX_UPSCALE)
    net_height = max(STRIDE, round(height * scale / STRIDE) * STRIDE)
    net_width = max(STRIDE, round(width * scale / STRIDE) * STRIDE)
    return net_height, net_width, scale


class TextDetector:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._input = session.input_names[0]

    def detect(self, image_bgr: np.ndarray) -> list[DetectedLine]:
        height, width = image_bgr.shape[:2]
        padded, pad_top = _pad_to_aspect(image_bgr)
        probability = self._probability(padded)
        scale_x = width / probability.shape[1]
        scale_y = padded.shape[0] / probability.shape[0]
        lines = []
        for quad, score in _lines_in_map(probability):
            quad[:, 0] = np.clip(quad[:, 0] * scale_x, 0, width)
            quad[:, 1] = np.clip(quad[:, 1] * scale_y - pad_top, 0, height)
            sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
            if sides.min() < MIN_LINE_SIDE:
                continue
            lines.append(DetectedLine(quad, score))
        return lines

    def _probability(self, image_bgr: np.ndarray) -> np.ndarray:
        net_height, net_width, _ = _input_size(*image_bgr.shape[:2])
        resized = cv2.resize(image_bgr, (net_width, net_height), interpolation=cv2.INTER_LINEAR)
        # PaddleOCR's normalisation: pixels to [-1, 1], channels first.
        batch = (resized.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        (output,) = self._session.run({self._input: np.ascontiguousarray(batch)})
        return np.asarray(output[0, 0], dtype=np.float32)


def _pad_to_aspect(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Pad a strip-shaped photo with black above and below; returns the top padding."""
    height, width = image.shape[:2]
    target = max(int(width / MAX_ASPECT), MIN_PADDED_HEIGHT)
    if height >= target and width / height <= MAX_ASPECT:
        return image, 0
    pad = max(0, (target * 2 - height) // 2)
    padded = cv2.copyMakeBorder(image, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return padded, pad


def _lines_in_map(probability: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """(quad in map pixels, score) for each text core in the probability map."""
    # A 2x2 dilation joins cores split by a one-pixel gap (thin strokes, blur).
    core = cv2.dilate((probability > PIXEL_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(core, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours[:MAX_CANDIDATES]:
        rect = cv2.minAreaRect(contour)
        if min(rect[1]) < MIN_CORE_SIDE:
            continue
        core_quad = rect_quad(rect)
        score = _mean_inside(probability, core_quad)
        if score < BOX_THRESHOLD:
            continue
        grown = grow_rect(rect, UNCLIP_RATIO)
        if min(grown[1]) < MIN_CORE_SIDE + 2:
            continue
        found.append((rect_quad(grown), score))
    return found


def _mean_inside(probability: np.ndarray, quad: np.ndarray) -> float:
    height, width = probability.shape
    left = int(np.clip(np.floor(quad[:, 0].min()), 0, width - 1))
    right = int(np.clip(np.ceil(quad[:, 0].max()), 0, width - 1))
    top = int(np.clip(np.floor(quad[:, 1].min()), 0, height - 1))
    bottom = int(np.clip(np.ceil(quad[:, 1].max()), 0, height - 1))
    mask = np.zeros((bottom - top + 1, right - left + 1), dtype=np.uint8)
    shifted = (quad - np.array([left, top], dtype=np.float32)).round().astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(probability[top : bottom + 1, left : right + 1], mask)[0])
