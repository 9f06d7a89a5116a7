"""Runs stream processor sessions on threads of the server process.

A session: the source the processor's Kinesis Video ARN names is opened, frames are
taken at the analysis rate (the newest one each time: a slow analysis drops frames,
it never lags), and each is handed to the session's analysis, which the processor's
Settings choose (streams/analyses.py: FaceSearch writes Kinesis records, ConnectedHome
label events, frames and a summary). STARTING becomes RUNNING with the first frame
(unless the analysis stays STARTING, as AWS's label detection does); the session ends
STOPPED (stopped, MaxDurationInSeconds reached, or a file source at its end) or
FAILED with a StatusMessage, and the analysis is told which.

- Embedded store: the server that answers Start runs the session; one that stops leaves
  its RUNNING processors marked RUNNING, and `resume` starts them again when it comes back.
- Shared store (PostgreSQL): sessions are claimed. `start_claiming` runs a loop that,
  every second, renews the leases of the sessions this process runs (and stops those
  whose processor is now STOPPING, or that another process has taken over), settles
  stops nobody can act on, and claims one more processor while it has room
  (OPENREK_MAX_RUNNING_STREAM_PROCESSORS). `openrek serve` runs the loop unless started
  with `--no-run-jobs`; `openrek worker` always does. A process that stops releases its
  sessions for others to take over at once; one that dies loses them when its leases end.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openrek.storage.base import CollectionMissing, StoreUnavailable
from openrek.streams.analyses import open_analysis
from openrek.streams.pacing import frames_to_analyse
from openrek.streams.session import SessionAnalysis, SessionEnd
from openrek.streams.sinks import SinkFailed
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
# How often a claiming process renews its leases, reads the stops meant for it, and
# looks for processors to run: a Stop answered by another server ends the session
# within about this long.
CLAIM_POLL_S = 1.0


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
    claim: int = 0  # shared store: the claim this process holds the processor by
    stop: threading.Event = field(default_factory=threading.Event)
    # Shared store: another process holds the processor now (this one's lease ran out);
    # the session ends without writing a status.
    lost: bool = False
    thread: threading.Thread | None = None


class StreamRunner:
    def __init__(self, services: Services, store: StreamStore) -> None:
        self._services = services
        self._store = store
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._server_stopping = threading.Event()
        settings = services.settings
        self.capacity = settings.max_running_stream_processors
        self.lease_s = settings.job_lease_seconds
        # Who holds a claim: this host, process and runner (a process may have two runners,
        # e.g. in tests; they must not renew each other's claims).
        self.holder = f"{socket.gethostname()}:{os.getpid()}:streams-{id(self):x}"
        self._wake = threading.Event()
        self._claimer: threading.Thread | None = None

    def start(self, processor: StreamProcessor) -> None:
        """A processor Start has just made STARTING: run its session here (embedded), or
        wake this process's claiming loop, if it has one (shared: any process may run it)."""
        if self._store.shared:
            self._wake.set()
            return
        self._launch(processor)

    def _launch(self, processor: StreamProcessor) -> None:
        """Runs the session of `processor` (STARTING, with its session id) on a thread."""
        assert processor.session_id is not None
        session = _Session(processor.name, processor.session_id, processor.claim)
        session.thread = threading.Thread(
            target=self._run, args=(session,), name=f"openrek-stream-{processor.name}", daemon=True
        )
        with self._lock:
            self._sessions[processor.name] = session
        session.thread.start()

    def stop(self, name: str) -> None:
        """The processor is STOPPING: it becomes STOPPED when its session has ended."""
        with self._lock:
            session = self._sessions.get(name)
        if session is not None:
            session.stop.set()
        elif self._store.shared:
            # Another process runs it and sees STOPPING at its next renewal; if none holds
            # it (not claimed yet, or its process died), it is STOPPED now.
            self._store.stop_unheld()
        else:  # nothing runs here: a record left by a process that died
            self._store.set_status(name, STOPPED)

    def resume(self) -> int:
        """Embedded: starts again the processors a stopped or killed server left running.
        Shared: starts claiming (such processors are claimed once their lease ends)."""
        if self._store.shared:
            self.start_claiming()
            return 0
        for processor in self._store.with_status(STOPPING):
            self._store.set_status(processor.name, STOPPED)
        running = self._store.with_status(STARTING, RUNNING)
        for processor in running:
            # A new session: its output (a ConnectedHome session's S3 folder) must not
            # overwrite what the interrupted one wrote.
            self._launch(self._store.renew_session(processor.name, str(uuid.uuid4())))
        return len(running)

    def start_claiming(self) -> None:
        if self._claimer is None:
            self._claimer = threading.Thread(
                target=self._claim_loop, name="openrek-stream-claims", daemon=True
            )
            self._claimer.start()

    def _claim_loop(self) -> None:
        renewed_at = time.monotonic()
        while not self._server_stopping.is_set():
            try:
                self._renew()
                renewed_at = time.monotonic()
            except Exception:  # the database restarting: sessions go on while the lease may hold
                log.warning("renewing stream processor leases failed; retrying", exc_info=True)
                if time.monotonic() - renewed_at > self.lease_s:
                    self._abandon_all()  # others may have taken them over by now: never run one twice
            try:
                self._store.stop_unheld()
                with self._lock:
                    free = len(self._sessions) < self.capacity
                if free:
                    processor = self._store.claim(self.holder, self.lease_s)
                    if processor is not None:
                        log.info("running stream processor %s (claim %d)", processor.name, processor.claim)
                        self._launch(processor)
            except Exception:
                log.warning("claiming stream processors failed; retrying", exc_info=True)
            # One claim per round, so processes that look at the same time share the work.
            self._wake.wait(CLAIM_POLL_S)
            self._wake.clear()

    def _renew(self) -> None:
        with self._lock:
            held = {name: session.claim for name, session in self._sessions.items()}
        if not held:
            return
        statuses = self._store.renew(self.holder, held, self.lease_s)
        with self._lock:
            for name, claim in held.items():
                session = self._sessions.get(name)
                if session is None or session.claim != claim:
                    continue
                status = statuses.get(name)
                if status is None:
                    log.warning("stream processor %s is run by another process now; ending here", name)
                    session.lost = True
                    session.stop.set()
                elif status == STOPPING:  # StopStreamProcessor, answered by any server
                    session.stop.set()

    def _abandon_all(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.lost = True
                session.stop.set()

    def close(self) -> None:
        """The process is stopping: sessions end but keep their status, to resume at the
        next start (embedded) or to be claimed at once by another process (shared)."""
        self._server_stopping.set()
        self._wake.set()
        if self._claimer is not None:
            self._claimer.join(timeout=15)  # no claim starts a session after this
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.stop.set()
        for session in sessions:
            if session.thread is not None:
                session.thread.join(timeout=15)

    def _run(self, session: _Session) -> None:
        status, message = STOPPED, None
        analysis: SessionAnalysis | None = None
        try:
            processor = self._store.get(session.name)
            analysis = open_analysis(self._services, processor)
            self._process(session, processor, analysis)
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
        interrupted = self._server_stopping.is_set() or session.lost
        if analysis is not None:
            analysis.finish(SessionEnd(status, message, interrupted))
        if session.lost:
            return  # another process runs the processor now; its status is that one's to write
        if interrupted:
            # Left RUNNING on purpose: the next server start resumes it (embedded), or
            # another process claims it now (shared).
            if self._store.shared:
                try:
                    self._store.release(session.name, session.claim)
                except Exception:  # the lease then ends by itself
                    log.warning("releasing stream processor %s failed", session.name, exc_info=True)
            return
        try:
            self._store.set_status(
                session.name,
                status,
                message,
                only_from=(STARTING, RUNNING, STOPPING),
                claim=self._claim_of(session),
            )
        except StoreUnavailable:
            # Shared store: the processor stays claimed until the lease ends, and is then
            # run again by whoever claims it.
            log.warning("stream processor %s ended %s but the database is unavailable", session.name, status)

    def _claim_of(self, session: _Session) -> int | None:
        """What a status write is fenced by: the session's claim on a shared store."""
        return session.claim if self._store.shared else None

    def _process(self, session: _Session, processor: StreamProcessor, analysis: SessionAnalysis) -> None:
        stream = video_stream_name(processor.definition["Input"]["KinesisVideoStream"]["Arn"])
        url = self._store.source(stream) if stream else None
        if url is None:
            raise SourceFailed(
                f"No video stream named {stream} is registered on this server "
                f"(register one with: openrek video-streams put {stream} URL)"
            )
        source = LiveSource(url).start()
        started_at: list[float] = []

        def first_frame(first: LiveFrame) -> None:
            started_at.append(first.received_at - first.offset_seconds)
            if analysis.reports_running:
                self._store.set_status(
                    session.name, RUNNING, only_from=(STARTING,), claim=self._claim_of(session)
                )

        rate = self._services.settings.stream_frames_per_second
        try:
            for live in frames_to_analyse(source, rate, session.stop, analysis.max_seconds, first_frame):
                analysis.analyse(live, started_at[0])
        finally:
            source.close()
