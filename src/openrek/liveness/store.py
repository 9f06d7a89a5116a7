"""What a liveness store is: Face Liveness sessions, and the images their results return.

A session keeps only what GetFaceLivenessSessionResults answers with: its settings, its
challenge, status, confidence, the result's boxes and feedback, and the reference and
audit images where they are returned as bytes (with OutputConfig they go to S3 and only
their object names are kept). Frames sent by the capture page are analysed as they
arrive and never stored.

Two implementations, chosen from the database URL (`open_liveness_store`):
- `sqlite_store.SqliteLivenessStore` (embedded default): `<data-dir>/liveness.sqlite3`;
- `postgres_store.PostgresLivenessStore`: the shared database, so any server answers
  for a session another created.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from openrek.config import Settings

CREATED, IN_PROGRESS, SUCCEEDED, FAILED, EXPIRED = "CREATED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "EXPIRED"
OPEN = (CREATED, IN_PROGRESS)


class SessionMissing(Exception):
    pass


@dataclass(frozen=True)
class LivenessSession:
    session_id: str
    client_token: str | None
    settings: dict[str, Any]  # the request's Settings and KmsKeyId, as sent
    challenge: dict[str, Any]  # challenge.Challenge.to_json()
    status: str
    created_at: float
    updated_at: float
    confidence: float | None
    # ReferenceImage / AuditImages without their bytes (BoundingBox, S3Object), Feedback,
    # Metadata; the bytes are `images` of the store, slot 0 the reference image.
    result: dict[str, Any]


def session_from_row(row: Sequence[Any]) -> LivenessSession:
    """A session from its columns in the order both stores select them (`COLUMNS`)."""
    return LivenessSession(
        session_id=row[0],
        client_token=row[1],
        settings=json.loads(row[2]),
        challenge=json.loads(row[3]),
        status=row[4],
        created_at=float(row[5]),
        updated_at=float(row[6]),
        confidence=None if row[7] is None else float(row[7]),
        result=json.loads(row[8]),
    )


COLUMNS = "session_id, client_token, settings_json, challenge_json, status, created_at, updated_at, confidence, result_json"


class LivenessStore(Protocol):
    def close(self) -> None: ...

    def create(
        self,
        session_id: str,
        client_token: str | None,
        settings: dict[str, Any],
        challenge: dict[str, Any],
        now: float,
    ) -> LivenessSession:
        """A new CREATED session; with a ClientRequestToken already used, the session
        that token created instead (nothing new is stored)."""
        ...

    def get(self, session_id: str) -> LivenessSession:
        """Raises SessionMissing."""
        ...

    def start(self, session_id: str, now: float) -> bool:
        """CREATED -> IN_PROGRESS (the page fetched its challenge); False otherwise."""
        ...

    def finish(
        self,
        session_id: str,
        status: str,
        confidence: float | None,
        result: dict[str, Any],
        images: list[bytes],
        now: float,
    ) -> bool:
        """An open session -> SUCCEEDED or FAILED with its result and image bytes;
        False when it was not open any more (finished by another request, or expired)."""
        ...

    def expire(self, session_id: str, now: float) -> None:
        """EXPIRED, its confidence, result and images forgotten."""
        ...

    def images(self, session_id: str) -> list[bytes]:
        """The image bytes `finish` stored, in slot order."""
        ...

    def forget_before(self, cutoff: float) -> int:
        """Deletes sessions created before `cutoff` (epoch seconds); how many."""
        ...


def open_liveness_store(settings: Settings) -> LivenessStore:
    database = settings.database
    if database.postgres_url is not None:
        from openrek.liveness.postgres_store import PostgresLivenessStore

        return PostgresLivenessStore(database.postgres_url)
    from openrek.liveness.sqlite_store import SqliteLivenessStore

    return SqliteLivenessStore(settings.data_dir)
