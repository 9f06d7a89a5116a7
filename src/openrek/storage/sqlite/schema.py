"""Tables, indexes and per-connection settings of the SQLite store.

Layout choices:

- `collections.pk` is a private integer key (AUTOINCREMENT, never reused), so the faces and
  users tables store a small integer instead of a collection id of up to 255 characters,
  and a collection deleted and re-created under the same id is a different collection to
  every cache in every process.
- `faces.seq` (AUTOINCREMENT) is the rowid. Only one SQLite writer runs at a time, so seqs
  grow in commit order: "faces added since I last looked" is `seq > max_seq_seen`, which is
  how a process picks up another process's additions without reloading everything. The
  in-memory index holds 8-byte seqs instead of face id strings.
- `collections.generation` is bumped by every transaction that adds or deletes faces,
  `collections.deletions` by those that delete; one cheap read of both before a search
  tells whether another process changed the vector set (user associations don't touch it).
- `collections.face_count` is kept in the same transactions, so counts are O(1) and always
  equal to the rows.
- No image bytes are stored anywhere; `faces.vector` is the raw float32 embedding.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # a writer in another process may hold the lock for a big batch

_DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS collections (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    face_model_version TEXT NOT NULL,
    created_at REAL NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    dimension INTEGER,
    face_count INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 0,
    deletions INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS faces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_pk INTEGER NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,
    face_id TEXT NOT NULL,
    image_id TEXT NOT NULL,
    external_image_id TEXT,
    box_width REAL NOT NULL,
    box_height REAL NOT NULL,
    box_left REAL NOT NULL,
    box_top REAL NOT NULL,
    confidence REAL NOT NULL,
    user_id TEXT,
    indexed_at REAL NOT NULL,
    vector BLOB NOT NULL
);
-- Lookups by face id and ListFaces order.
CREATE UNIQUE INDEX IF NOT EXISTS faces_by_id ON faces(collection_pk, face_id);
-- Rows of one collection in seq order (an index entry ends with the rowid): loading the
-- vector index and the cascade when a collection is deleted.
CREATE INDEX IF NOT EXISTS faces_by_collection ON faces(collection_pk);
-- Faces of a user, partial because most faces have none.
CREATE INDEX IF NOT EXISTS faces_by_user ON faces(collection_pk, user_id)
    WHERE user_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS users (
    collection_pk INTEGER NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (collection_pk, user_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS requests (
    scope TEXT NOT NULL,
    token TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (scope, token)
) WITHOUT ROWID;
"""


class NewerSchemaError(RuntimeError):
    """The file was written by a newer openrek; this one must not touch it."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the store's settings, in autocommit mode (we issue BEGIN)."""
    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,  # the pool hands it to one thread at a time
    )
    # 16 KiB pages, fixed when the file is created (a no-op afterwards, so it must come
    # before journal_mode, which creates the file): a face row is ~0.7 KB at 128-d and
    # ~2.2 KB at 512-d, and 4 KiB pages hold only one 2.2 KB row, wasting nearly half.
    conn.execute("PRAGMA page_size=16384")
    # WAL: readers never block the writer and vice versa, across processes too.
    # synchronous=FULL: a commit is fsynced before it returns, so an acknowledged write
    # survives power loss, not just a killed process.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    # 32 MiB page cache: bulk inserts into the face-id index stay in memory.
    conn.execute("PRAGMA cache_size=-32768")
    # Bound the WAL file after checkpoints instead of keeping its high-water size.
    conn.execute("PRAGMA journal_size_limit=67108864")
    return conn


def initialise(conn: sqlite3.Connection) -> bytes:
    """Create the tables if missing (safe when two processes race) and return the token
    secret shared by every process using this file."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(f"database schema {version} is newer than this openrek ({SCHEMA_VERSION})")
        # Not executescript(): it would commit our BEGIN IMMEDIATE first. (The DDL has no
        # semicolons inside comments or strings, so splitting on them is exact.)
        for statement in _DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('token_secret', ?)",
            (os.urandom(32).hex(),),
        )
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        secret = conn.execute("SELECT value FROM meta WHERE key='token_secret'").fetchone()[0]
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return bytes.fromhex(secret)
