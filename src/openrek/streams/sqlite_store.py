"""Stream processors and the video streams they read, on disk in `<data-dir>/streams.sqlite3`
(the embedded store; streams/store.py says what a store is).

Two tables. `video_streams` is the operator's registry (`openrek video-streams put NAME
URL`): the live source a Kinesis Video stream ARN's name stands for. A server reads
it each time a processor starts, so a registration made while it runs is seen.
`stream_processors` holds each processor's definition as the caller gave it, its
status and tags; a processor left RUNNING by a stopped server is started again by
the next one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from openrek.storage.sqlite.locked import LockedConnection
from openrek.streams.store import (
    ACTIVE,
    FAILED,
    RUNNING,
    STARTING,
    STOPPED,
    UPDATING,
    ProcessorExists,
    ProcessorMissing,
    StreamProcessor,
    TooManyRunning,
    WrongStatus,
    processor_from_row,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS video_streams (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    registered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stream_processors (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    definition_json TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    session_id TEXT,
    start_json TEXT,
    tags_json TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""


_COLUMNS = (
    "name, arn, definition_json, status, status_message, session_id, start_json, tags_json, "
    "created_at, updated_at"
)


class SqliteStreamStore:
    shared = False

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = LockedConnection(data_dir / "streams.sqlite3", _SCHEMA)

    def close(self) -> None:
        self._db.close()

    # The operator's registry of live sources.
    def put_source(self, name: str, url: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO video_streams (name, url, registered_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET url = excluded.url, registered_at = excluded.registered_at",
                (name, url, time.time()),
            )

    def source(self, name: str) -> str | None:
        with self._db.reading() as conn:
            row = conn.execute("SELECT url FROM video_streams WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def sources(self) -> list[tuple[str, str]]:
        with self._db.reading() as conn:
            return [(r[0], r[1]) for r in conn.execute("SELECT name, url FROM video_streams ORDER BY name")]

    def delete_source(self, name: str) -> bool:
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM video_streams WHERE name = ?", (name,)).rowcount > 0

    # Stream processors.
    def create(self, name: str, arn: str, definition: dict[str, Any], tags: dict[str, str]) -> None:
        now = time.time()
        with self._db.transaction() as conn:
            if conn.execute("SELECT 1 FROM stream_processors WHERE name = ?", (name,)).fetchone():
                raise ProcessorExists(name)
            conn.execute(
                f"INSERT INTO stream_processors ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?)",
                (name, arn, json.dumps(definition), STOPPED, json.dumps(tags), now, now),
            )

    def get(self, name: str) -> StreamProcessor:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM stream_processors WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ProcessorMissing(name)
        return processor_from_row(row)

    def by_arn(self, arn: str) -> StreamProcessor:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM stream_processors WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise ProcessorMissing(arn)
        return processor_from_row(row)

    def page(self, after: str | None, limit: int) -> list[StreamProcessor]:
        """Up to `limit` processors in name order, after the name `after`."""
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM stream_processors WHERE name > ? ORDER BY name LIMIT ?",
                (after or "", limit),
            ).fetchall()
        return [processor_from_row(row) for row in rows]

    def with_status(self, *statuses: str) -> list[StreamProcessor]:
        marks = ",".join("?" * len(statuses))
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM stream_processors WHERE status IN ({marks}) ORDER BY updated_at",
                statuses,
            ).fetchall()
        return [processor_from_row(row) for row in rows]

    def delete(self, name: str) -> None:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT status FROM stream_processors WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ProcessorMissing(name)
            if row[0] in ACTIVE or row[0] == UPDATING:
                raise WrongStatus(row[0])
            conn.execute("DELETE FROM stream_processors WHERE name = ?", (name,))

    def begin_session(
        self, name: str, session_id: str, start_request: dict[str, Any], max_running: int
    ) -> StreamProcessor:
        """STOPPED or FAILED -> STARTING with a new session, unless `max_running` are active."""
        with self._db.transaction() as conn:
            row = conn.execute("SELECT status FROM stream_processors WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ProcessorMissing(name)
            if row[0] not in (STOPPED, FAILED):
                raise WrongStatus(row[0])
            marks = ",".join("?" * len(ACTIVE))
            (active,) = conn.execute(
                f"SELECT COUNT(*) FROM stream_processors WHERE status IN ({marks})", ACTIVE
            ).fetchone()
            if active >= max_running:
                raise TooManyRunning(active)
            conn.execute(
                "UPDATE stream_processors SET status = ?, status_message = NULL, session_id = ?, "
                "start_json = ?, updated_at = ? WHERE name = ?",
                (STARTING, session_id, json.dumps(start_request), time.time(), name),
            )
        return self.get(name)

    def renew_session(self, name: str, session_id: str) -> StreamProcessor:
        """A processor a stopped server left running: STARTING again, with a new session."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE stream_processors SET status = ?, status_message = NULL, session_id = ?, "
                "updated_at = ? WHERE name = ?",
                (STARTING, session_id, time.time(), name),
            )
        return self.get(name)

    def set_status(
        self,
        name: str,
        status: str,
        message: str | None = None,
        *,
        only_from: tuple[str, ...] = (),
        claim: int | None = None,  # one process runs every processor here: no claims
    ) -> bool:
        """Moves the processor to `status` (only from one of `only_from`, when given);
        False when it was not in one of those, or is gone."""
        with self._db.transaction() as conn:
            row = conn.execute("SELECT status FROM stream_processors WHERE name = ?", (name,)).fetchone()
            if row is None or (only_from and row[0] not in only_from):
                return False
            conn.execute(
                "UPDATE stream_processors SET status = ?, status_message = ?, updated_at = ? WHERE name = ?",
                (status, message, time.time(), name),
            )
        return True

    def update_definition(self, name: str, definition: dict[str, Any]) -> str:
        """Replaces the definition of a STOPPED, FAILED or RUNNING processor (a running
        session takes it up at its next frame); returns the status it had."""
        with self._db.transaction() as conn:
            row = conn.execute("SELECT status FROM stream_processors WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ProcessorMissing(name)
            if row[0] not in (STOPPED, FAILED, RUNNING):
                raise WrongStatus(row[0])
            conn.execute(
                "UPDATE stream_processors SET definition_json = ?, updated_at = ? WHERE name = ?",
                (json.dumps(definition), time.time(), name),
            )
        return str(row[0])

    def set_tags(self, name: str, tags: dict[str, str]) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE stream_processors SET tags_json = ? WHERE name = ?", (json.dumps(tags), name)
            )

    def claim(self, holder: str, lease_s: float) -> StreamProcessor | None:
        raise NotImplementedError("the embedded store's processors run in the server that started them")

    def renew(self, holder: str, claims: dict[str, int], lease_s: float) -> dict[str, str]:
        raise NotImplementedError("the embedded store's processors run in the server that started them")

    def release(self, name: str, claim: int) -> None:
        raise NotImplementedError("the embedded store's processors run in the server that started them")

    def stop_unheld(self) -> list[str]:
        raise NotImplementedError("the embedded store's processors run in the server that started them")
