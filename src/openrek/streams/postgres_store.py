"""Stream processors and the video-stream registry in the shared PostgreSQL database.

Every server resolves the same stream names and answers for the same processors. A
processor that is STARTING or RUNNING is run by exactly one process at a time:

- `claim` takes one that no live process holds with `SELECT ... FOR UPDATE SKIP LOCKED`
  (two processes never take the same row, and neither waits for the other) and stamps
  the holder, a lease and the next claim number. A processor just started keeps the
  SessionId Start returned; one taken over from a process that died (or shut down) gets
  a new session, so its output does not overwrite what the interrupted one wrote.
- The holder renews its leases every second (`renew`); the answer also carries each
  processor's status, which is how a StopStreamProcessor answered by any server (the
  status STOPPING) reaches the process that runs it.
- Statuses the session writes (RUNNING at the first frame, STOPPED or FAILED at its end)
  are written only while the row still carries the writer's claim number: a process
  that lost its claim cannot overwrite the new holder's.
- A STOPPING processor that nobody holds (its process died) is STOPPED by whichever
  process looks next (`stop_unheld`).

The claim number only grows, over every session of the processor, so it also tells an
old session's late write from a new session's.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import psycopg

from openrek.storage.postgres.connections import connection, open_migrated_pool, transaction
from openrek.streams.store import (
    ACTIVE,
    FAILED,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    UPDATING,
    ProcessorExists,
    ProcessorMissing,
    StreamProcessor,
    TooManyRunning,
    WrongStatus,
    processor_from_row,
)

_COLUMNS = (
    "name, arn, definition_json, status, status_message, session_id, start_json, tags_json, "
    "created_at, updated_at, claims"
)
# Serialises Starts across hosts, so the running limit is counted and used atomically.
_START_LOCK = 0x73747265616D73  # "streams"
# A lease that no longer holds: lease_until before now(), or none at all.
_UNHELD = "(lease_until IS NULL OR lease_until < now())"


class PostgresStreamStore:
    shared = True

    def __init__(self, url: str) -> None:
        # `openrek video-streams` opens this store first: a database it cannot use is one
        # line that says so, as for `openrek serve`.
        self._pool = open_migrated_pool(url, max_size=4, name="openrek-streams")

    def close(self) -> None:
        self._pool.close()

    # The operator's registry of live sources.
    def put_source(self, name: str, url: str) -> None:
        with connection(self._pool) as conn:
            conn.execute(
                "INSERT INTO video_streams (name, url, registered_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET url = excluded.url, registered_at = excluded.registered_at",
                (name, url, time.time()),
            )

    def source(self, name: str) -> str | None:
        with connection(self._pool) as conn:
            row = conn.execute("SELECT url FROM video_streams WHERE name = %s", (name,)).fetchone()
        return None if row is None else str(row[0])

    def sources(self) -> list[tuple[str, str]]:
        with connection(self._pool) as conn:
            rows = conn.execute("SELECT name, url FROM video_streams ORDER BY name").fetchall()
        return [(row[0], row[1]) for row in rows]

    def delete_source(self, name: str) -> bool:
        with connection(self._pool) as conn:
            return conn.execute("DELETE FROM video_streams WHERE name = %s", (name,)).rowcount > 0

    # Stream processors.
    def create(self, name: str, arn: str, definition: dict[str, Any], tags: dict[str, str]) -> None:
        now = time.time()
        with connection(self._pool) as conn:
            inserted = conn.execute(
                "INSERT INTO stream_processors (name, arn, definition_json, status, tags_json, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (name, arn, json.dumps(definition), STOPPED, json.dumps(tags), now, now),
            ).rowcount
        if not inserted:
            raise ProcessorExists(name)

    def get(self, name: str) -> StreamProcessor:
        return self._one("name", name)

    def by_arn(self, arn: str) -> StreamProcessor:
        return self._one("arn", arn)

    def _one(self, column: str, value: str) -> StreamProcessor:
        with connection(self._pool) as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM stream_processors WHERE {column} = %s", (value,)
            ).fetchone()
        if row is None:
            raise ProcessorMissing(value)
        return processor_from_row(row)

    def page(self, after: str | None, limit: int) -> list[StreamProcessor]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM stream_processors WHERE name > %s ORDER BY name LIMIT %s",
                (after or "", limit),
            ).fetchall()
        return [processor_from_row(row) for row in rows]

    def with_status(self, *statuses: str) -> list[StreamProcessor]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM stream_processors WHERE status = ANY(%s) ORDER BY updated_at",
                (list(statuses),),
            ).fetchall()
        return [processor_from_row(row) for row in rows]

    def delete(self, name: str) -> None:
        with transaction(self._pool) as conn:
            status = self._status_for_update(conn, name)
            if status in ACTIVE or status == UPDATING:
                raise WrongStatus(status)
            conn.execute("DELETE FROM stream_processors WHERE name = %s", (name,))

    def _status_for_update(self, conn: psycopg.Connection, name: str) -> str:
        row = conn.execute(
            "SELECT status FROM stream_processors WHERE name = %s FOR UPDATE", (name,)
        ).fetchone()
        if row is None:
            raise ProcessorMissing(name)
        return str(row[0])

    def begin_session(
        self, name: str, session_id: str, start_request: dict[str, Any], max_running: int
    ) -> StreamProcessor:
        with transaction(self._pool) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_START_LOCK,))
            status = self._status_for_update(conn, name)
            if status not in (STOPPED, FAILED):
                raise WrongStatus(status)
            counted = conn.execute(
                "SELECT count(*) FROM stream_processors WHERE status = ANY(%s)", (list(ACTIVE),)
            ).fetchone()
            active = counted[0] if counted else 0
            if active >= max_running:
                raise TooManyRunning(active)
            # No holder: the first claim keeps this session id (see `claim`).
            row = conn.execute(
                "UPDATE stream_processors SET status = %s, status_message = NULL, session_id = %s, "
                "start_json = %s, updated_at = %s, holder = NULL, lease_until = NULL "
                f"WHERE name = %s RETURNING {_COLUMNS}",
                (STARTING, session_id, json.dumps(start_request), time.time(), name),
            ).fetchone()
        assert row is not None
        return processor_from_row(row)

    def renew_session(self, name: str, session_id: str) -> StreamProcessor:
        with connection(self._pool) as conn:
            row = conn.execute(
                "UPDATE stream_processors SET status = %s, status_message = NULL, session_id = %s, "
                f"updated_at = %s WHERE name = %s RETURNING {_COLUMNS}",
                (STARTING, session_id, time.time(), name),
            ).fetchone()
        if row is None:
            raise ProcessorMissing(name)
        return processor_from_row(row)

    def set_status(
        self,
        name: str,
        status: str,
        message: str | None = None,
        *,
        only_from: tuple[str, ...] = (),
        claim: int | None = None,
    ) -> bool:
        conditions: list[str] = ["name = %s"]
        args: list[Any] = [name]
        if only_from:
            conditions.append("status = ANY(%s)")
            args.append(list(only_from))
        if claim is not None:
            conditions.append("claims = %s AND holder IS NOT NULL")
            args.append(claim)
        # A final status ends the claim: nobody runs the processor any more.
        release = ", holder = NULL, lease_until = NULL" if status in (STOPPED, FAILED) else ""
        with connection(self._pool) as conn:
            changed = conn.execute(
                f"UPDATE stream_processors SET status = %s, status_message = %s, updated_at = %s{release} "
                f"WHERE {' AND '.join(conditions)}",
                (status, message, time.time(), *args),
            ).rowcount
        return changed > 0

    def update_definition(self, name: str, definition: dict[str, Any]) -> str:
        with transaction(self._pool) as conn:
            status = self._status_for_update(conn, name)
            if status not in (STOPPED, FAILED, RUNNING):
                raise WrongStatus(status)
            conn.execute(
                "UPDATE stream_processors SET definition_json = %s, updated_at = %s WHERE name = %s",
                (json.dumps(definition), time.time(), name),
            )
        return status

    def set_tags(self, name: str, tags: dict[str, str]) -> None:
        with connection(self._pool) as conn:
            conn.execute(
                "UPDATE stream_processors SET tags_json = %s WHERE name = %s", (json.dumps(tags), name)
            )

    # Claims.
    def claim(self, holder: str, lease_s: float) -> StreamProcessor | None:
        with transaction(self._pool) as conn:
            # In SET, `holder` is the row's value before this update: none means the
            # session has never been claimed (Start's SessionId stands), a holder means a
            # process ran it and stopped renewing (a new session).
            row = conn.execute(
                "UPDATE stream_processors SET "
                " session_id = CASE WHEN holder IS NULL THEN session_id ELSE %s END,"
                " status = %s, status_message = NULL,"
                " holder = %s, lease_until = now() + make_interval(secs => %s), claims = claims + 1 "
                "WHERE name = ("
                f" SELECT name FROM stream_processors WHERE status = ANY(%s) AND {_UNHELD}"
                " ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED"
                f") RETURNING {_COLUMNS}",
                (str(uuid.uuid4()), STARTING, holder, lease_s, [STARTING, RUNNING]),
            ).fetchone()
        return processor_from_row(row) if row else None

    def renew(self, holder: str, claims: dict[str, int], lease_s: float) -> dict[str, str]:
        if not claims:
            return {}
        with connection(self._pool) as conn:
            rows = conn.execute(
                "UPDATE stream_processors SET lease_until = now() + make_interval(secs => %s) "
                "WHERE holder = %s AND status = ANY(%s) "
                " AND (name, claims) IN (SELECT * FROM unnest(%s::text[], %s::integer[])) "
                "RETURNING name, status",
                (lease_s, holder, list(ACTIVE), list(claims), list(claims.values())),
            ).fetchall()
        return {row[0]: row[1] for row in rows}

    def release(self, name: str, claim: int) -> None:
        # The holder stays (the next claim starts a new session), the lease ends now.
        with connection(self._pool) as conn:
            conn.execute(
                "UPDATE stream_processors SET lease_until = NULL WHERE name = %s AND claims = %s",
                (name, claim),
            )

    def stop_unheld(self) -> list[str]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                "UPDATE stream_processors SET status = %s, status_message = NULL, updated_at = %s, "
                f"holder = NULL, lease_until = NULL WHERE status = %s AND {_UNHELD} "
                "RETURNING name",
                (STOPPED, time.time(), STOPPING),
            ).fetchall()
        return [row[0] for row in rows]
