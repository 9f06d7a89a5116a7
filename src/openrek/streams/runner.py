"""Runs stream processor sessions on threads of the server process.

A session: the source the processor's Kinesis Video ARN names is opened, frames are
taken at the analysis rate (the newest one each time: a slow analysis drops frames,
it never lags), each is analysed and its record written to the processor's output.
STARTING becomes RUNNING with the first frame; the session ends STOPPED (stopped,
MaxDurationInSeconds reached, or a file source at its end) or FAILED with a
StatusMessage. A server that stops leaves its RUNNING processors marked RUNNING, and
`resume` starts them again when it comes back.

The runner knows only the store, the services and the settings, so a later issue
can run sessions in separate worker processes with the same pieces.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openrek.storage.base import CollectionMissing
from openrek.streams.face_search import FaceSearchSession
from openrek.streams.pacing import frames_to_analyse
from openrek.streams.sinks import KinesisSink, SinkFailed
from openrek.streams.sources import LiveFrame, LiveSource, SourceFailed
from openrek.streams.store import (
    FAILED,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    ProcessorMissing,
    StreamProcessor,
    StreamStore,
)

if TYPE_CHECKING:
    from openrek.services import Services

log = logging.getLogger("openrek.streams")

INTERNAL_FAILURE = "Internal error while processing the stream; see the server log"
FRAGMENT_SECONDS = 1.0  # stands in for a Kinesis Video fragment in each record's InputInformation


def video_stream_name(arn: str) -> str | None:
    """`arn:aws:kinesisvideo:<region>:<account>:stream/<name>/<id>` -> name."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kinesisvideo":
        return None
    kind, _, rest = parts[5].partition("/")
    name = rest.split("/", 1)[0]
    return name if kind == "stream" and name else None


@dataclass
class _Session:
    name: str
    session_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class StreamRunner:
    def __init__(self, services: Services, store: StreamStore) -> None:
        self._services = services
        self._store = store
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._server_stopping = threading.Event()

    def start(self, processor: StreamProcessor) -> None:
        """Runs the session `processor` (STARTING, with its session id) on a thread."""
        assert processor.session_id is not None
        session = _Session(processor.name, processor.session_id)
        session.thread = threading.Thread(
            target=self._run, args=(session,), name=f"openrek-stream-{processor.name}", daemon=True
        )
        with self._lock:
            self._sessions[processor.name] = session
        session.thread.start()

    def stop(self, name: str) -> None:
        """STOPPING until the session has ended, then STOPPED."""
        with self._lock:
            session = self._sessions.get(name)
        if session is None:  # nothing runs here: a record left by a process that died
            self._store.set_status(name, STOPPED)
            return
        session.stop.set()

    def resume(self) -> int:
        """Starts again the processors a stopped or killed server left running."""
        for processor in self._store.with_status(STOPPING):
            self._store.set_status(processor.name, STOPPED)
        running = self._store.with_status(STARTING, RUNNING)
        for processor in running:
            self._store.set_status(processor.name, STARTING)
            self.start(self._store.get(processor.name))
        return len(running)

    def close(self) -> None:
        """The server is stopping: sessions end but keep their status, to resume at the next start."""
        self._server_stopping.set()
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.stop.set()
        for session in sessions:
            if session.thread is not None:
                session.thread.join(timeout=15)

    def _run(self, session: _Session) -> None:
        status, message = STOPPED, None
        try:
            self._process(session)
        except (SourceFailed, SinkFailed) as failure:
            status, message = FAILED, str(failure)
        except CollectionMissing as gone:
            status, message = FAILED, f"The collection {gone} was deleted while the stream processor ran"
        except ProcessorMissing:
            return
        except Exception:
            log.exception("stream processor %s failed", session.name)
            status, message = FAILED, INTERNAL_FAILURE
        finally:
            with self._lock:
                if self._sessions.get(session.name) is session:
                    del self._sessions[session.name]
        if self._server_stopping.is_set():
            return  # left RUNNING on purpose: the next server start resumes it
        self._store.set_status(session.name, status, message, only_from=(STARTING, RUNNING, STOPPING))

    def _process(self, session: _Session) -> None:
        processor = self._store.get(session.name)
        definition = processor.definition
        arn = definition["Input"]["KinesisVideoStream"]["Arn"]
        stream = video_stream_name(arn)
        url = self._store.source(stream) if stream else None
        if url is None:
            raise SourceFailed(
                f"No video stream named {stream} is registered on this server "
                f"(register one with: openrek video-streams put {stream} URL)"
            )
        analysis = FaceSearchSession.of(self._services, definition["Settings"]["FaceSearch"])
        settings = self._services.settings
        assert settings.kinesis_endpoint_url is not None  # checked at CreateStreamProcessor
        sink = KinesisSink(
            settings.kinesis_endpoint_url,
            settings.region,
            definition["Output"]["KinesisDataStream"]["Arn"],
            partition_key=processor.name,
        )
        stop_selector = (processor.start_request or {}).get("StopSelector") or {}
        max_seconds = stop_selector.get("MaxDurationInSeconds")
        frames_per_second = settings.stream_frames_per_second
        source = LiveSource(url).start()
        first_received: list[float] = []

        def running(first: LiveFrame) -> None:
            first_received.append(first.received_at - first.offset_seconds)
            self._store.set_status(session.name, RUNNING, only_from=(STARTING,))

        try:
            for live in frames_to_analyse(source, frames_per_second, session.stop, max_seconds, running):
                rgb = live.frame.to_ndarray(format="rgb24")
                responses = analysis.responses(rgb, round(live.offset_seconds * 1000))
                sink.put(_face_search_record(arn, live, first_received[0], responses))
        finally:
            source.close()


def _face_search_record(
    arn: str, live: LiveFrame, first_received: float, responses: list[dict[str, Any]]
) -> dict[str, Any]:
    fragment, offset = divmod(live.offset_seconds, FRAGMENT_SECONDS)
    return {
        "InputInformation": {
            "KinesisVideo": {
                "StreamArn": arn,
                "FragmentNumber": str(int(fragment)),
                "ServerTimestamp": live.received_at,
                "ProducerTimestamp": first_received + live.offset_seconds,
                "FrameOffsetInSeconds": round(offset, 3),
            }
        },
        "StreamProcessorInformation": {"Status": RUNNING},
        "FaceSearchResponse": responses,
    }
