"""People in a picture, as boxes: the COCO detector's (NanoDet-m) "person" class.

Chosen for video person tracking by measurement on the pedestrians clip
(bench/person_tracking.py): MoveNet MultiPose returns at most 6 people and, at its
published 256-pixel input, found 1 of the 5 to 8 walkers of most frames; NanoDet
on the whole frame found most of them in 30-40 ms on 2 cores, and running it on two
overlapping tiles found no more. Low scores are kept on purpose: the tracker uses
them only to continue a track it already has (ByteTrack's second association), so
a walker half hidden behind a post keeps its Index while a traffic cone scoring
0.3 never starts one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openrek.inference.labels.objects import ObjectDetector

PERSON = "person"
# Below this a NanoDet "person" is mostly noise even for continuing a track.
MIN_SCORE = 0.2


@dataclass(frozen=True)
class PeopleFound:
    boxes: np.ndarray  # (n, 4) float32 x1, y1, x2, y2 in pixels of the frame
    scores: np.ndarray  # (n,) float32 0..1


class PersonDetector:
    """Thread-safe: the object detector's session is shared, everything else is per call."""

    def __init__(self, objects: ObjectDetector, min_score: float = MIN_SCORE) -> None:
        self._objects = objects
        self._min_score = min_score

    def detect(self, rgb: np.ndarray) -> PeopleFound:
        people = [found for found in self._objects.detect(rgb, self._min_score) if found.name == PERSON]
        if not people:
            return PeopleFound(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
        return PeopleFound(
            np.stack([found.box for found in people]).astype(np.float32),
            np.array([found.score for found in people], np.float32),
        )
