"""The storage contract every backend implements (embedded SQLite, shared PostgreSQL).

Stores keep face vectors and metadata, never image bytes. Every method is safe to
call from several threads at once; every write is atomic and durable once it
returns (an acknowledged IndexFaces survives `kill -9`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import numpy as np


class StoreError(Exception):
    """Base of the errors a store raises; operations map them to AWS errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (restarting, failing over, overloaded);
    the request may be retried. Nothing it was asked to do was acknowledged."""


class CollectionExists(StoreError):
    pass


class CollectionMissing(StoreError):
    pass


class UserExists(StoreError):
    pass


class UserMissing(StoreError):
    pass


class UserFaceLimit(StoreError):
    """Associating the faces would give the user more than its limit."""


class StoreUnusable(StoreError):
    """The database cannot be opened (not a database, corrupt, unreadable)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(
            f"the database {path} cannot be used ({reason}); "
            + (
                "check the URL and that the pgvector extension is installed"
                if isinstance(path, str)
                else "move it aside to start with empty collections, or restore it from a backup"
            )
        )
        self.path = path


@dataclass(frozen=True)
class Collection:
    collection_id: str
    arn: str
    face_model_version: str
    created_at: float  # epoch seconds
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FaceRecord:
    face_id: str  # UUID
    image_id: str  # UUID shared by the faces indexed from one image
    external_image_id: str | None
    bounding_box: tuple[float, float, float, float]  # Width, Height, Left, Top ratios
    confidence: float
    vector: np.ndarray  # float32, L2-normalised, the collection's model dimension
    user_id: str | None = None
    indexed_at: float = 0.0


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    status: str  # ACTIVE | UPDATING | CREATING | CREATED
    created_at: float


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None  # opaque; None on the last page


@dataclass(frozen=True)
class Match:
    face_id: str
    cosine: float  # cosine similarity of the two unit vectors, in [-1, 1]


class InvalidPageToken(StoreError):
    pass


class FaceStore(Protocol):
    # Collections
    def create_collection(self, collection: Collection) -> None: ...
    def get_collection(self, collection_id: str) -> Collection: ...  # raises CollectionMissing
    def list_collections(self, token: str | None, limit: int) -> Page[Collection]: ...
    def delete_collection(self, collection_id: str) -> None: ...  # raises CollectionMissing
    def collection_by_arn(self, arn: str) -> Collection: ...  # raises CollectionMissing
    def tag_collection(self, collection_id: str, tags: dict[str, str]) -> None: ...
    def untag_collection(self, collection_id: str, keys: list[str]) -> None: ...
    def count_faces(self, collection_id: str) -> int: ...
    def count_users(self, collection_id: str) -> int: ...

    # Faces
    def add_faces(self, collection_id: str, faces: list[FaceRecord]) -> None: ...
    def list_faces(
        self,
        collection_id: str,
        token: str | None,
        limit: int,
        face_ids: list[str] | None = None,
        user_id: str | None = None,
    ) -> Page[FaceRecord]: ...
    def get_faces(self, collection_id: str, face_ids: list[str]) -> dict[str, FaceRecord]: ...
    def delete_faces(
        self, collection_id: str, face_ids: list[str]
    ) -> list[str]: ...  # deleted; faces that belong to a user are kept
    def search(
        self, collection_id: str, vector: np.ndarray, limit: int, min_cosine: float
    ) -> list[Match]: ...  # best first, at most `limit`, each cosine >= min_cosine

    # Users
    def create_user(self, collection_id: str, user_id: str) -> None: ...  # raises UserExists
    def get_user(self, collection_id: str, user_id: str) -> UserRecord: ...  # raises UserMissing
    def delete_user(self, collection_id: str, user_id: str) -> None: ...  # frees its faces
    def list_users(self, collection_id: str, token: str | None, limit: int) -> Page[UserRecord]: ...
    def associate_faces(
        self, collection_id: str, user_id: str, face_ids: list[str], max_faces: int
    ) -> list[str]: ...  # newly associated; raises UserFaceLimit past max_faces
    def disassociate_faces(
        self, collection_id: str, user_id: str, face_ids: list[str]
    ) -> list[str]: ...  # the faces taken from the user

    # Idempotency of ClientRequestToken calls: the request's fingerprint and its answer.
    # Calls with one token run one at a time under request_lock, so a retry that
    # overlaps the original waits for its answer instead of repeating its effect.
    def request_lock(self, scope: str, token: str) -> AbstractContextManager[None]: ...
    def remember_request(self, scope: str, token: str, fingerprint: str, response_json: str) -> None: ...
    def recall_request(self, scope: str, token: str) -> tuple[str, str] | None: ...

    def close(self) -> None: ...
