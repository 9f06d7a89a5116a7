"""Which face in this sampled frame is which face of the frames before.

Rekognition Video gives each person an Index that stays the same while the person
is visible. Between frames a fifth of a second apart a face moves little, so a box
is given to the live track whose last box overlaps it most (intersection over
union, greedily, best pairs first); a box that overlaps none starts a new track, and
a track not seen for `patience_millis` ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_OVERLAP = 0.3


def overlap(first: np.ndarray, second: np.ndarray) -> float:
    """Intersection over union of two [x1, y1, x2, y2] boxes."""
    width = min(first[2], second[2]) - max(first[0], second[0])
    height = min(first[3], second[3]) - max(first[1], second[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = float(width * height)
    union = float(
        (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1])
    )
    return inter / (union - inter) if union > inter else 0.0


@dataclass
class _Track:
    index: int
    box: np.ndarray
    seen_millis: int


class FaceTracks:
    def __init__(self, patience_millis: int = 1000) -> None:
        self._patience = patience_millis
        self._live: list[_Track] = []
        self._next_index = 0

    def assign(self, boxes: list[np.ndarray], timestamp_millis: int) -> list[int]:
        """The track Index of each box of one frame, in the order given."""
        self._live = [t for t in self._live if timestamp_millis - t.seen_millis <= self._patience]
        pairs = sorted(
            (
                (overlap(track.box, box), t, b)
                for t, track in enumerate(self._live)
                for b, box in enumerate(boxes)
            ),
            reverse=True,
        )
        indices: list[int | None] = [None] * len(boxes)
        taken: set[int] = set()
        for score, t, b in pairs:
            if score < MIN_OVERLAP:
                break
            if t in taken or indices[b] is not None:
                continue
            taken.add(t)
            indices[b] = self._live[t].index
            self._live[t].box, self._live[t].seen_millis = boxes[b], timestamp_millis
        for b, index in enumerate(indices):
            if index is None:
                indices[b] = self._next_index
                self._live.append(_Track(self._next_index, boxes[b], timestamp_millis))
                self._next_index += 1
        return [int(index) for index in indices if index is not None]
