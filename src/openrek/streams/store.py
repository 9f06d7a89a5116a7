"""What a stream store is: the video-stream registry and the stream processors.

Two implementations, chosen from the database URL (`open_stream_store`):
- `sqlite_store.SqliteStreamStore` (embedded default): `<data-dir>/streams.sqlite3`; the
  one server that answers also runs every processor, and starts again at start-up the
  ones it left running.
- `postgres_store.PostgresStreamStore`: both in the shared database, so every host
  resolves the same stream names and sees the same processors. A RUNNING processor is
  **claimed** by one process (`FOR UPDATE SKIP LOCKED`) under a lease it renews; a
  process that dies loses its processors when the lease ends and another takes them
  over with a new session. Stop is a status the holder reads at its next renewal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from openrek.config import Settings

STOPPED, STARTING, RUNNING, FAILED, STOPPING, UPDATING = (
    "STOPPED",
    "STARTING",
    "RUNNING",
    "FAILED",
    "STOPPING",
    "UPDATING",
)
ACTIVE = (STARTING, RUNNING, STOPPING)


class ProcessorExists(Exception):
    pass


class ProcessorMissing(Exception):
    pass


class WrongStatus(Exception):
    """The processor's status does not allow the change; str(error) is its status."""


class TooManyRunning(Exception):
    pass


@dataclass(frozen=True)
class StreamProcessor:
    name: str
    arn: str
    definition: dict[str, Any]  # Input, Output, Settings, RoleArn, NotificationChannel, ...
    status: str
    status_message: str | None
    session_id: str | None
    start_request: dict[str, Any] | None  # StartSelector / StopSelector of the running session
    tags: dict[str, str]
    created_at: float
    updated_at: float
    # Shared stores: which claim of the session this is (1 for the first process to run
    # it, 2 for the one that took over, ...); only that claim may change its status.
    claim: int = 0


def processor_from_row(row: Sequence[Any]) -> StreamProcessor:
    """A processor from its columns in the order both stores select them: name, arn,
    definition_json, status, status_message, session_id, start_json, tags_json, created_at,
    updated_at, and (shared stores) the claim number."""
    return StreamProcessor(
        name=row[0],
        arn=row[1],
        definition=json.loads(row[2]),
        status=row[3],
        status_message=row[4],
        session_id=row[5],
        start_request=json.loads(row[6]) if row[6] else None,
        tags=json.loads(row[7]),
        created_at=row[8],
        updated_at=row[9],
        claim=row[10] if len(row) > 10 else 0,
    )


class StreamStore(Protocol):
    # True when other processes may run this store's processors: running ones are then
    # claimed from the store rather than run by the server that started them.
    shared: bool

    def close(self) -> None: ...

    # The operator's registry of live sources: stream name -> URL.
    def put_source(self, name: str, url: str) -> None: ...
    def source(self, name: str) -> str | None: ...
    def sources(self) -> list[tuple[str, str]]: ...
    def delete_source(self, name: str) -> bool: ...

    # Stream processors.
    def create(self, name: str, arn: str, definition: dict[str, Any], tags: dict[str, str]) -> None: ...
    def get(self, name: str) -> StreamProcessor: ...
    def by_arn(self, arn: str) -> StreamProcessor: ...
    def page(self, after: str | None, limit: int) -> list[StreamProcessor]: ...
    def with_status(self, *statuses: str) -> list[StreamProcessor]: ...
    def delete(self, name: str) -> None: ...
    def begin_session(
        self, name: str, session_id: str, start_request: dict[str, Any], max_running: int
    ) -> StreamProcessor:
        """STOPPED or FAILED -> STARTING with a new session, unless `max_running` are
        active in the whole store (AWS's per-account quota)."""
        ...

    def renew_session(self, name: str, session_id: str) -> StreamProcessor: ...
    def set_status(
        self,
        name: str,
        status: str,
        message: str | None = None,
        *,
        only_from: tuple[str, ...] = (),
        claim: int | None = None,
    ) -> bool:
        """Moves the processor to `status` (only from one of `only_from`, when given; on a
        shared store, with `claim`, only while that claim holds and releasing it when the
        status is final); False when nothing changed."""
        ...

    def update_definition(self, name: str, definition: dict[str, Any]) -> str: ...
    def set_tags(self, name: str, tags: dict[str, str]) -> None: ...

    # Shared stores only.
    def claim(self, holder: str, lease_s: float) -> StreamProcessor | None:
        """A STARTING or RUNNING processor no live process holds, now held by `holder`."""
        ...

    def renew(self, holder: str, claims: dict[str, int], lease_s: float) -> dict[str, str]:
        """Extends `holder`'s leases on these processors (name -> claim); returns the
        status of each still held (a name missing was taken over or is gone)."""
        ...

    def release(self, name: str, claim: int) -> None:
        """This process is stopping: the processor stays RUNNING, for another to claim now."""
        ...

    def stop_unheld(self) -> list[str]:
        """STOPPING processors that no live process holds become STOPPED; their names."""
        ...


def open_stream_store(settings: Settings) -> StreamStore:
    database = settings.database
    if database.postgres_url is not None:
        from openrek.streams.postgres_store import PostgresStreamStore

        return PostgresStreamStore(database.postgres_url)
    from openrek.streams.sqlite_store import SqliteStreamStore

    return SqliteStreamStore(settings.data_dir)
