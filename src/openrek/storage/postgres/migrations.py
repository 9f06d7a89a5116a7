"""The PostgreSQL schema, as numbered migrations applied in order.

`schema_migrations` records each version applied. Every process that opens the store
calls `migrate`, and `openrek db migrate` does it ahead of a roll-out; both run under one
advisory lock, so many servers starting at once apply each migration exactly once. A
database migrated by a newer openrek (a version this code does not know) is refused
rather than written to.

Text columns that are listed in order use COLLATE "C": pages come in byte order whatever
locale the operator's database was created with, as they do on SQLite.
"""

from __future__ import annotations

import psycopg

from ..base import StoreError

# Any constant of our own: the lock only serialises openrek's migrators.
_MIGRATION_LOCK = 0x6F70656E72656B  # "openrek"

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "collections, faces, users, requests",
        """
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE meta (
    key text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE collections (
    pk bigserial PRIMARY KEY,
    collection_id text COLLATE "C" NOT NULL UNIQUE,
    arn text NOT NULL UNIQUE,
    face_model_version text NOT NULL,
    created_at double precision NOT NULL,
    tags jsonb NOT NULL DEFAULT '{}',
    dimension integer,
    face_count bigint NOT NULL DEFAULT 0
);

-- model_version and dimension repeat the collection's on every face: each face model
-- version has its own partial HNSW index (see ann.py), and an index predicate can only
-- name the row's own columns.
CREATE TABLE faces (
    seq bigserial PRIMARY KEY,
    collection_pk bigint NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,
    face_id text COLLATE "C" NOT NULL,
    image_id text NOT NULL,
    external_image_id text,
    box_width double precision NOT NULL,
    box_height double precision NOT NULL,
    box_left double precision NOT NULL,
    box_top double precision NOT NULL,
    confidence double precision NOT NULL,
    user_id text COLLATE "C",
    indexed_at double precision NOT NULL,
    model_version text NOT NULL,
    dimension integer NOT NULL,
    embedding vector NOT NULL
);
CREATE UNIQUE INDEX faces_by_id ON faces (collection_pk, face_id);
CREATE INDEX faces_by_user ON faces (collection_pk, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE users (
    collection_pk bigint NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,
    user_id text COLLATE "C" NOT NULL,
    status text NOT NULL,
    created_at double precision NOT NULL,
    PRIMARY KEY (collection_pk, user_id)
);

CREATE TABLE requests (
    scope text NOT NULL,
    token text NOT NULL,
    fingerprint text NOT NULL,
    response_json text NOT NULL,
    created_at double precision NOT NULL,
    PRIMARY KEY (scope, token)
);
CREATE INDEX requests_by_age ON requests (created_at);
""",
    ),
    (
        2,
        "video and bulk-analysis jobs, claimed by workers under a lease",
        """
CREATE TABLE jobs (
    job_id text COLLATE "C" PRIMARY KEY,
    api text NOT NULL,
    status text NOT NULL,
    status_message text,
    request_json text NOT NULL,
    client_token text,
    job_tag text,
    created_at double precision NOT NULL,
    finished_at double precision,
    -- The claim: which worker runs the job, until when its lease holds, and how many
    -- claims the job has had (a result is recorded only by the current one).
    worker text,
    lease_until timestamptz,
    attempt integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_by_token ON jobs (api, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX jobs_waiting ON jobs (created_at) WHERE status = 'IN_PROGRESS';
CREATE INDEX jobs_newest ON jobs (api, created_at DESC, job_id DESC);

CREATE TABLE job_results (
    job_id text COLLATE "C" PRIMARY KEY REFERENCES jobs(job_id) ON DELETE CASCADE,
    results_json text NOT NULL
);
""",
    ),
    (
        3,
        "the celebrity gallery",
        """
CREATE TABLE celebrities (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    urls text NOT NULL,
    known_gender text,
    added_at double precision NOT NULL
);
-- Matching is a numpy product over a few thousand vectors at most, done in each server:
-- raw float32 bytes, like SQLite's, rather than a pgvector column.
CREATE TABLE celebrity_faces (
    seq bigserial PRIMARY KEY,
    celebrity_id text COLLATE "C" NOT NULL REFERENCES celebrities(id) ON DELETE CASCADE,
    face_model_version text NOT NULL,
    vector bytea NOT NULL,
    photo_sha256 text NOT NULL
);
CREATE INDEX celebrity_faces_by_version ON celebrity_faces (face_model_version);
-- Bumped by every change, so each server knows when to re-read the vectors it caches.
CREATE TABLE celebrity_gallery_generation (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    generation bigint NOT NULL
);
INSERT INTO celebrity_gallery_generation (generation) VALUES (0);
""",
    ),
    (
        4,
        "stream processors and the video-stream registry, processors claimed under a lease",
        """
CREATE TABLE video_streams (
    name text COLLATE "C" PRIMARY KEY,
    url text NOT NULL,
    registered_at double precision NOT NULL
);

CREATE TABLE stream_processors (
    name text COLLATE "C" PRIMARY KEY,
    arn text NOT NULL UNIQUE,
    definition_json text NOT NULL,
    status text NOT NULL,
    status_message text,
    session_id text,
    start_json text,
    tags_json text NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    -- The claim on a running session: the process that runs it, until when its lease
    -- holds, and a count of claims that only grows (a status is written only by the
    -- current claim, so a process that lost its claim cannot overwrite the new one's).
    holder text,
    lease_until timestamptz,
    claims integer NOT NULL DEFAULT 0
);
CREATE INDEX stream_processors_active ON stream_processors (updated_at)
    WHERE status IN ('STARTING', 'RUNNING', 'STOPPING');
""",
    ),
    (
        5,
        "Custom Labels projects, dataset entries and model files",
        """
-- A project is one document (its datasets, versions and policies), changed under a
-- row lock; has_work marks documents with work to claim, so claiming loops need not
-- read every project.
CREATE TABLE custom_labels_projects (
    name text COLLATE "C" PRIMARY KEY,
    document jsonb NOT NULL,
    created_at double precision NOT NULL,
    has_work boolean NOT NULL DEFAULT false
);
CREATE INDEX custom_labels_projects_with_work ON custom_labels_projects (name) WHERE has_work;

-- A dataset's entries: its manifest lines, as JSON Lines.
CREATE TABLE custom_labels_entries (
    project text COLLATE "C" NOT NULL REFERENCES custom_labels_projects(name) ON DELETE CASCADE,
    dataset_type text NOT NULL,
    lines text NOT NULL,
    PRIMARY KEY (project, dataset_type)
);

-- A trained version's files; the version's record pins each by its SHA-256.
CREATE TABLE custom_labels_files (
    project text COLLATE "C" NOT NULL REFERENCES custom_labels_projects(name) ON DELETE CASCADE,
    version text NOT NULL,
    file_name text NOT NULL,
    sha256 text NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (project, version, file_name)
);
""",
    ),
    (
        6,
        "Face Liveness sessions and their result images",
        """
CREATE TABLE liveness_sessions (
    session_id text PRIMARY KEY,
    client_token text UNIQUE,
    settings_json text NOT NULL,
    challenge_json text NOT NULL,
    status text NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    confidence double precision,
    result_json text NOT NULL
);
CREATE INDEX liveness_sessions_by_age ON liveness_sessions (created_at);

CREATE TABLE liveness_images (
    session_id text NOT NULL REFERENCES liveness_sessions(session_id) ON DELETE CASCADE,
    slot integer NOT NULL,
    image bytea NOT NULL,
    PRIMARY KEY (session_id, slot)
);
""",
    ),
]

LATEST = MIGRATIONS[-1][0]


class NewerSchemaError(StoreError):
    pass


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        unknown = sorted(v for v in done if v > LATEST)
        if unknown:
            raise NewerSchemaError(
                f"the database has schema version {unknown[-1]}, newer than this openrek's {LATEST}; "
                "upgrade openrek on this host"
            )
        for version, description, ddl in MIGRATIONS:
            if version in done:
                continue
            conn.execute(ddl.encode())  # several statements: sent as one simple query
            conn.execute(
                "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)", (version, description)
            )
            applied_now.append(version)
    return applied_now


def current_version(conn: psycopg.Connection) -> int:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0
