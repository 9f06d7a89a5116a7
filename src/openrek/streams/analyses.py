"""What a stream processor session does with its frames, by the processor's Settings.

The runner (streams/runner.py) owns the source, the pacing and the statuses; an
analysis owns everything about its kind of processor: which frames it keeps, what it
writes where, and what it says when the session ends. FaceSearch writes one Kinesis
record per analysed frame; ConnectedHome publishes label events, writes frames to S3
and ends with a summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from openrek.streams.connected_home_session import ConnectedHomeSession
from openrek.streams.face_search import FaceSearchOutput
from openrek.streams.session import SessionAnalysis
from openrek.streams.store import StreamProcessor

if TYPE_CHECKING:
    from openrek.services import Services


OpenAnalysis = Callable[["Services", StreamProcessor], SessionAnalysis]


# Settings member -> how its sessions are opened.
ANALYSES: dict[str, OpenAnalysis] = {
    "FaceSearch": FaceSearchOutput.open,
    "ConnectedHome": ConnectedHomeSession.open,
}


def open_analysis(services: Services, processor: StreamProcessor) -> SessionAnalysis:
    settings = processor.definition["Settings"]
    (kind,) = [name for name in ANALYSES if name in settings]  # one, checked at Create
    return ANALYSES[kind](services, processor)
