"""Technical cues measured on each frame: black frames and colour bars.

Black frames follow AWS's definition (BlackFrame filter): a pixel is black when its
luma is at most min + MaxPixelThreshold * (max - min) of the video's range (0-255 for
full range, 16-235 for limited), that is when its normalised luma (see
`frame_stream.Frame.luma`) is at most MaxPixelThreshold; a frame is black when at
least MinCoveragePercentage of its pixels are. Its confidence says how clearly:
with L the luma below which MinCoveragePercentage of the pixels lie,
confidence = 50 + 50 * (1 - L / MaxPixelThreshold): 100 when that share of the frame
is at true black (or darker), 50 when it only just passes.

Colour bars: SMPTE (seven 75% bars over the top two thirds) and EBU (eight bars,
white to black, full height) share the top band's order white, yellow, cyan, green,
magenta, red, blue. The band from 10% to 55% of the height is compared with an ideal
pattern of 7 (or 8, with black) equal vertical bars whose high and low levels are
fitted to the frame; the residual is the RMS difference of the band's pixels (bar
edges left out) from that pattern, in units of the bar amplitude (high - low).
confidence = 100 * (1 - 2 * residual): a frame is bars when it is at least 50
(residual at most a quarter of the amplitude) and the amplitude is at least a third
of full scale, so a flat grey or a dark frame never matches.

A cue segment is a run of consecutive frames with the cue; its confidence is the
mean of its frames'.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

BLACK_FRAMES, COLOR_BARS = "BlackFrames", "ColorBars"
DEFAULT_MAX_PIXEL_THRESHOLD = 0.2
DEFAULT_MIN_COVERAGE_PERCENTAGE = 99.0

BARS_WIDTH, BARS_HEIGHT = 112, 63  # the small RGB copy the bar test reads
_BAND_ROWS = (0.10, 0.55)
_EDGE_SHARE = 0.2  # of each bar's width, left out on each side (edges blur when scaled)
_MIN_AMPLITUDE = 255 / 3
# Which of R, G, B is on in each bar, left to right.
_BAR_CHANNELS = np.array(
    [[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32
)

FloatArray = np.ndarray[Any, np.dtype[np.float32]]
UInt8Array = np.ndarray[Any, np.dtype[np.uint8]]


@dataclass(frozen=True)
class BlackFrameRule:
    max_pixel_threshold: float = DEFAULT_MAX_PIXEL_THRESHOLD
    min_coverage_percentage: float = DEFAULT_MIN_COVERAGE_PERCENTAGE

    def confidence(self, luma: FloatArray) -> float | None:
        """The frame's black-frame confidence, or None when it is not black."""
        values = luma.ravel()
        needed = math.ceil(self.min_coverage_percentage / 100.0 * values.size)
        if needed <= 0:
            return 100.0  # no pixel needs to be black: every frame qualifies
        level = float(np.partition(values, needed - 1)[needed - 1])
        if level > self.max_pixel_threshold:
            return None
        if self.max_pixel_threshold <= 0:
            return 100.0
        return 50.0 + 50.0 * min(1.0, 1.0 - level / self.max_pixel_threshold)


def color_bars_confidence(rgb: UInt8Array) -> float | None:
    """The frame's colour-bar confidence (rgb BARS_WIDTH x BARS_HEIGHT), or None."""
    height, width = rgb.shape[:2]
    top, bottom = (round(share * height) for share in _BAND_ROWS)
    band = rgb[top:bottom].astype(np.float32)
    best: float | None = None
    for bars in (7, 8):
        edges = np.linspace(0, width, bars + 1)
        cores = []
        for left, right in itertools.pairwise(edges):
            margin = (right - left) * _EDGE_SHARE
            cores.append(band[:, math.ceil(left + margin) : math.floor(right - margin)].reshape(-1, 3))
        on = _BAR_CHANNELS[:bars]
        means = np.stack([core.mean(axis=0) for core in cores])
        high = float(means[on == 1].mean())
        low = float(means[on == 0].mean())
        amplitude = high - low
        if amplitude < _MIN_AMPLITUDE:
            continue
        squared = sum(
            float(((core - (low + on[i] * amplitude)) ** 2).mean()) * core.shape[0]
            for i, core in enumerate(cores)
        )
        residual = math.sqrt(squared / sum(core.shape[0] for core in cores)) / amplitude
        confidence = 100.0 * (1.0 - 2.0 * residual)
        if confidence >= 50.0 and (best is None or confidence > best):
            best = confidence
    return best


@dataclass(frozen=True)
class CueRun:
    cue: str
    first: int  # index of its first frame in the stream
    last: int
    confidence: float


class CueTracker:
    """Turns per-frame confidences of one cue into runs of consecutive frames."""

    def __init__(self, cue: str) -> None:
        self.cue = cue
        self.runs: list[CueRun] = []
        self._first: int | None = None
        self._total = 0.0
        self._last = -1

    def add(self, index: int, confidence: float | None) -> None:
        if confidence is None:
            self._close()
            return
        if self._first is None:
            self._first, self._total = index, 0.0
        self._total += confidence
        self._last = index

    def _close(self) -> None:
        if self._first is not None:
            frames = self._last - self._first + 1
            self.runs.append(CueRun(self.cue, self._first, self._last, self._total / frames))
            self._first = None

    def finish(self) -> list[CueRun]:
        self._close()
        return self.runs
