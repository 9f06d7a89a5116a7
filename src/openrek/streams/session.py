"""The interface between the runner and a session's analysis (see streams/analyses.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from openrek.streams.sources import LiveFrame


@dataclass(frozen=True)
class SessionEnd:
    status: str  # STOPPED or FAILED
    message: str | None  # the StatusMessage of a FAILED session
    interrupted: bool  # the server stopped: the processor runs again when it comes back


class SessionAnalysis(Protocol):
    @property
    def reports_running(self) -> bool:
        """Whether the processor shows RUNNING once frames arrive (AWS's label detection
        processors stay STARTING until they end)."""

    @property
    def max_seconds(self) -> float | None:
        """How long the session runs at most (None: until stopped or the source ends)."""

    def analyse(self, live: LiveFrame, started_at: float) -> None:
        """One frame due for analysis; `started_at` is the wall-clock time of the
        session's stream offset 0. Raises SinkFailed to end the session FAILED."""

    def finish(self, end: SessionEnd) -> None:
        """The session has ended; never raises."""
