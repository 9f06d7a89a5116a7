"""What the PPE inspector finds: persons, their body parts, equipment on them.

Boxes are (x1, y1, x2, y2) in image pixels; confidences are percentages in
Rekognition's reporting band, 50 to 100 (nothing less confident is reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FACE, HEAD, LEFT_HAND, RIGHT_HAND = "FACE", "HEAD", "LEFT_HAND", "RIGHT_HAND"
FACE_COVER, HAND_COVER, HEAD_COVER = "FACE_COVER", "HAND_COVER", "HEAD_COVER"

# The body parts each equipment type is worn on: a person wears HAND_COVER only
# with both hands covered.
COVERED_PARTS: dict[str, tuple[str, ...]] = {
    FACE_COVER: (FACE,),
    HEAD_COVER: (HEAD,),
    HAND_COVER: (LEFT_HAND, RIGHT_HAND),
}

# Rekognition reports only predictions it is at least 50% sure of.
REPORTED_MINIMUM = 50.0


def reporting_confidence(score: float, floor: float) -> float:
    """A model score at or above the score `floor` the model is used at, mapped
    linearly onto Rekognition's 50-100 reporting band (floor -> 50, 1 -> 100).

    Rekognition reports detections only from 50%; our detectors are used from their
    own working thresholds (MoveNet keypoints from 0.3, YuNet faces from 0.6). The
    map keeps their order and their top; it is not a calibrated probability.
    """
    fraction = (score - floor) / (1.0 - floor)
    return float(min(100.0, max(REPORTED_MINIMUM, 50.0 + 50.0 * fraction)))


@dataclass(frozen=True)
class Equipment:
    kind: str  # FACE_COVER, HAND_COVER or HEAD_COVER
    box: np.ndarray
    confidence: float
    covers: bool
    covers_confidence: float


@dataclass(frozen=True)
class BodyPart:
    name: str  # FACE, HEAD, LEFT_HAND or RIGHT_HAND
    box: np.ndarray  # the region examined for equipment (not part of the response)
    confidence: float
    equipment: tuple[Equipment, ...] = ()


@dataclass(frozen=True)
class Person:
    box: np.ndarray
    confidence: float
    body_parts: tuple[BodyPart, ...]

    def part(self, name: str) -> BodyPart | None:
        return next((p for p in self.body_parts if p.name == name), None)
