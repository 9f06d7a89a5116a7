"""`PostgresFaceStore`: the `FaceStore` that many servers and workers share.

Every method is one transaction on a pooled connection; a commit is durable when it
returns (PostgreSQL's default synchronous_commit), so an acknowledged IndexFaces survives
a killed server and a restarted database. Nothing is cached between calls: a face indexed
through any server is searchable through every other at once.

Writers that change a collection's face count lock its row (`SELECT ... FOR UPDATE`), so
concurrent IndexFaces from several hosts keep `face_count` equal to the rows, and
AssociateFaces' per-user limit holds across hosts.

Idempotency (ClientRequestToken) is shared too: a request's lock is a PostgreSQL advisory
lock, so a retry reaching another server waits for the original's answer there.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Self

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from ..base import (
    Collection,
    CollectionExists,
    CollectionMissing,
    FaceRecord,
    Match,
    Page,
    StoreUnavailable,
    StoreUnusable,
    UserExists,
    UserFaceLimit,
    UserMissing,
    UserRecord,
)
from ..keyed_locks import KeyedLocks
from ..page_tokens import Cursor, PageTokens
from ..records import faces_scope, user_status_sql, users_scope, vectors_of
from . import ann
from .connections import CONNECT_TIMEOUT_S, connection, open_pool, redact, transaction
from .migrations import NewerSchemaError, migrate

REQUEST_MEMORY_SECONDS = 24 * 3600

_COLLECTION_COLUMNS = "pk, collection_id, arn, face_model_version, created_at, tags"
_FACE_COLUMNS = (
    "face_id, image_id, external_image_id, box_width, box_height, box_left, box_top, "
    "confidence, user_id, indexed_at, embedding"
)
_USER_COLUMNS = "user_id, status, created_at"
_USER_STATUS_SQL = user_status_sql("%s")


def _collection(row: tuple[Any, ...]) -> Collection:
    _pk, collection_id, arn, model, created_at, tags = row
    return Collection(collection_id, arn, model, created_at, dict(tags))


def _face(row: tuple[Any, ...]) -> FaceRecord:
    (face_id, image_id, external, width, height, left, top, confidence, user_id, indexed_at,
     embedding) = row  # fmt: skip
    return FaceRecord(
        face_id=face_id,
        image_id=image_id,
        external_image_id=external,
        bounding_box=(float(width), float(height), float(left), float(top)),
        confidence=float(confidence),
        vector=np.asarray(embedding.to_numpy(), dtype=np.float32),
        user_id=user_id,
        indexed_at=indexed_at,
    )


class PostgresFaceStore:
    """FaceStore on a PostgreSQL database with the pgvector extension."""

    def __init__(self, url: str, *, exact_limit: int = ann.EXACT_LIMIT, pool_size: int = 20) -> None:
        self.url = url
        self.exact_limit = exact_limit
        # Migrated on a connection of its own first: the pool's connections register the
        # vector type, which only exists once the first migration has created the extension.
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_S)) as conn:
                migrate(conn)
                self._tokens = PageTokens(self._token_secret(conn))
        except psycopg.OperationalError as error:
            raise StoreUnavailable(f"cannot connect to PostgreSQL at {redact(url)} ({error})") from None
        except (NewerSchemaError, psycopg.Error) as error:
            raise StoreUnusable(redact(url), str(error)) from None
        self._pool = open_pool(url, max_size=pool_size)
        self._request_locks = KeyedLocks()
        self._indexed_versions: set[tuple[str, int]] = set()
        self._index_lock = threading.Lock()

    @staticmethod
    def _token_secret(conn: psycopg.Connection) -> bytes:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('token_secret', %s) ON CONFLICT DO NOTHING",
            (os.urandom(32).hex(),),
        )
        row = conn.execute("SELECT value FROM meta WHERE key = 'token_secret'").fetchone()
        assert row is not None
        return bytes.fromhex(row[0])

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def _pk(conn: psycopg.Connection, collection_id: str, lock: bool = False) -> int:
        row = conn.execute(
            "SELECT pk FROM collections WHERE collection_id = %s" + (" FOR UPDATE" if lock else ""),
            (collection_id,),
        ).fetchone()
        if row is None:
            raise CollectionMissing(collection_id)
        return int(row[0])

    # ------------------------------------------------------------ collections

    def create_collection(self, collection: Collection) -> None:
        try:
            with transaction(self._pool) as conn:
                conn.execute(
                    "INSERT INTO collections (collection_id, arn, face_model_version, created_at, tags) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (
                        collection.collection_id,
                        collection.arn,
                        collection.face_model_version,
                        collection.created_at,
                        Jsonb(dict(collection.tags)),
                    ),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise CollectionExists(collection.collection_id) from exc

    def get_collection(self, collection_id: str) -> Collection:
        return self._one_collection("collection_id", collection_id)

    def collection_by_arn(self, arn: str) -> Collection:
        return self._one_collection("arn", arn)

    def _one_collection(self, column: str, value: str) -> Collection:
        with connection(self._pool) as conn:
            row = conn.execute(
                f"SELECT {_COLLECTION_COLUMNS} FROM collections WHERE {column} = %s", (value,)
            ).fetchone()
        if row is None:
            raise CollectionMissing(value)
        return _collection(row)

    def list_collections(self, token: str | None, limit: int) -> Page[Collection]:
        scope, limit = "collections", max(1, limit)
        with connection(self._pool) as conn:
            after = ""
            if token is not None:
                after = self._resolve_collection_cursor(conn, self._tokens.decode(scope, token))
            rows = conn.execute(
                f"SELECT {_COLLECTION_COLUMNS} FROM collections WHERE collection_id > %s "
                "ORDER BY collection_id LIMIT %s",
                (after, limit + 1),
            ).fetchall()
        next_token = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_token = self._tokens.encode(scope, rows[-1][1], rowid=rows[-1][0])
        return Page([_collection(r) for r in rows], next_token)

    @staticmethod
    def _resolve_collection_cursor(conn: psycopg.Connection, cursor: Cursor) -> str:
        if cursor.rowid is None:
            return cursor.key
        row = conn.execute("SELECT collection_id FROM collections WHERE pk = %s", (cursor.rowid,)).fetchone()
        if row is not None and str(row[0]).startswith(cursor.key):
            return str(row[0])
        return cursor.key  # the row is gone: resume after its prefix (see page_tokens.Cursor)

    def delete_collection(self, collection_id: str) -> None:
        with transaction(self._pool) as conn:
            row = conn.execute(
                "DELETE FROM collections WHERE collection_id = %s RETURNING pk", (collection_id,)
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            # Faces and users go through ON DELETE CASCADE; remembered answers (scoped
            # "Operation:collection") too, so a new namesake starts clean.
            conn.execute(
                "DELETE FROM requests WHERE substr(scope, strpos(scope, ':') + 1) = %s", (collection_id,)
            )

    def tag_collection(self, collection_id: str, tags: dict[str, str]) -> None:
        self._update_tags(collection_id, lambda current: {**current, **tags})

    def untag_collection(self, collection_id: str, keys: list[str]) -> None:
        drop = set(keys)
        self._update_tags(collection_id, lambda current: {k: v for k, v in current.items() if k not in drop})

    def _update_tags(self, collection_id: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
        with transaction(self._pool) as conn:
            row = conn.execute(
                "SELECT pk, tags FROM collections WHERE collection_id = %s FOR UPDATE", (collection_id,)
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            conn.execute(
                "UPDATE collections SET tags = %s WHERE pk = %s", (Jsonb(change(dict(row[1]))), row[0])
            )

    def count_faces(self, collection_id: str) -> int:
        with connection(self._pool) as conn:
            row = conn.execute(
                "SELECT face_count FROM collections WHERE collection_id = %s", (collection_id,)
            ).fetchone()
        if row is None:
            raise CollectionMissing(collection_id)
        return int(row[0])

    def count_users(self, collection_id: str) -> int:
        with connection(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            row = conn.execute("SELECT count(*) FROM users WHERE collection_pk = %s", (pk,)).fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ faces

    def add_faces(self, collection_id: str, faces: list[FaceRecord]) -> None:
        if not faces:
            with connection(self._pool) as conn:
                self._pk(conn, collection_id)
            return
        vectors = vectors_of(faces)
        dimension = int(vectors.shape[1])
        version = self._version_of(collection_id)
        self._ensure_index(version, dimension)
        now = time.time()
        with transaction(self._pool) as conn:
            row = conn.execute(
                "SELECT pk, dimension FROM collections WHERE collection_id = %s FOR UPDATE", (collection_id,)
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            pk, stored_dimension = row
            if stored_dimension is not None and stored_dimension != dimension:
                raise ValueError(
                    f"collection {collection_id} holds {stored_dimension}-d vectors, got {dimension}-d"
                )
            try:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO faces (collection_pk, face_id, image_id, external_image_id, box_width, "
                        "box_height, box_left, box_top, confidence, user_id, indexed_at, model_version, "
                        "dimension, embedding) VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        [
                            (
                                pk,
                                face.face_id,
                                face.image_id,
                                face.external_image_id,
                                *(float(x) for x in face.bounding_box),
                                float(face.confidence),
                                face.user_id,
                                face.indexed_at or now,
                                version,
                                dimension,
                                vector,
                            )
                            for face, vector in zip(faces, vectors, strict=True)
                        ],
                    )
            except psycopg.errors.UniqueViolation as exc:
                raise ValueError(f"duplicate face id in {collection_id}") from exc
            conn.execute(
                "UPDATE collections SET dimension = %s, face_count = face_count + %s WHERE pk = %s",
                (dimension, len(faces), pk),
            )
            for user_id in {f.user_id for f in faces if f.user_id is not None}:
                conn.execute(_USER_STATUS_SQL, (pk, user_id))

    def _version_of(self, collection_id: str) -> str:
        return self.get_collection(collection_id).face_model_version

    def _ensure_index(self, version: str, dimension: int) -> None:
        key = (version, dimension)
        if key in self._indexed_versions:
            return
        with self._index_lock:
            if key not in self._indexed_versions:
                with connection(self._pool) as conn:
                    ann.ensure_index(conn, version, dimension)
                self._indexed_versions.add(key)

    def list_faces(
        self,
        collection_id: str,
        token: str | None,
        limit: int,
        face_ids: list[str] | None = None,
        user_id: str | None = None,
    ) -> Page[FaceRecord]:
        limit = max(1, limit)
        scope = faces_scope(collection_id, face_ids, user_id)
        after = self._tokens.decode(scope, token).key if token is not None else None
        with connection(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            if face_ids is not None and not face_ids:
                return Page([], None)
            where: list[str] = ["collection_pk = %s"]
            params: list[object] = [pk]
            if after is not None:
                where.append("face_id > %s")
                params.append(after)
            if user_id is not None:
                where.append("user_id = %s")
                params.append(user_id)
            if face_ids is not None:
                where.append("face_id = ANY(%s)")
                params.append(list(face_ids))
            rows = conn.execute(
                f"SELECT {_FACE_COLUMNS} FROM faces WHERE {' AND '.join(where)} ORDER BY face_id LIMIT %s",
                (*params, limit + 1),
            ).fetchall()
        next_token = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_token = self._tokens.encode(scope, rows[-1][0])
        return Page([_face(r) for r in rows], next_token)

    def get_faces(self, collection_id: str, face_ids: list[str]) -> dict[str, FaceRecord]:
        with connection(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            rows = conn.execute(
                f"SELECT {_FACE_COLUMNS} FROM faces WHERE collection_pk = %s AND face_id = ANY(%s)",
                (pk, list(dict.fromkeys(face_ids))),
            ).fetchall()
        return {row[0]: _face(row) for row in rows}

    def delete_faces(self, collection_id: str, face_ids: list[str]) -> list[str]:
        wanted = list(dict.fromkeys(face_ids))
        with transaction(self._pool) as conn:
            pk = self._pk(conn, collection_id, lock=True)
            # A face that belongs to a user stays: it must be disassociated first.
            deleted = {
                str(row[0])
                for row in conn.execute(
                    "DELETE FROM faces WHERE collection_pk = %s AND user_id IS NULL AND face_id = ANY(%s) "
                    "RETURNING face_id",
                    (pk, wanted),
                ).fetchall()
            }
            if deleted:
                conn.execute(
                    "UPDATE collections SET face_count = face_count - %s WHERE pk = %s", (len(deleted), pk)
                )
        return [face_id for face_id in wanted if face_id in deleted]

    def search(self, collection_id: str, vector: np.ndarray, limit: int, min_cosine: float) -> list[Match]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with connection(self._pool) as conn:
            row = conn.execute(
                "SELECT pk, face_model_version, dimension, face_count FROM collections WHERE collection_id = %s",
                (collection_id,),
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            pk, version, dimension, count = row
            if dimension is None or count == 0 or limit <= 0:
                return []
            if len(query) != dimension:
                raise ValueError(f"query has {len(query)} dimensions, collection {dimension}")
            if count <= self.exact_limit:
                found = ann.exact_search(conn, pk, query, limit, min_cosine)
            else:
                total = conn.execute(
                    "SELECT sum(face_count) FROM collections WHERE face_model_version = %s AND dimension = %s",
                    (version, dimension),
                ).fetchone()
                share = (count, int(total[0]) if total and total[0] is not None else count)
                found = ann.graph_search(conn, pk, version, dimension, query, limit, min_cosine, share=share)
        # float32 dot products of unit vectors can land a hair outside [-1, 1].
        return [Match(face_id, min(1.0, max(-1.0, cosine))) for face_id, cosine in found]

    # ------------------------------------------------------------------ users

    def create_user(self, collection_id: str, user_id: str) -> None:
        try:
            with transaction(self._pool) as conn:
                pk = self._pk(conn, collection_id)
                conn.execute(
                    "INSERT INTO users (collection_pk, user_id, status, created_at) VALUES (%s, %s, 'CREATED', %s)",
                    (pk, user_id, time.time()),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise UserExists(user_id) from exc

    def get_user(self, collection_id: str, user_id: str) -> UserRecord:
        with connection(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE collection_pk = %s AND user_id = %s", (pk, user_id)
            ).fetchone()
        if row is None:
            raise UserMissing(user_id)
        return UserRecord(*row)

    def delete_user(self, collection_id: str, user_id: str) -> None:
        with transaction(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            gone = conn.execute("DELETE FROM users WHERE collection_pk = %s AND user_id = %s", (pk, user_id))
            if not gone.rowcount:
                raise UserMissing(user_id)
            # Its faces stay in the collection, unassociated.
            conn.execute(
                "UPDATE faces SET user_id = NULL WHERE collection_pk = %s AND user_id = %s", (pk, user_id)
            )

    def list_users(self, collection_id: str, token: str | None, limit: int) -> Page[UserRecord]:
        limit = max(1, limit)
        scope = users_scope(collection_id)
        after = self._tokens.decode(scope, token).key if token is not None else ""
        with connection(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            rows = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE collection_pk = %s AND user_id > %s "
                "ORDER BY user_id LIMIT %s",
                (pk, after, limit + 1),
            ).fetchall()
        next_token = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_token = self._tokens.encode(scope, rows[-1][0])
        return Page([UserRecord(*r) for r in rows], next_token)

    def associate_faces(
        self, collection_id: str, user_id: str, face_ids: list[str], max_faces: int
    ) -> list[str]:
        """Give the listed unowned faces to the user; the per-user limit is checked in the
        same transaction, with the user's row locked, so concurrent calls on any host
        cannot push the user past it."""

        def at_most_max_faces(conn: psycopg.Connection, pk: int) -> None:
            row = conn.execute(
                "SELECT count(*) FROM faces WHERE collection_pk = %s AND user_id = %s", (pk, user_id)
            ).fetchone()
            if row is not None and row[0] > max_faces:
                raise UserFaceLimit(user_id)  # rolls the whole transaction back

        return self._move_faces(
            collection_id, user_id, face_ids, "SET user_id = %s WHERE collection_pk = %s AND user_id IS NULL",
            lambda pk: (user_id, pk), at_most_max_faces,
        )  # fmt: skip

    def disassociate_faces(self, collection_id: str, user_id: str, face_ids: list[str]) -> list[str]:
        return self._move_faces(
            collection_id, user_id, face_ids, "SET user_id = NULL WHERE collection_pk = %s AND user_id = %s",
            lambda pk: (pk, user_id), lambda _conn, _pk: None,
        )  # fmt: skip

    def _move_faces(
        self,
        collection_id: str,
        user_id: str,
        face_ids: list[str],
        assignment: str,
        arguments: Callable[[int], tuple[object, ...]],
        check: Callable[[psycopg.Connection, int], None],
    ) -> list[str]:
        with transaction(self._pool) as conn:
            pk = self._pk(conn, collection_id)
            if not conn.execute(
                "SELECT 1 FROM users WHERE collection_pk = %s AND user_id = %s FOR UPDATE", (pk, user_id)
            ).fetchone():
                raise UserMissing(user_id)
            wanted = list(dict.fromkeys(face_ids))
            moved = {
                str(row[0])
                for row in conn.execute(
                    f"UPDATE faces {assignment} AND face_id = ANY(%s) RETURNING face_id",
                    (*arguments(pk), wanted),
                ).fetchall()
            }
            check(conn, pk)
            conn.execute(_USER_STATUS_SQL, (pk, user_id))
        return [face_id for face_id in wanted if face_id in moved]  # in the order asked

    # ------------------------------------------------------------ idempotency

    def request_lock(self, scope: str, token: str) -> AbstractContextManager[None]:
        return self._hold_request(f"{scope}:{token}")

    @contextmanager
    def _hold_request(self, key: str) -> Iterator[None]:
        # Threads of this process queue on a Python lock first, so a burst of retries holds
        # one connection, not one each; the advisory lock then covers the other hosts.
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
        with self._request_locks.hold(key), connection(self._pool) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (digest,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (digest,))

    def remember_request(self, scope: str, token: str, fingerprint: str, response_json: str) -> None:
        # First answer wins: a retry of the same request must get the original response.
        now = time.time()
        with transaction(self._pool) as conn:
            conn.execute("DELETE FROM requests WHERE created_at < %s", (now - REQUEST_MEMORY_SECONDS,))
            conn.execute(
                "INSERT INTO requests (scope, token, fingerprint, response_json, created_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (scope, token, fingerprint, response_json, now),
            )

    def recall_request(self, scope: str, token: str) -> tuple[str, str] | None:
        with connection(self._pool) as conn:
            row = conn.execute(
                "SELECT fingerprint, response_json FROM requests WHERE scope = %s AND token = %s",
                (scope, token),
            ).fetchone()
        return (row[0], row[1]) if row else None
