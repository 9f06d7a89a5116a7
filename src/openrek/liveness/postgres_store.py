"""Face Liveness sessions in the shared PostgreSQL database (migration 6), so that any
server answers for a session another created, and a capture may reach any of them.
A session changes status with one conditional UPDATE: of two captures sent at once,
one finishes it and the other is told it has ended."""

from __future__ import annotations

import json
from typing import Any

from openrek.liveness.store import (
    COLUMNS,
    CREATED,
    EXPIRED,
    IN_PROGRESS,
    OPEN,
    LivenessSession,
    SessionMissing,
    session_from_row,
)
from openrek.storage.postgres.connections import connection, open_migrated_pool, transaction


class PostgresLivenessStore:
    def __init__(self, url: str) -> None:
        self._pool = open_migrated_pool(url, max_size=4, name="openrek-liveness")

    def close(self) -> None:
        self._pool.close()

    def create(
        self,
        session_id: str,
        client_token: str | None,
        settings: dict[str, Any],
        challenge: dict[str, Any],
        now: float,
    ) -> LivenessSession:
        with transaction(self._pool) as conn:
            # Two creates with one token at once: the second waits on the unique index
            # and then finds the first's row.
            conn.execute(
                f"INSERT INTO liveness_sessions ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, '{{}}') "
                "ON CONFLICT (client_token) DO NOTHING",
                (session_id, client_token, json.dumps(settings), json.dumps(challenge), CREATED, now, now),
            )
            if client_token is not None:
                row = conn.execute(
                    f"SELECT {COLUMNS} FROM liveness_sessions WHERE client_token = %s", (client_token,)
                ).fetchone()
            else:
                row = conn.execute(
                    f"SELECT {COLUMNS} FROM liveness_sessions WHERE session_id = %s", (session_id,)
                ).fetchone()
        assert row is not None
        return session_from_row(row)

    def get(self, session_id: str) -> LivenessSession:
        with connection(self._pool) as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM liveness_sessions WHERE session_id = %s", (session_id,)
            ).fetchone()
        if row is None:
            raise SessionMissing(session_id)
        return session_from_row(row)

    def start(self, session_id: str, now: float) -> bool:
        with connection(self._pool) as conn:
            changed = conn.execute(
                "UPDATE liveness_sessions SET status = %s, updated_at = %s WHERE session_id = %s AND status = %s",
                (IN_PROGRESS, now, session_id, CREATED),
            ).rowcount
        return changed > 0

    def finish(
        self,
        session_id: str,
        status: str,
        confidence: float | None,
        result: dict[str, Any],
        images: list[bytes],
        now: float,
    ) -> bool:
        with transaction(self._pool) as conn:
            changed = conn.execute(
                "UPDATE liveness_sessions SET status = %s, confidence = %s, result_json = %s, updated_at = %s "
                "WHERE session_id = %s AND status = ANY(%s)",
                (status, confidence, json.dumps(result), now, session_id, list(OPEN)),
            ).rowcount
            if changed:
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO liveness_images (session_id, slot, image) VALUES (%s, %s, %s)",
                        [(session_id, slot, image) for slot, image in enumerate(images)],
                    )
        return changed > 0

    def expire(self, session_id: str, now: float) -> None:
        with transaction(self._pool) as conn:
            conn.execute(
                "UPDATE liveness_sessions SET status = %s, confidence = NULL, result_json = '{}', "
                "updated_at = %s WHERE session_id = %s",
                (EXPIRED, now, session_id),
            )
            conn.execute("DELETE FROM liveness_images WHERE session_id = %s", (session_id,))

    def images(self, session_id: str) -> list[bytes]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                "SELECT image FROM liveness_images WHERE session_id = %s ORDER BY slot", (session_id,)
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def forget_before(self, cutoff: float) -> int:
        with connection(self._pool) as conn:
            # Images go with their session (ON DELETE CASCADE).
            return int(
                conn.execute("DELETE FROM liveness_sessions WHERE created_at < %s", (cutoff,)).rowcount
            )
