"""What both backends do the same way with the storage dataclasses, apart from SQL."""

from __future__ import annotations

import hashlib

import numpy as np

from .base import FaceRecord


def vectors_of(faces: list[FaceRecord]) -> np.ndarray:
    """(n, dim) float32 matrix of the faces' vectors; all must share one dimension."""
    flat = [np.asarray(face.vector, dtype=np.float32).reshape(-1) for face in faces]
    dims = {len(v) for v in flat}
    if len(dims) != 1 or 0 in dims:
        raise ValueError(f"face vectors must share one non-zero dimension, got {sorted(dims)}")
    return np.stack(flat)


def faces_scope(collection_id: str, face_ids: list[str] | None, user_id: str | None) -> str:
    """The listing a ListFaces page token belongs to: same collection and same filters."""
    if face_ids is None:
        ids = "*"
    else:
        ids = hashlib.blake2b("\n".join(sorted(set(face_ids))).encode(), digest_size=16).hexdigest()
    return f"faces\x00{collection_id}\x00{user_id if user_id is not None else '*'}\x00{ids}"


def users_scope(collection_id: str) -> str:
    """The listing a ListUsers page token belongs to."""
    return f"users\x00{collection_id}"


def user_status_sql(placeholder: str) -> str:
    """AWS's UserStatus, recomputed for one user: CREATED while it has no faces, ACTIVE once
    it has (UPDATING / CREATING describe asynchronous work, which no store leaves pending).
    `placeholder` is the driver's parameter mark (? for sqlite3, %s for psycopg)."""
    return (
        "UPDATE users SET status = CASE WHEN EXISTS (SELECT 1 FROM faces "
        "WHERE faces.collection_pk = users.collection_pk AND faces.user_id = users.user_id) "
        f"THEN 'ACTIVE' ELSE 'CREATED' END WHERE collection_pk = {placeholder} AND user_id = {placeholder}"
    )
