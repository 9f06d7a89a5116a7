"""Shots from TransNetV2's per-frame transition probabilities.

TransNetV2 reads windows of 100 frames at 48x27 and scores the middle 50; windows
advance by 50, and the video's first and last frames are repeated to fill the first
and last windows, as its authors' inference does. Frames are fed one at a time, so
at most 100 small frames are held, whatever the video's length.

A run of frames scored above 0.5 is a transition. A hard cut is scored on the last
frame of the outgoing shot (checked on the model's own test clip: the largest
picture change always follows the scored frame), so a shot ends on the run's first
frame and the next starts after its last one; the frames of a gradual transition
(a dissolve) between them belong to neither shot, as on AWS.

A shot's confidence is 100 times the least of: the probability at the cut that opens
it, the probability at the cut that closes it (the start and end of the video count
as certain) and one minus the highest probability inside it (no missed cut). Each
is above 0.5 by construction, so confidences lie in 50..100, AWS's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openrek.inference.session import Session

WINDOW, STEP, LEAD = 100, 50, 25  # a window scores its frames LEAD .. LEAD + STEP
FRAME_WIDTH, FRAME_HEIGHT = 48, 27
THRESHOLD = 0.5

UInt8Array = np.ndarray[Any, np.dtype[np.uint8]]
FloatArray = np.ndarray[Any, np.dtype[np.float32]]


class TransitionScorer:
    """Per-frame transition probabilities of a stream of 48x27 RGB frames."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._window: list[UInt8Array] = []
        self._scores: list[FloatArray] = []
        self._count = 0

    def add(self, frame: UInt8Array) -> None:
        if frame.shape != (FRAME_HEIGHT, FRAME_WIDTH, 3):
            raise ValueError(f"TransNetV2 reads {FRAME_WIDTH}x{FRAME_HEIGHT} RGB frames, not {frame.shape}")
        if not self._window and self._count == 0:
            self._window = [frame] * LEAD  # the first frame, repeated before the video
        self._window.append(frame)
        self._count += 1
        if len(self._window) == WINDOW:
            self._score_window()

    def _score_window(self) -> None:
        batch = np.stack(self._window)[None]
        (scores,) = self._session.run({"frames": batch})
        self._scores.append(np.asarray(scores[0, LEAD : LEAD + STEP], dtype=np.float32))
        self._window = self._window[STEP:]

    def finish(self) -> FloatArray:
        """The probability for every frame added, in order."""
        if self._count == 0:
            return np.zeros(0, np.float32)
        last = self._window[-1]
        while STEP * len(self._scores) < self._count:
            self._window.append(last)  # the last frame, repeated after the video
            if len(self._window) == WINDOW:
                self._score_window()
        return np.concatenate(self._scores)[: self._count]


@dataclass(frozen=True)
class Shot:
    first: int  # index of its first frame in the stream
    last: int  # index of its last frame
    confidence: float  # 50..100, see the module's docstring


def transitions(probabilities: FloatArray, threshold: float = THRESHOLD) -> list[tuple[int, int]]:
    """Maximal runs [first, last] of frames scored above `threshold`."""
    above = np.concatenate([[False], probabilities > threshold, [False]])
    edges = np.flatnonzero(above[1:] != above[:-1])
    return [(int(start), int(end) - 1) for start, end in zip(edges[::2], edges[1::2], strict=True)]


def shots(probabilities: FloatArray, threshold: float = THRESHOLD) -> list[Shot]:
    count = len(probabilities)
    if count == 0:
        return []
    found: list[Shot] = []
    start, opening = 0, 1.0
    for first, last in transitions(probabilities, threshold):
        peak = float(probabilities[first : last + 1].max())
        if first == 0:  # the video opens with a transition: the first shot follows it
            start, opening = last + 1, peak
            continue
        found.append(_shot(probabilities, start, first, opening, peak))
        start, opening = last + 1, peak
    if start < count:
        found.append(_shot(probabilities, start, count - 1, opening, 1.0, closed_by_cut=False))
    return found


def _shot(
    probabilities: FloatArray,
    first: int,
    last: int,
    opening: float,
    closing: float,
    closed_by_cut: bool = True,
) -> Shot:
    # The closing cut is scored on the shot's own last frame: it is not "inside".
    inside = probabilities[first : last if closed_by_cut else last + 1]
    no_missed_cut = 1.0 - float(inside.max()) if inside.size else 1.0
    confidence = 100.0 * min(opening, closing, no_missed_cut)
    return Shot(first, last, float(min(100.0, max(50.0, confidence))))
