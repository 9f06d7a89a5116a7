"""Conversions between SQLite rows and the storage dataclasses."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from ..base import Collection, FaceRecord, UserRecord
from ..records import user_status_sql

COLLECTION_COLUMNS = "pk, collection_id, arn, face_model_version, created_at, tags"

FACE_COLUMNS = (
    "seq, face_id, image_id, external_image_id, box_width, box_height, box_left, box_top, "
    "confidence, user_id, indexed_at, vector"
)

USER_COLUMNS = "user_id, status, created_at"

USER_STATUS_SQL = user_status_sql("?")


def collection_from_row(row: tuple[Any, ...]) -> Collection:
    _pk, collection_id, arn, model, created_at, tags = row
    return Collection(collection_id, arn, model, created_at, json.loads(tags))


def face_from_row(row: tuple[Any, ...]) -> FaceRecord:
    (_seq, face_id, image_id, external, width, height, left, top, confidence, user_id,
     indexed_at, vector) = row  # fmt: skip
    return FaceRecord(
        face_id=face_id,
        image_id=image_id,
        external_image_id=external,
        bounding_box=(width, height, left, top),
        confidence=confidence,
        # Read-only view of the blob: no copy, and callers can't corrupt a shared array.
        vector=np.frombuffer(vector, dtype=np.float32),
        user_id=user_id,
        indexed_at=indexed_at,
    )


def user_from_row(row: tuple[Any, ...]) -> UserRecord:
    return UserRecord(*row)


def face_params(pk: int, faces: list[FaceRecord], vectors: np.ndarray) -> list[tuple[Any, ...]]:
    """INSERT parameters in FACE_INSERT_SQL order."""
    now = time.time()
    params = []
    for face, vector in zip(faces, vectors, strict=True):
        width, height, left, top = (float(x) for x in face.bounding_box)
        params.append((
            pk, face.face_id, face.image_id, face.external_image_id,
            width, height, left, top, float(face.confidence), face.user_id,
            face.indexed_at or now,  # 0.0 is the dataclass default: "stamp it now"
            vector.tobytes(),
        ))  # fmt: skip
    return params


FACE_INSERT_SQL = (
    "INSERT INTO faces (collection_pk, face_id, image_id, external_image_id, box_width, "
    "box_height, box_left, box_top, confidence, user_id, indexed_at, vector) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
