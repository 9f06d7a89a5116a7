"""Which live frames are analysed: the newest one once each 1/fps of stream time."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator

from openrek.streams.sources import LiveFrame, LiveSource


def frames_to_analyse(
    source: LiveSource,
    frames_per_second: float,
    stop: threading.Event,
    max_seconds: float | None = None,
    on_first: Callable[[LiveFrame], None] | None = None,
) -> Iterator[LiveFrame]:
    """Frames of `source` due for analysis, until `stop` is set, `max_seconds` of wall
    time have passed, or the source ends. A frame is due at or after each instant k/fps
    of the stream; frames that arrive while the caller is still busy are skipped, so a
    slow analysis reads the newest frame rather than falling behind."""
    began = time.monotonic()
    last, next_instant, first = 0, 0, True
    while not stop.is_set():
        if max_seconds is not None and time.monotonic() - began >= max_seconds:
            return
        live = source.newest(last, timeout=0.5)
        if live is None:
            if source.ended:
                return
            continue
        last = live.number
        if first:
            first = False
            if on_first is not None:
                on_first(live)
        # A microsecond of slack: 1/3 s at 3 fps must not wait for the next frame.
        if live.offset_seconds + 1e-6 < next_instant / frames_per_second:
            continue
        next_instant = math.floor((live.offset_seconds + 1e-6) * frames_per_second) + 1
        yield live
