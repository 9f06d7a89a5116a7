"""Multi-person body pose: MoveNet MultiPose Lightning (Google, Apache-2.0) via onnxruntime.

The model takes RGB as int32 at any size whose sides are multiples of 32 and
returns up to 6 people: 17 keypoints (y, x, score) then a box (ymin, xmin, ymax,
xmax) and the person's score, all in 0..1 of the input. We scale the photo so its
longer side is 256 pixels (the size the model is published for), pad the rest to
a multiple of 32 with black, and map the results back to the photo's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.session import RuntimeSettings, Session, open_session
from openrek.models.store import ModelStore

# COCO keypoint order, as MoveNet returns them (left/right are the person's own).
KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
LONGER_SIDE = 256
MULTIPLE = 32


@dataclass(frozen=True)
class PersonPose:
    box: np.ndarray  # float32 x1, y1, x2, y2 in pixels of the input image
    score: float  # 0..1
    keypoints: np.ndarray  # (17, 2) float32 x, y pixels, KEYPOINTS order
    keypoint_scores: np.ndarray  # (17,) float32 0..1


class PoseEstimator:
    """Thread-safe: the onnxruntime session is shared, everything else is per call."""

    def __init__(self, session: Session, longer_side: int = LONGER_SIDE) -> None:
        self._session = session
        self._input = session.input_names[0]
        self._longer_side = longer_side

    def _canvas(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's input (1, H, W, 3) int32 and the photo-to-input scale."""
        height, width = rgb.shape[:2]
        scale = self._longer_side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        padded_h = -(-size[1] // MULTIPLE) * MULTIPLE
        padded_w = -(-size[0] // MULTIPLE) * MULTIPLE
        canvas = np.zeros((padded_h, padded_w, 3), np.int32)
        canvas[: size[1], : size[0]] = resized
        return canvas[None], scale

    def estimate(self, rgb: np.ndarray, min_score: float = 0.2) -> list[PersonPose]:
        canvas, scale = self._canvas(rgb)
        (people,) = self._session.run({self._input: canvas})
        _, canvas_h, canvas_w, _ = canvas.shape
        height, width = rgb.shape[:2]
        # normalised (y, x) of the padded input -> photo pixels
        to_pixels = np.array([canvas_h, canvas_w], np.float32) / scale
        limit = np.array([width, height], np.float32)
        found = []
        for person in people[0]:
            score = float(person[55])
            if score < min_score:
                continue
            points = person[:51].reshape(17, 3)
            keypoints = np.clip((points[:, :2] * to_pixels)[:, ::-1], 0, limit)
            corners = person[51:55].reshape(2, 2) * to_pixels  # (ymin, xmin), (ymax, xmax)
            box = np.clip(corners[:, ::-1], 0, limit).reshape(4)
            found.append(
                PersonPose(
                    box.astype(np.float32),
                    score,
                    keypoints.astype(np.float32),
                    points[:, 2].astype(np.float32).copy(),
                )
            )
        return sorted(found, key=lambda p: -p.score)


def build_pose_estimator(store: ModelStore, runtime: RuntimeSettings) -> PoseEstimator:
    return PoseEstimator(open_session(store.path("body-pose"), runtime))
