"""`SqliteFaceStore`: the embedded default `FaceStore`, one SQLite file per data dir.

Every write is one `BEGIN IMMEDIATE` transaction (an `add_faces` of many faces is atomic)
committed with synchronous=FULL, so it is durable once the method returns. Writers of this
process also take a process-wide lock: SQLite admits one writer at a time anyway, and
queueing on a Python lock is cheaper than SQLite's sleep-and-retry busy handler; it also
lets the in-memory index apply this process's commits in commit order (see index_cache).
Other processes are coordinated by SQLite's own locking (WAL mode, busy timeout).

Memory per stored face (measured by bench/search_faces.py, 128-d vectors):
- SQLite file: ~750 bytes (the 512-byte vector, two UUIDs, box, scores, three index
  entries); a 512-d model adds 1,536 bytes of vector.
- RAM, once the collection has been searched: 4 * dim + 24 bytes (float32 vector, 8-byte seq,
  16-byte sketch), i.e. 536 bytes at 128-d and 2,072 at 512-d, plus up to 1/8 spare capacity
  for appends. Face ids stay in SQLite; a search looks up only the ids it returns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Self

import numpy as np

from ..base import (
    Collection,
    CollectionExists,
    CollectionMissing,
    FaceRecord,
    Match,
    Page,
    StoreUnusable,
    UserExists,
    UserFaceLimit,
    UserMissing,
    UserRecord,
)
from ..keyed_locks import KeyedLocks
from ..page_tokens import Cursor, PageTokens
from ..records import faces_scope, users_scope, vectors_of
from .connections import ConnectionPool, chunks, placeholders, write_transaction
from .index_cache import CollectionState, IndexCache
from .rows import (
    COLLECTION_COLUMNS,
    FACE_COLUMNS,
    FACE_INSERT_SQL,
    USER_COLUMNS,
    USER_STATUS_SQL,
    collection_from_row,
    face_from_row,
    face_params,
    user_from_row,
)
from .schema import NewerSchemaError, initialise
from .vectors import EXACT_LIMIT

# How long a ClientRequestToken's answer is remembered.
REQUEST_MEMORY_SECONDS = 24 * 3600


class SqliteFaceStore:
    """FaceStore on one SQLite file, e.g. `<data-dir>/openrek.sqlite3`."""

    def __init__(self, path: Path, *, exact_limit: int = EXACT_LIMIT) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pool = ConnectionPool(self.path)
        try:
            with self._pool.connection() as conn:
                self._tokens = PageTokens(initialise(conn))
        except (sqlite3.DatabaseError, NewerSchemaError) as error:  # not a database, corrupt, too new
            self._pool.close()
            raise StoreUnusable(self.path, str(error)) from None
        self._write_lock = threading.Lock()
        self._request_locks = KeyedLocks()
        self._indexes = IndexCache(exact_limit)

    def close(self) -> None:
        self._pool.close()
        self._indexes.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- plumbing

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """Write lock + connection, *without* the transaction (callers that update the
        index after COMMIT open it themselves)."""
        with self._write_lock, self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._writing() as conn, write_transaction(conn):
            yield conn

    @staticmethod
    def _pk(conn: sqlite3.Connection, collection_id: str) -> int:
        row = conn.execute("SELECT pk FROM collections WHERE collection_id = ?", (collection_id,)).fetchone()
        if row is None:
            raise CollectionMissing(collection_id)
        return int(row[0])

    # ------------------------------------------------------------ collections

    def create_collection(self, collection: Collection) -> None:
        try:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO collections (collection_id, arn, face_model_version, "
                    "created_at, tags) VALUES (?, ?, ?, ?, ?)",
                    (
                        collection.collection_id,
                        collection.arn,
                        collection.face_model_version,
                        collection.created_at,
                        json.dumps(dict(collection.tags)),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise CollectionExists(collection.collection_id) from exc

    def get_collection(self, collection_id: str) -> Collection:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE collection_id = ?",
                (collection_id,),
            ).fetchone()
        if row is None:
            raise CollectionMissing(collection_id)
        return collection_from_row(row)

    def collection_by_arn(self, arn: str) -> Collection:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE arn = ?", (arn,)
            ).fetchone()
        if row is None:
            raise CollectionMissing(arn)
        return collection_from_row(row)

    def list_collections(self, token: str | None, limit: int) -> Page[Collection]:
        scope = "collections"
        with self._reading() as conn:
            after = ""  # every id is non-empty, so "> ''" means "from the start"
            if token is not None:
                after = self._resolve_collection_cursor(conn, self._tokens.decode(scope, token))
            rows = conn.execute(
                f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE collection_id > ? "
                "ORDER BY collection_id LIMIT ?",
                (after, max(1, limit) + 1),
            ).fetchall()
        more = len(rows) > max(1, limit)
        rows = rows[: max(1, limit)]
        next_token = None
        if more:
            last = rows[-1]
            next_token = self._tokens.encode(scope, last[1], rowid=last[0])
        return Page([collection_from_row(r) for r in rows], next_token)

    @staticmethod
    def _resolve_collection_cursor(conn: sqlite3.Connection, cursor: Cursor) -> str:
        if cursor.rowid is None:
            return cursor.key
        row = conn.execute("SELECT collection_id FROM collections WHERE pk = ?", (cursor.rowid,)).fetchone()
        if row is not None and row[0].startswith(cursor.key):
            return str(row[0])
        return cursor.key  # the row is gone: resume after its prefix (see tokens.Cursor)

    def delete_collection(self, collection_id: str) -> None:
        with self._transaction() as conn:
            row = conn.execute(
                "DELETE FROM collections WHERE collection_id = ? RETURNING pk", (collection_id,)
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            # Faces and users go with it through ON DELETE CASCADE; remembered answers
            # (scoped "Operation:collection") too, so a new namesake starts clean.
            conn.execute(
                "DELETE FROM requests WHERE substr(scope, instr(scope, ':') + 1) = ?",
                (collection_id,),
            )
        self._indexes.drop(row[0])

    def tag_collection(self, collection_id: str, tags: dict[str, str]) -> None:
        self._update_tags(collection_id, lambda current: {**current, **tags})

    def untag_collection(self, collection_id: str, keys: list[str]) -> None:
        drop = set(keys)
        self._update_tags(collection_id, lambda current: {k: v for k, v in current.items() if k not in drop})

    def _update_tags(self, collection_id: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT pk, tags FROM collections WHERE collection_id = ?", (collection_id,)
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            tags = change(json.loads(row[1]))
            conn.execute("UPDATE collections SET tags = ? WHERE pk = ?", (json.dumps(tags), row[0]))

    def count_faces(self, collection_id: str) -> int:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT face_count FROM collections WHERE collection_id = ?", (collection_id,)
            ).fetchone()
        if row is None:
            raise CollectionMissing(collection_id)
        return int(row[0])

    def count_users(self, collection_id: str) -> int:
        with self._reading() as conn:
            pk = self._pk(conn, collection_id)
            return int(
                conn.execute("SELECT COUNT(*) FROM users WHERE collection_pk = ?", (pk,)).fetchone()[0]
            )

    # ------------------------------------------------------------------ faces

    def add_faces(self, collection_id: str, faces: list[FaceRecord]) -> None:
        if not faces:
            with self._reading() as conn:
                self._pk(conn, collection_id)
            return
        vectors = vectors_of(faces)
        with self._writing() as conn:
            with write_transaction(conn):
                row = conn.execute(
                    "SELECT pk, dimension FROM collections WHERE collection_id = ?",
                    (collection_id,),
                ).fetchone()
                if row is None:
                    raise CollectionMissing(collection_id)
                pk, dimension = row
                if dimension is not None and dimension != vectors.shape[1]:
                    raise ValueError(
                        f"collection {collection_id} holds {dimension}-d vectors, got {vectors.shape[1]}-d"
                    )
                before = self._last_seq(conn)
                try:
                    conn.executemany(FACE_INSERT_SQL, face_params(pk, faces, vectors))
                except sqlite3.IntegrityError as exc:
                    raise ValueError(f"duplicate face id in {collection_id}") from exc
                after = self._last_seq(conn)
                generation, deletions = conn.execute(
                    "UPDATE collections SET dimension = ?, face_count = face_count + ?, "
                    "generation = generation + 1 WHERE pk = ? RETURNING generation, deletions",
                    (vectors.shape[1], len(faces), pk),
                ).fetchone()
                for user_id in {f.user_id for f in faces if f.user_id is not None}:
                    conn.execute(USER_STATUS_SQL, (pk, user_id))
            # We hold the write lock, so nobody in this process committed in between.
            # Rows got consecutive seqs (one writer, AUTOINCREMENT); if that ever doesn't
            # hold, skip the shortcut and let the next search catch up from the database.
            if after - before == len(faces):
                seqs = np.arange(before + 1, after + 1, dtype=np.int64)
                self._indexes.added(pk, generation, deletions, seqs, vectors)

    @staticmethod
    def _last_seq(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'faces'").fetchone()
        return row[0] if row else 0

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
        with self._reading() as conn:
            pk = self._pk(conn, collection_id)
            where: list[str] = ["collection_pk = ?"]
            params: list[object] = [pk]
            if after is not None:
                where.append("face_id > ?")
                params.append(after)
            if user_id is not None:
                where.append("user_id = ?")
                params.append(user_id)
            if face_ids is not None:
                if not face_ids:
                    return Page([], None)
                where.append(f"face_id IN ({placeholders(len(face_ids))})")
                params.extend(face_ids)
            rows = conn.execute(
                f"SELECT {FACE_COLUMNS} FROM faces WHERE {' AND '.join(where)} ORDER BY face_id LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
        next_token = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_token = self._tokens.encode(scope, rows[-1][1])
        return Page([face_from_row(r) for r in rows], next_token)

    def get_faces(self, collection_id: str, face_ids: list[str]) -> dict[str, FaceRecord]:
        found: dict[str, FaceRecord] = {}
        with self._reading() as conn:
            pk = self._pk(conn, collection_id)
            for part in chunks(list(dict.fromkeys(face_ids))):
                for row in conn.execute(
                    f"SELECT {FACE_COLUMNS} FROM faces WHERE collection_pk = ? "
                    f"AND face_id IN ({placeholders(len(part))})",
                    (pk, *part),
                ):
                    found[row[1]] = face_from_row(row)
        return found

    def delete_faces(self, collection_id: str, face_ids: list[str]) -> list[str]:
        wanted = list(dict.fromkeys(face_ids))
        deleted: dict[str, int] = {}
        with self._writing() as conn:
            with write_transaction(conn):
                pk = self._pk(conn, collection_id)
                users: set[str] = set()
                for part in chunks(wanted):
                    for seq, face_id, user_id in conn.execute(
                        # A face that belongs to a user stays: it must be disassociated first.
                        f"DELETE FROM faces WHERE collection_pk = ? AND user_id IS NULL "
                        f"AND face_id IN ({placeholders(len(part))}) "
                        "RETURNING seq, face_id, user_id",
                        (pk, *part),
                    ).fetchall():
                        deleted[face_id] = seq
                        if user_id is not None:
                            users.add(user_id)
                if not deleted:
                    return []
                generation, deletions = conn.execute(
                    "UPDATE collections SET face_count = face_count - ?, "
                    "generation = generation + 1, deletions = deletions + 1 "
                    "WHERE pk = ? RETURNING generation, deletions",
                    (len(deleted), pk),
                ).fetchone()
                for user_id in users:
                    conn.execute(USER_STATUS_SQL, (pk, user_id))
            seqs = np.sort(np.fromiter(deleted.values(), dtype=np.int64, count=len(deleted)))
            self._indexes.removed(pk, generation, deletions, seqs)
        return [face_id for face_id in wanted if face_id in deleted]

    def search(self, collection_id: str, vector: np.ndarray, limit: int, min_cosine: float) -> list[Match]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self._reading() as conn:
            row = conn.execute(
                "SELECT pk, dimension, generation, deletions FROM collections WHERE collection_id = ?",
                (collection_id,),
            ).fetchone()
            if row is None:
                raise CollectionMissing(collection_id)
            try:
                index = self._indexes.fresh(conn, CollectionState(*row))
            except CollectionMissing:  # deleted by another process a moment ago
                raise CollectionMissing(collection_id) from None
            if index is None or limit <= 0:
                return []
            if len(query) != index.dim:
                raise ValueError(f"query has {len(query)} dimensions, collection {index.dim}")
            seqs, scores = index.search(query, limit, min_cosine)
            if len(seqs) == 0:
                return []
            # seq -> face id here rather than in RAM (saves ~90 bytes a face) and it drops
            # any face that another process deleted since the index was caught up.
            # (The collection test is written "+collection_pk" so that SQLite looks the seqs
            # up by rowid instead of scanning the collection's index.)
            ids: dict[int, str] = {}
            for part in chunks(seqs.tolist()):
                ids.update(
                    conn.execute(
                        f"SELECT seq, face_id FROM faces WHERE seq IN ({placeholders(len(part))})"
                        " AND +collection_pk = ?",
                        (*part, row[0]),
                    ).fetchall()
                )
        return [
            # float32 dot products of unit vectors can land a hair outside [-1, 1].
            Match(ids[seq], min(1.0, max(-1.0, float(score))))
            for seq, score in zip(seqs.tolist(), scores.tolist(), strict=True)
            if seq in ids
        ]

    def index_nbytes(self, collection_id: str) -> int:
        """RAM held by the collection's vector index (0 until its first search)."""
        with self._reading() as conn:
            return self._indexes.nbytes(self._pk(conn, collection_id))

    # ------------------------------------------------------------------ users

    def create_user(self, collection_id: str, user_id: str) -> None:
        with self._transaction() as conn:
            pk = self._pk(conn, collection_id)
            try:
                conn.execute(
                    "INSERT INTO users (collection_pk, user_id, status, created_at) "
                    "VALUES (?, ?, 'CREATED', ?)",
                    (pk, user_id, time.time()),
                )
            except sqlite3.IntegrityError as exc:
                raise UserExists(user_id) from exc

    def get_user(self, collection_id: str, user_id: str) -> UserRecord:
        with self._reading() as conn:
            pk = self._pk(conn, collection_id)
            row = conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE collection_pk = ? AND user_id = ?",
                (pk, user_id),
            ).fetchone()
        if row is None:
            raise UserMissing(user_id)
        return user_from_row(row)

    def delete_user(self, collection_id: str, user_id: str) -> None:
        with self._transaction() as conn:
            pk = self._pk(conn, collection_id)
            gone = conn.execute(
                "DELETE FROM users WHERE collection_pk = ? AND user_id = ?", (pk, user_id)
            ).rowcount
            if not gone:
                raise UserMissing(user_id)
            # Its faces stay in the collection, unassociated.
            conn.execute(
                "UPDATE faces SET user_id = NULL WHERE collection_pk = ? AND user_id = ?",
                (pk, user_id),
            )

    def list_users(self, collection_id: str, token: str | None, limit: int) -> Page[UserRecord]:
        limit = max(1, limit)
        scope = users_scope(collection_id)
        after = self._tokens.decode(scope, token).key if token is not None else ""
        with self._reading() as conn:
            pk = self._pk(conn, collection_id)
            rows = conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE collection_pk = ? AND user_id > ? "
                "ORDER BY user_id LIMIT ?",
                (pk, after, limit + 1),
            ).fetchall()
        next_token = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_token = self._tokens.encode(scope, rows[-1][0])
        return Page([user_from_row(r) for r in rows], next_token)

    def _require_user(self, conn: sqlite3.Connection, pk: int, user_id: str) -> None:
        if not conn.execute(
            "SELECT 1 FROM users WHERE collection_pk = ? AND user_id = ?", (pk, user_id)
        ).fetchone():
            raise UserMissing(user_id)

    def associate_faces(
        self, collection_id: str, user_id: str, face_ids: list[str], max_faces: int
    ) -> list[str]:
        """Give the listed faces to the user; returns the faces newly given.

        Faces that don't exist or already belong to any user are left alone (the
        caller reports those). The per-user limit is checked inside the same write
        transaction, so concurrent calls cannot push a user past it."""

        def at_most_max_faces(conn: sqlite3.Connection, pk: int) -> None:
            (held,) = conn.execute(
                "SELECT COUNT(*) FROM faces WHERE collection_pk = ? AND user_id = ?", (pk, user_id)
            ).fetchone()
            if held > max_faces:
                raise UserFaceLimit(user_id)  # rolls the whole transaction back

        return self._move_faces(
            collection_id,
            user_id,
            face_ids,
            "SET user_id = ? WHERE collection_pk = ? AND user_id IS NULL",
            lambda pk: (user_id, pk),
            at_most_max_faces,
        )

    def disassociate_faces(self, collection_id: str, user_id: str, face_ids: list[str]) -> list[str]:
        """Take the listed faces from the user; returns the faces taken."""
        return self._move_faces(
            collection_id,
            user_id,
            face_ids,
            "SET user_id = NULL WHERE collection_pk = ? AND user_id = ?",
            lambda pk: (pk, user_id),
            lambda _conn, _pk: None,
        )

    def _move_faces(
        self,
        collection_id: str,
        user_id: str,
        face_ids: list[str],
        assignment: str,
        arguments: Callable[[int], tuple[object, ...]],
        check: Callable[[sqlite3.Connection, int], None],
    ) -> list[str]:
        """One UPDATE of faces' owner per chunk of ids, the user's status refreshed,
        all in one transaction; returns the ids the UPDATE touched."""
        with self._transaction() as conn:
            pk = self._pk(conn, collection_id)
            self._require_user(conn, pk, user_id)
            moved: list[str] = []
            for part in chunks(list(dict.fromkeys(face_ids))):
                moved += [
                    row[0]
                    for row in conn.execute(
                        f"UPDATE faces {assignment} "
                        f"AND face_id IN ({placeholders(len(part))}) RETURNING face_id",
                        (*arguments(pk), *part),
                    ).fetchall()
                ]
            check(conn, pk)
            conn.execute(USER_STATUS_SQL, (pk, user_id))
        return moved

    # ------------------------------------------------------------ idempotency

    def request_lock(self, scope: str, token: str) -> AbstractContextManager[None]:
        return self._request_locks.hold(f"{scope}:{token}")

    def remember_request(self, scope: str, token: str, fingerprint: str, response_json: str) -> None:
        # First answer wins: a retry of the same request must get the original response.
        # Answers are kept for a day (a retry comes within minutes), so the table stays small.
        now = time.time()
        with self._transaction() as conn:
            conn.execute("DELETE FROM requests WHERE created_at < ?", (now - REQUEST_MEMORY_SECONDS,))
            conn.execute(
                "INSERT OR IGNORE INTO requests (scope, token, fingerprint, response_json, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (scope, token, fingerprint, response_json, now),
            )

    def recall_request(self, scope: str, token: str) -> tuple[str, str] | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT fingerprint, response_json FROM requests WHERE scope = ? AND token = ?",
                (scope, token),
            ).fetchone()
        return (row[0], row[1]) if row else None
