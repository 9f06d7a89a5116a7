"""The celebrity gallery in the shared PostgreSQL database: one gallery for every server.

Same behaviour as the SQLite gallery (gallery.py). Each server keeps the vectors of each
FaceModelVersion in memory for matching and re-reads them when the gallery's generation
(one row, bumped in the same transaction as every change) has moved: one small query per
RecognizeCelebrities, and a celebrity added through any host is matched everywhere at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence

import numpy as np
import psycopg

from openrek.celebrities.gallery import (
    Celebrity,
    Enrolment,
    FaceVectors,
    GalleryError,
    celebrities_from_rows,
    checked_details,
    face_vectors_from_rows,
    new_celebrity_id,
)
from openrek.storage.postgres.connections import connection, open_pool, transaction
from openrek.storage.postgres.migrations import migrate

_BUMP = "UPDATE celebrity_gallery_generation SET generation = generation + 1"


class PostgresCelebrityGallery:
    def __init__(self, url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        self._pool = open_pool(url, max_size=4, name="openrek-celebrities")
        self._cache_lock = threading.Lock()
        self._cached_generation: int | None = None
        self._cached: dict[str, FaceVectors] = {}

    def close(self) -> None:
        self._pool.close()

    def add(
        self, name: str, urls: Sequence[str], known_gender: str | None, enrolments: Sequence[Enrolment]
    ) -> Celebrity:
        checked_details(name, urls, known_gender)
        if not enrolments:
            raise GalleryError("a celebrity needs at least one photo with a face")
        with transaction(self._pool) as conn:
            celebrity_id = new_celebrity_id()
            while conn.execute("SELECT 1 FROM celebrities WHERE id = %s", (celebrity_id,)).fetchone():
                celebrity_id = new_celebrity_id()
            conn.execute(
                "INSERT INTO celebrities (id, name, urls, known_gender, added_at) VALUES (%s, %s, %s, %s, %s)",
                (celebrity_id, name.strip(), json.dumps(list(urls)), known_gender, time.time()),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO celebrity_faces (celebrity_id, face_model_version, vector, photo_sha256) "
                    "VALUES (%s, %s, %s, %s)",
                    [
                        (
                            celebrity_id,
                            version,
                            np.asarray(vector, np.float32).tobytes(),
                            enrolment.photo_sha256,
                        )
                        for enrolment in enrolments
                        for version, vector in sorted(enrolment.vectors.items())
                    ],
                )
            conn.execute(_BUMP)
        celebrity = self.get(celebrity_id)
        assert celebrity is not None
        return celebrity

    def remove(self, celebrity_id: str) -> bool:
        with transaction(self._pool) as conn:
            removed = conn.execute("DELETE FROM celebrities WHERE id = %s", (celebrity_id,)).rowcount > 0
            if removed:
                conn.execute(_BUMP)
        return removed

    def get(self, celebrity_id: str) -> Celebrity | None:
        found = self._celebrities("WHERE c.id = %s", (celebrity_id,))
        return found[0] if found else None

    def everyone(self) -> list[Celebrity]:
        return self._celebrities("", ())

    def _celebrities(self, where: str, args: tuple[str, ...]) -> list[Celebrity]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                "SELECT c.id, c.name, c.urls, c.known_gender, f.face_model_version, count(f.seq) "
                f"FROM celebrities c LEFT JOIN celebrity_faces f ON f.celebrity_id = c.id {where} "
                "GROUP BY c.id, f.face_model_version ORDER BY min(c.added_at), c.id, f.face_model_version",
                args,
            ).fetchall()
        return celebrities_from_rows(rows)

    def face_vectors(self, version: str) -> FaceVectors:
        with self._cache_lock:
            with connection(self._pool) as conn:
                row = conn.execute("SELECT generation FROM celebrity_gallery_generation").fetchone()
                generation = int(row[0]) if row else 0
                if generation != self._cached_generation:
                    self._cached, self._cached_generation = {}, generation
                cached = self._cached.get(version)
                if cached is not None:
                    return cached
                rows = conn.execute(
                    "SELECT celebrity_id, vector FROM celebrity_faces WHERE face_model_version = %s ORDER BY seq",
                    (version,),
                ).fetchall()
            cached = face_vectors_from_rows(version, rows, self.everyone())
            self._cached[version] = cached
            return cached
