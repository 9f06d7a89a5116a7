"""Live video from the sources the operator registered: RTSP, HTTP(S) (MP4, MJPEG, HLS)
or a local file, decoded with PyAV as it plays.

A reader thread decodes at the source's own pace and keeps only the newest frame;
the processor takes the newest one whenever it is ready for the next. So analysis
that is slower than the camera drops frames instead of falling behind: a record is
never about a moment long past.

Frames are passed on when their timestamps say, so a file, or a recording served
over HTTP, plays at its own rate, as if live. A file ends the session at its end.
A network source that drops (or ends) is reconnected with growing waits (1, 2, 4 ...
up to 30 s); one that never connects at all fails the session after a few tries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import av
import av.error

log = logging.getLogger("openrek.streams")

NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
FIRST_CONNECT_TRIES = 3
MAX_BACKOFF_S = 30.0
# Seconds to wait for a network source to open, and for each read once open.
OPEN_TIMEOUT_S, READ_TIMEOUT_S = 10.0, 10.0


class SourceFailed(Exception):
    """The source cannot be read; str(error) is the processor's StatusMessage."""


def check_url(url: str) -> None:
    """Refuses what cannot be a source, before it is registered."""
    scheme = urlparse(url).scheme.lower()
    if scheme in NETWORK_SCHEMES:
        return
    path = local_path(url)
    if not path.is_file():
        raise SourceFailed(f"{url} is neither a file nor an rtsp://, http:// or https:// URL")


def local_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(parsed.path) if parsed.scheme == "file" else Path(url)


def is_network(url: str) -> bool:
    return urlparse(url).scheme.lower() in NETWORK_SCHEMES


@dataclass(frozen=True)
class LiveFrame:
    number: int  # counts every decoded frame of the session, kept or not
    frame: Any  # av.VideoFrame; converted to pixels only if it is analysed
    received_at: float  # wall clock when it was decoded
    offset_seconds: float  # since the session's first frame


class LiveSource:
    """The newest frame of one source, read by a background thread until `close`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._closed = threading.Event()
        self._changed = threading.Condition()
        self._latest: LiveFrame | None = None
        self._ended = False
        self._failure: SourceFailed | None = None
        self._number = 0
        self._reader = threading.Thread(target=self._read, name="openrek-stream-source", daemon=True)

    def start(self) -> LiveSource:
        self._reader.start()
        return self

    def close(self) -> None:
        self._closed.set()
        with self._changed:
            self._changed.notify_all()
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader.join(timeout=READ_TIMEOUT_S + 5)

    def newest(self, after: int, timeout: float) -> LiveFrame | None:
        """The newest frame numbered above `after`, waiting up to `timeout` seconds for one;
        None on timeout or once the source has ended. Raises SourceFailed if it failed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if self._failure is not None:
                    raise self._failure
                latest = self._latest
                if latest is not None and latest.number > after:
                    return latest
                left = deadline - time.monotonic()
                if self._ended or self._closed.is_set() or left <= 0:
                    return None
                self._changed.wait(left)

    @property
    def ended(self) -> bool:
        return self._ended

    def _publish(self, frame: Any, offset: float) -> None:
        now = time.time()
        with self._changed:
            self._number += 1
            self._latest = LiveFrame(self._number, frame, now, offset)
            self._changed.notify_all()

    def _finish(self, failure: SourceFailed | None = None) -> None:
        with self._changed:
            self._ended = True
            self._failure = failure
            self._changed.notify_all()

    def _read(self) -> None:
        try:
            if is_network(self.url):
                self._read_network()
            else:
                self._read_file(local_path(self.url))
            self._finish()
        except SourceFailed as failure:
            self._finish(failure)
        except Exception:  # a reader that dies must not leave the processor waiting forever
            log.exception("stream source %s failed", self.url)
            self._finish(SourceFailed(f"The video stream could not be read: {self.url}"))

    def _read_file(self, path: Path) -> None:
        try:
            container: Any = av.open(str(path))
        except (av.error.FFmpegError, OSError) as error:
            raise SourceFailed(f"The video stream's file cannot be read as video: {path} ({error})") from None
        with container:
            if not container.streams.video:
                raise SourceFailed(f"The video stream's file has no video: {path}")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for frame, offset in self._paced(container.decode(stream)):
                    self._publish(frame, offset)
            except av.error.FFmpegError as error:
                log.warning("stream file %s: decoding stopped early: %s", path, error)

    def _read_network(self) -> None:
        connected_once = False
        failures = 0
        session_started = time.monotonic()
        while not self._closed.is_set():
            try:
                container: Any = av.open(
                    self.url,
                    timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S),
                    options={"rtsp_transport": "tcp"} if self.url.lower().startswith("rtsp") else {},
                )
            except (av.error.FFmpegError, OSError) as error:
                failures += 1
                if not connected_once and failures >= FIRST_CONNECT_TRIES:
                    raise SourceFailed(
                        f"The video stream never connected after {failures} tries: {self.url} ({error})"
                    ) from None
                self._back_off(failures)
                continue
            connected_once, failures = True, 0
            try:
                with container:
                    if not container.streams.video:
                        raise SourceFailed(f"The video stream has no video: {self.url}")
                    for frame, _offset in self._paced(container.decode(container.streams.video[0])):
                        self._publish(frame, time.monotonic() - session_started)
            except av.error.FFmpegError as error:
                log.warning("stream %s dropped: %s; reconnecting", self.url, error)
            failures += 1
            self._back_off(failures)

    def _paced(self, frames: Iterator[Any]) -> Iterator[tuple[Any, float]]:
        """Each frame when its time comes (its timestamp after the first one's), with that
        offset, until the source is closed. A camera's frames come at that pace anyway;
        a file, or a recording served over HTTP, would otherwise decode as fast as the
        machine can and not be live at all."""
        started = time.monotonic()
        first: float | None = None
        for frame in frames:
            if self._closed.is_set():
                return
            at = float(frame.time) if frame.time is not None else time.monotonic() - started
            first = at if first is None else first
            delay = started + (at - first) - time.monotonic()
            if delay > 0 and self._closed.wait(delay):
                return
            yield frame, at - first

    def _back_off(self, failures: int) -> None:
        self._closed.wait(min(MAX_BACKOFF_S, 2.0 ** (failures - 1)))
