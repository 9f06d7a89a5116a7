"""Frame numbers as Rekognition Video's segment results state them: SMPTE timecodes
and milliseconds.

- Milliseconds are rounded down, as AWS documents (100.6667 ms is 100).
- A timecode is HH:MM:SS:FF counted at the nominal rate (24 for 23.976, 30 for 29.97).
  At 29.97 and 59.94 frames a second it is drop-frame, HH:MM:SS;FF: frame labels 0-1
  (0-3 at 59.94) are skipped at the start of every minute except each tenth, so the
  timecode keeps to the wall clock.
"""

from __future__ import annotations

from fractions import Fraction

# NTSC rates: nominal * 1000 / 1001.
_NTSC_DIVISOR = Fraction(1000, 1001)


def nominal_rate(rate: Fraction) -> int:
    """The whole frames a second a timecode counts: 24 for 23.976, 30 for 29.97."""
    return max(1, round(rate))


def is_drop_frame(rate: Fraction) -> bool:
    """29.97 and 59.94 (30 and 60 times 1000/1001) use drop-frame timecode."""
    nominal = nominal_rate(rate)
    return nominal in (30, 60) and abs(float(rate) - float(nominal * _NTSC_DIVISOR)) < 0.005


def frame_millis(frame: int, rate: Fraction) -> int:
    """When frame `frame` (0-based) starts, in whole milliseconds, rounded down."""
    return (frame * 1000 * rate.denominator) // rate.numerator


def smpte(frames: int, rate: Fraction) -> str:
    """The timecode of frame `frames` from the start (also used for durations in frames)."""
    if frames < 0:
        raise ValueError("a timecode counts frames from zero")
    nominal = nominal_rate(rate)
    separator = ":"
    if is_drop_frame(rate):
        separator = ";"
        dropped = 2 * nominal // 30  # 2 labels a minute at 29.97, 4 at 59.94
        per_minute = nominal * 60 - dropped
        per_ten_minutes = nominal * 600 - 9 * dropped
        tens, rest = divmod(frames, per_ten_minutes)
        # The first minute of every ten keeps all its labels; each later one drops some.
        skipped = 9 * dropped * tens
        if rest > dropped:
            skipped += dropped * ((rest - dropped) // per_minute)
        frames += skipped
    seconds, frame = divmod(frames, nominal)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}{separator}{frame:02d}"
