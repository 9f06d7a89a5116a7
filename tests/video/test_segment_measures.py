"""Offline checks of what segment detection measures: timecodes, black frames, colour
bars and how transition probabilities become shots."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from openrek.video.shots import shots, transitions
from openrek.video.technical_cues import (
    BARS_HEIGHT,
    BARS_WIDTH,
    BlackFrameRule,
    CueTracker,
    color_bars_confidence,
)
from openrek.video.timecode import frame_millis, is_drop_frame, smpte
from tests.video.clips import pattern
from tests.video.motion import smpte_bars

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(
    "frame,rate,expected",
    [
        (0, Fraction(25), "00:00:00:00"),
        (697, Fraction(24), "00:00:29:01"),  # AWS's published example
        (5401, Fraction(24), "00:03:45:01"),
        (90_000, Fraction(25), "01:00:00:00"),
        (1799, NTSC, "00:00:59;29"),
        (1800, NTSC, "00:01:00;02"),  # labels ;00 and ;01 are skipped at each minute...
        (17982, NTSC, "00:10:00;00"),  # ...except every tenth
        (107892, NTSC, "01:00:00;00"),  # drop-frame keeps to the wall clock
        (3600, Fraction(60000, 1001), "00:01:00;04"),
        (24, Fraction(24000, 1001), "00:00:01:00"),  # 23.976 counts 24 a second, no drop
    ],
)
def test_smpte_timecodes(frame: int, rate: Fraction, expected: str) -> None:
    assert smpte(frame, rate) == expected


def test_drop_frame_only_at_ntsc_rates_and_millis_round_down() -> None:
    assert is_drop_frame(NTSC) and is_drop_frame(Fraction(60000, 1001))
    assert not is_drop_frame(Fraction(30)) and not is_drop_frame(Fraction(24000, 1001))
    assert frame_millis(697, Fraction(24)) == 29041  # 29041.67 rounded down
    assert frame_millis(2920, Fraction(24)) == 121666
    assert frame_millis(1, NTSC) == 33  # 33.37


def test_black_frame_rule_follows_threshold_and_coverage() -> None:
    black = np.zeros((90, 160), np.float32)
    assert BlackFrameRule().confidence(black) == 100
    grey = np.full((90, 160), 0.15, np.float32)
    assert BlackFrameRule().confidence(grey) == pytest.approx(50 + 50 * (1 - 0.15 / 0.2))
    assert BlackFrameRule(max_pixel_threshold=0.1).confidence(grey) is None
    speckled = black.copy()
    speckled.ravel()[: int(speckled.size * 0.02)] = 1.0  # 2% white
    assert BlackFrameRule().confidence(speckled) is None  # 99% needed, 98% black
    assert BlackFrameRule(min_coverage_percentage=95).confidence(speckled) == 100
    # Below-black values of a limited-range file (luma under 16) are black too.
    assert BlackFrameRule(max_pixel_threshold=0.0).confidence(np.full((4, 4), -0.05, np.float32)) == 100


def _small(picture: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(picture, (BARS_WIDTH, BARS_HEIGHT), interpolation=cv2.INTER_AREA)


def test_colour_bars_are_told_from_pictures(photos: Path) -> None:
    from PIL import Image

    smpte = color_bars_confidence(_small(smpte_bars((320, 180))))
    assert smpte is not None and smpte > 90
    # EBU 100% bars: eight, full height, ending in black.
    ebu = np.zeros((180, 320, 3), np.uint8)
    colours = [
        (255, 255, 255),
        (255, 255, 0),
        (0, 255, 255),
        (0, 255, 0),
        (255, 0, 255),
        (255, 0, 0),
        (0, 0, 255),
        (0, 0, 0),
    ]
    for i, colour in enumerate(colours):
        ebu[:, i * 40 : (i + 1) * 40] = colour
    ebu_confidence = color_bars_confidence(_small(ebu))
    assert ebu_confidence is not None and ebu_confidence > 90
    assert color_bars_confidence(_small(ebu[:, ::-1].copy())) is None  # wrong order
    assert color_bars_confidence(_small(pattern())) is None
    assert color_bars_confidence(np.full((BARS_HEIGHT, BARS_WIDTH, 3), 128, np.uint8)) is None
    for name in ("skimage/coffee.png", "opencv-doc/fruits.jpg", "opencv-doc/smarties.png"):
        assert color_bars_confidence(_small(np.asarray(Image.open(photos / name).convert("RGB")))) is None


def test_cue_runs_average_their_frames() -> None:
    tracker = CueTracker("BlackFrames")
    for index, confidence in enumerate([None, 100.0, 80.0, None, 60.0]):
        tracker.add(index, confidence)
    runs = tracker.finish()
    assert [(r.first, r.last, r.confidence) for r in runs] == [(1, 2, 90.0), (4, 4, 60.0)]


def test_transition_runs_become_shots() -> None:
    p = np.full(20, 0.01, np.float32)
    p[4] = 0.9  # a hard cut after frame 4
    p[10:13] = [0.6, 0.8, 0.7]  # a dissolve over frames 10-12
    p[16] = 0.3  # not a cut
    assert transitions(p) == [(4, 4), (10, 12)]
    found = shots(p)
    assert [(s.first, s.last) for s in found] == [(0, 4), (5, 10), (13, 19)]
    # Confidence: the weakest of the opening cut, the closing cut and no missed cut inside.
    assert [round(s.confidence, 3) for s in found] == [90.0, 80.0, 70.0]
    assert [(s.first, s.last) for s in shots(np.array([0.9, 0.9, 0.1, 0.1], np.float32))] == [(2, 3)]
    assert shots(np.zeros(0, np.float32)) == []
