"""YuNet face detector (OpenCV Zoo, MIT) run through onnxruntime.

Images are scaled so the longer side is 640 px and padded to a multiple of 32
(the model file is prepared to accept any such size, see models/prepare.py). Its heads are anchor-free: every cell of the stride-8/16/32 grids
predicts a class score, an objectness score, a box offset and five points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.boxes import nms
from openrek.inference.session import Session

STRIDES = (8, 16, 32)
# The longer side of the photo is scaled to this many pixels (the size YuNet was
# trained and published at).
CANVAS = 640


@dataclass(frozen=True)
class FaceDetections:
    """Faces found in one image, in pixels of that image, sorted by score."""

    boxes: np.ndarray  # (n, 4) float32 x1, y1, x2, y2
    scores: np.ndarray  # (n,) float32 in [0, 1]
    points: np.ndarray  # (n, 5, 2): image-left eye, image-right eye, nose, left/right mouth

    def __post_init__(self) -> None:
        n = len(self.scores)
        if self.boxes.shape != (n, 4) or self.points.shape != (n, 5, 2):
            raise ValueError("boxes, scores and points disagree on the number of faces")

    def __len__(self) -> int:
        return len(self.scores)


class YuNetDetector:
    def __init__(
        self,
        session: Session,
        score_threshold: float = 0.6,
        iou_threshold: float = 0.3,
        canvas: int = CANVAS,
    ) -> None:
        self._session = session
        self._input = session.input_names[0]
        self.canvas = canvas
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold

    def at_canvas(self, canvas: int) -> YuNetDetector:
        """The same detector (one model session) run at another canvas size."""
        return YuNetDetector(self._session, self.score_threshold, self.iou_threshold, canvas)

    def detect(self, image_rgb: np.ndarray) -> FaceDetections:
        height, width = image_rgb.shape[:2]
        scale = self.canvas / max(height, width)
        resized = cv2.resize(
            image_rgb,
            (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        )
        # The network takes any size divisible by its largest stride: pad only to that,
        # not to a square, so a 3:2 photo costs two thirds of a square canvas.
        rows = -(-resized.shape[0] // STRIDES[-1]) * STRIDES[-1]
        cols = -(-resized.shape[1] // STRIDES[-1]) * STRIDES[-1]
        canvas = np.zeros((rows, cols, 3), np.float32)
        canvas[: resized.shape[0], : resized.shape[1]] = resized[:, :, ::-1]  # RGB -> BGR
        outputs = self._session.run({self._input: canvas.transpose(2, 0, 1)[None]})
        boxes, scores, points = self._decode(outputs, cols)
        keep = nms(boxes, scores, self.iou_threshold)
        boxes, scores, points = boxes[keep] / scale, scores[keep], points[keep] / scale
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        return FaceDetections(boxes.astype(np.float32), scores.astype(np.float32), points.astype(np.float32))

    def _decode(
        self, outputs: list[np.ndarray], canvas_width: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Output order: cls x3, obj x3, bbox x3, kps x3, each over strides 8, 16, 32.
        all_boxes, all_scores, all_points = [], [], []
        for level, stride in enumerate(STRIDES):
            cls, obj = outputs[level][0, :, 0], outputs[3 + level][0, :, 0]
            score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
            chosen = np.nonzero(score >= self.score_threshold)[0]
            if chosen.size == 0:
                continue
            cells = canvas_width // stride  # grid cells per row
            col = (chosen % cells).astype(np.float32)
            row = (chosen // cells).astype(np.float32)
            bbox = outputs[6 + level][0, chosen]
            cx, cy = (col + bbox[:, 0]) * stride, (row + bbox[:, 1]) * stride
            w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
            all_boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1))
            kps = outputs[9 + level][0, chosen].reshape(-1, 5, 2)
            all_points.append((kps + np.stack([col, row], 1)[:, None, :]) * stride)
            all_scores.append(score[chosen])
        if not all_scores:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_points)


# Half the side of the refinement window, in face sizes: the face fills a third of it,
# about 210 px of the detector's canvas. 1.0 and 2.0 were also measured: 1.5 gave the
# lowest 99.9th-percentile impostor cosine, and genuine pairs as high as 2.0 did.
REFINE_MARGIN = 1.5


def refine_points(
    detect: Callable[[np.ndarray], FaceDetections],
    image_rgb: np.ndarray,
    box: np.ndarray,
    points: np.ndarray,
) -> np.ndarray:
    """Five points of the face in `box`, re-detected at a finer scale (image pixels).

    `detect` is the face detector (`YuNetDetector.detect`); `box` and `points` are
    its first-pass result. Falls back to `points` where the window would not show
    the face any larger than the whole image did (a face a third of the photo or
    more) or where the face is not found again.
    """
    height, width = image_rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = max(x2 - x1, y2 - y1) * REFINE_MARGIN
    left, top = max(0, math.floor(cx - half)), max(0, math.floor(cy - half))
    right, bottom = min(width, math.ceil(cx + half)), min(height, math.ceil(cy + half))
    # The detector scales its input's longer side to its canvas: a window whose longer
    # side is the image's would show the face no larger, so the first pass stands.
    if max(right - left, bottom - top) >= max(width, height) or min(right - left, bottom - top) < 2:
        return np.asarray(points, dtype=np.float32)
    found = detect(np.ascontiguousarray(image_rgb[top:bottom, left:right]))
    if len(found) == 0:
        return np.asarray(points, dtype=np.float32)
    offset = np.array([left, top], dtype=np.float32)
    centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2 + offset
    nearest = int(np.argmin(((centres - [cx, cy]) ** 2).sum(axis=1)))
    # A different face nearer the centre than the face itself would be a wrong pick;
    # accept only a centre inside the first-pass box.
    if not (x1 <= centres[nearest, 0] <= x2 and y1 <= centres[nearest, 1] <= y2):
        return np.asarray(points, dtype=np.float32)
    refined: np.ndarray = (found.points[nearest] + offset).astype(np.float32)
    return refined
