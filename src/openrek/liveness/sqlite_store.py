"""Face Liveness sessions on disk in `<data-dir>/liveness.sqlite3` (the embedded store;
liveness/store.py says what a store keeps)."""

from __future__ import annotations

import json
from pathlib import Path
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
from openrek.storage.sqlite.locked import LockedConnection

_SCHEMA = """
CREATE TABLE IF NOT EXISTS liveness_sessions (
    session_id TEXT PRIMARY KEY,
    client_token TEXT UNIQUE,
    settings_json TEXT NOT NULL,
    challenge_json TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    confidence REAL,
    result_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS liveness_sessions_by_age ON liveness_sessions (created_at);
CREATE TABLE IF NOT EXISTS liveness_images (
    session_id TEXT NOT NULL REFERENCES liveness_sessions (session_id) ON DELETE CASCADE,
    slot INTEGER NOT NULL,
    image BLOB NOT NULL,
    PRIMARY KEY (session_id, slot)
)
"""


class SqliteLivenessStore:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = LockedConnection(data_dir / "liveness.sqlite3", _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(
        self,
        session_id: str,
        client_token: str | None,
        settings: dict[str, Any],
        challenge: dict[str, Any],
        now: float,
    ) -> LivenessSession:
        with self._db.transaction() as conn:
            if client_token is not None:
                row = conn.execute(
                    f"SELECT {COLUMNS} FROM liveness_sessions WHERE client_token = ?", (client_token,)
                ).fetchone()
                if row is not None:
                    return session_from_row(row)
            conn.execute(
                f"INSERT INTO liveness_sessions ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, '{{}}')",
                (session_id, client_token, json.dumps(settings), json.dumps(challenge), CREATED, now, now),
            )
        return self.get(session_id)

    def get(self, session_id: str) -> LivenessSession:
        with self._db.reading() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM liveness_sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
        if row is None:
            raise SessionMissing(session_id)
        return session_from_row(row)

    def start(self, session_id: str, now: float) -> bool:
        with self._db.transaction() as conn:
            changed = conn.execute(
                "UPDATE liveness_sessions SET status = ?, updated_at = ? WHERE session_id = ? AND status = ?",
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
        with self._db.transaction() as conn:
            changed = conn.execute(
                "UPDATE liveness_sessions SET status = ?, confidence = ?, result_json = ?, updated_at = ? "
                f"WHERE session_id = ? AND status IN ({','.join('?' * len(OPEN))})",
                (status, confidence, json.dumps(result), now, session_id, *OPEN),
            ).rowcount
            if changed:
                conn.executemany(
                    "INSERT INTO liveness_images (session_id, slot, image) VALUES (?, ?, ?)",
                    [(session_id, slot, image) for slot, image in enumerate(images)],
                )
        return changed > 0

    def expire(self, session_id: str, now: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE liveness_sessions SET status = ?, confidence = NULL, result_json = '{}', "
                "updated_at = ? WHERE session_id = ?",
                (EXPIRED, now, session_id),
            )
            conn.execute("DELETE FROM liveness_images WHERE session_id = ?", (session_id,))

    def images(self, session_id: str) -> list[bytes]:
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT image FROM liveness_images WHERE session_id = ? ORDER BY slot", (session_id,)
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def forget_before(self, cutoff: float) -> int:
        with self._db.transaction() as conn:
            old = "SELECT session_id FROM liveness_sessions WHERE created_at < ?"
            conn.execute(f"DELETE FROM liveness_images WHERE session_id IN ({old})", (cutoff,))
            return int(conn.execute("DELETE FROM liveness_sessions WHERE created_at < ?", (cutoff,)).rowcount)
