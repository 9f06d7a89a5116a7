"""What the PPE inspector finds: persons, their body parts, equipment on them.

Boxes are (x1, y1, x2, y2) in image pixels. A confidence is a certainty in [0, 1]
(see `certainty`): 0 for a detection at the working threshold of the model that
made it, 1 for one the model is sure of.
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

BODY_PARTS = (FACE, HEAD, LEFT_HAND, RIGHT_HAND)


def certainty(score: float, floor: float) -> float:
    """A model score relative to the `floor` the model is used at: 0 at the floor,
    1 at a score of 1, linear in between (and clipped to that range).

    The detectors are used from their own working thresholds (MoveNet keypoints
    from 0.3, YuNet faces from 0.6, classifiers from 0.5); this puts them on one
    scale that keeps their order and their top. It is not a calibrated probability.
    """
    fraction = (score - floor) / (1.0 - floor)
    return float(min(1.0, max(0.0, fraction)))


def _check(box: np.ndarray, confidence: float, what: str) -> None:
    if box.shape != (4,) or not np.isfinite(box).all() or box[2] < box[0] or box[3] < box[1]:
        raise ValueError(f"the box of {what} is not x1, y1, x2, y2 with x1 <= x2 and y1 <= y2: {box}")
    if not 0.0 <= confidence <= 1.0:  # also refuses NaN
        raise ValueError(f"the confidence of {what} is {confidence}, not in [0, 1]")


@dataclass(frozen=True)
class Equipment:
    kind: str  # FACE_COVER, HAND_COVER or HEAD_COVER
    box: np.ndarray
    confidence: float  # certainty, 0-1
    covers: bool
    covers_confidence: float  # certainty, 0-1

    def __post_init__(self) -> None:
        if self.kind not in COVERED_PARTS:
            raise ValueError(f"{self.kind!r} is not an equipment type")
        _check(self.box, self.confidence, self.kind)
        if not 0.0 <= self.covers_confidence <= 1.0:
            raise ValueError(f"the coverage confidence of {self.kind} is {self.covers_confidence}")


@dataclass(frozen=True)
class BodyPart:
    name: str  # FACE, HEAD, LEFT_HAND or RIGHT_HAND
    box: np.ndarray  # the region examined for equipment (not part of the response)
    confidence: float  # certainty, 0-1
    equipment: tuple[Equipment, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in BODY_PARTS:
            raise ValueError(f"{self.name!r} is not a body part")
        _check(self.box, self.confidence, self.name)
        for item in self.equipment:
            if self.name not in COVERED_PARTS[item.kind]:
                raise ValueError(f"{item.kind} is not worn on the {self.name}")


@dataclass(frozen=True)
class Person:
    box: np.ndarray
    confidence: float  # certainty, 0-1
    body_parts: tuple[BodyPart, ...]

    def __post_init__(self) -> None:
        _check(self.box, self.confidence, "a person")
        names = [part.name for part in self.body_parts]
        if len(set(names)) != len(names):
            raise ValueError(f"a person has each body part once, not {names}")

    def part(self, name: str) -> BodyPart | None:
        return next((p for p in self.body_parts if p.name == name), None)
