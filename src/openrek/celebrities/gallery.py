"""The celebrity gallery: names, links and face vectors in `<data-dir>/celebrities.sqlite3`
(or, with a shared database, in PostgreSQL: postgres_gallery.py).

Each face vector carries the FaceModelVersion of the model that made it: vectors of
two versions are not comparable, so a face is only ever matched against vectors of
its own version. `openrek celebrities add` embeds every photo with every installed
embedding model, so switching OPENREK_FACE_MODEL_VERSION keeps the gallery usable
without the photos (which are never stored).

The server reads the gallery while `openrek celebrities add` (another process) may be
writing it: SQLite's `data_version` tells a reader that another connection has
committed, and only then is the in-memory copy of the vectors rebuilt.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from openrek.config import Settings
from openrek.storage.sqlite.locked import LockedConnection

GALLERY_FILE = "celebrities.sqlite3"
# AWS's celebrity Ids are short strings of [0-9A-Za-z]; 8 such characters give 2e14
# values, so a random one never collides in practice (and a collision is retried).
ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 8
KNOWN_GENDERS = ("Male", "Female", "Nonbinary", "Unlisted")
MAX_URLS = 255  # GetCelebrityInfo's Urls holds at most 255 items

_SCHEMA = """
CREATE TABLE IF NOT EXISTS celebrities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    urls TEXT NOT NULL,
    known_gender TEXT,
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS celebrity_faces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    celebrity_id TEXT NOT NULL REFERENCES celebrities(id) ON DELETE CASCADE,
    face_model_version TEXT NOT NULL,
    vector BLOB NOT NULL,
    photo_sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS celebrity_faces_by_version ON celebrity_faces (face_model_version)
"""


class GalleryError(ValueError):
    """A gallery change that cannot be made as asked."""


@dataclass(frozen=True)
class Celebrity:
    celebrity_id: str
    name: str
    urls: tuple[str, ...]
    known_gender: str | None
    # FaceModelVersion -> how many face vectors of that version the celebrity has.
    faces: Mapping[str, int]

    def info(self) -> dict[str, object]:
        """Name, Urls and KnownGender as GetCelebrityInfo and RecognizeCelebrities give them."""
        answer: dict[str, object] = {"Name": self.name, "Urls": list(self.urls)}
        if self.known_gender is not None:
            answer["KnownGender"] = {"Type": self.known_gender}
        return answer


@dataclass(frozen=True)
class FaceVectors:
    """Every gallery vector of one FaceModelVersion: row i belongs to `owners[i]`; the
    rows of one celebrity are adjacent."""

    version: str
    owners: tuple[str, ...]
    vectors: np.ndarray  # (n, dimension) float32, unit rows
    celebrities: Mapping[str, Celebrity]

    def __len__(self) -> int:
        return len(self.owners)


@dataclass(frozen=True)
class Enrolment:
    """One photo's face, embedded by every installed model: version -> unit vector."""

    photo_sha256: str
    vectors: Mapping[str, np.ndarray]


def new_celebrity_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def checked_details(name: str, urls: Sequence[str], known_gender: str | None) -> None:
    if not name.strip():
        raise GalleryError("a celebrity needs a name")
    if len(urls) > MAX_URLS:
        raise GalleryError(f"at most {MAX_URLS} URLs per celebrity")
    if known_gender is not None and known_gender not in KNOWN_GENDERS:
        raise GalleryError(f"known gender must be one of {', '.join(KNOWN_GENDERS)}, not {known_gender!r}")


def celebrities_from_rows(rows: Sequence[tuple[Any, ...]]) -> list[Celebrity]:
    """Celebrities from (id, name, urls JSON, gender, face model version, face count) rows,
    one per celebrity and version, in the order given."""
    by_id: dict[str, Celebrity] = {}
    for celebrity_id, name, urls, gender, version, count in rows:
        known = by_id.get(celebrity_id)
        faces = dict(known.faces) if known else {}
        if version is not None:
            faces[version] = int(count)
        by_id[celebrity_id] = Celebrity(celebrity_id, name, tuple(json.loads(urls)), gender, faces)
    return list(by_id.values())


def face_vectors_from_rows(
    version: str, rows: Sequence[tuple[Any, ...]], everyone: Sequence[Celebrity]
) -> FaceVectors:
    """FaceVectors from (celebrity id, float32 vector bytes) rows."""
    celebrities = {c.celebrity_id: c for c in everyone}
    # Grouped by celebrity, so matching takes each one's best with one reduceat.
    kept = sorted((row for row in rows if row[0] in celebrities), key=lambda row: str(row[0]))
    owners = tuple(str(row[0]) for row in kept)
    vectors = [np.frombuffer(bytes(row[1]), np.float32) for row in kept]
    matrix = np.stack(vectors) if vectors else np.zeros((0, 0), np.float32)
    return FaceVectors(version, owners, matrix, celebrities)


class Gallery(Protocol):
    """What RecognizeCelebrities and `openrek celebrities` use; SQLite (this module) or
    PostgreSQL (postgres_gallery.py) behind it."""

    def add(
        self, name: str, urls: Sequence[str], known_gender: str | None, enrolments: Sequence[Enrolment]
    ) -> Celebrity: ...
    def remove(self, celebrity_id: str) -> bool: ...
    def get(self, celebrity_id: str) -> Celebrity | None: ...
    def everyone(self) -> list[Celebrity]: ...
    def face_vectors(self, version: str) -> FaceVectors: ...
    def close(self) -> None: ...


def open_gallery(settings: Settings) -> Gallery:
    if settings.database.postgres_url is not None:
        from openrek.celebrities.postgres_gallery import PostgresCelebrityGallery

        return PostgresCelebrityGallery(settings.database.postgres_url)
    return CelebrityGallery(settings.data_dir)


class CelebrityGallery:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self.path = data_dir / GALLERY_FILE
        # Opened when the file exists or the first celebrity is added: recognising
        # faces against no gallery writes nothing to the data directory, as a
        # non-storage operation must not.
        self._opened: LockedConnection | None = None
        self._open_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cached_version: int | None = None
        self._cached: dict[str, FaceVectors] = {}

    def _database(self, create: bool = False) -> LockedConnection | None:
        with self._open_lock:
            if self._opened is None and (create or self.path.exists()):
                self._data_dir.mkdir(parents=True, exist_ok=True)
                self._opened = LockedConnection(self.path, _SCHEMA)
                with self._opened.reading() as conn:
                    conn.execute("PRAGMA foreign_keys=ON")
            return self._opened

    @property
    def _db(self) -> LockedConnection:
        database = self._database(create=True)
        assert database is not None
        return database

    def close(self) -> None:
        with self._open_lock:
            if self._opened is not None:
                self._opened.close()

    # ------------------------------------------------------------------ changes

    def add(
        self,
        name: str,
        urls: Sequence[str],
        known_gender: str | None,
        enrolments: Sequence[Enrolment],
    ) -> Celebrity:
        """A new celebrity with the faces of `enrolments` (at least one)."""
        checked_details(name, urls, known_gender)
        if not enrolments:
            raise GalleryError("a celebrity needs at least one photo with a face")
        with self._db.transaction() as conn:
            celebrity_id = new_celebrity_id()
            while conn.execute("SELECT 1 FROM celebrities WHERE id = ?", (celebrity_id,)).fetchone():
                celebrity_id = new_celebrity_id()
            conn.execute(
                "INSERT INTO celebrities (id, name, urls, known_gender, added_at) VALUES (?, ?, ?, ?, ?)",
                (celebrity_id, name.strip(), json.dumps(list(urls)), known_gender, time.time()),
            )
            conn.executemany(
                "INSERT INTO celebrity_faces (celebrity_id, face_model_version, vector, photo_sha256) "
                "VALUES (?, ?, ?, ?)",
                [
                    (celebrity_id, version, np.asarray(vector, np.float32).tobytes(), enrolment.photo_sha256)
                    for enrolment in enrolments
                    for version, vector in sorted(enrolment.vectors.items())
                ],
            )
        self._forget_vectors()
        celebrity = self.get(celebrity_id)
        assert celebrity is not None
        return celebrity

    def remove(self, celebrity_id: str) -> bool:
        """Whether there was such a celebrity (its faces go with it)."""
        if self._database() is None:
            return False
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM celebrity_faces WHERE celebrity_id = ?", (celebrity_id,))
            removed = conn.execute("DELETE FROM celebrities WHERE id = ?", (celebrity_id,)).rowcount > 0
        self._forget_vectors()
        return bool(removed)

    def _forget_vectors(self) -> None:
        # data_version only moves for other connections' commits, not this one's.
        with self._cache_lock:
            self._cached_version = None
            self._cached = {}

    # ------------------------------------------------------------------ reading

    def get(self, celebrity_id: str) -> Celebrity | None:
        found = self._celebrities("WHERE c.id = ?", (celebrity_id,))
        return found[0] if found else None

    def everyone(self) -> list[Celebrity]:
        """Every celebrity, in the order they were added."""
        return self._celebrities("", ())

    def _celebrities(self, where: str, args: tuple[str, ...]) -> list[Celebrity]:
        database = self._database()
        if database is None:
            return []
        with database.reading() as conn:
            rows = conn.execute(
                "SELECT c.id, c.name, c.urls, c.known_gender, f.face_model_version, COUNT(f.seq) "
                f"FROM celebrities c LEFT JOIN celebrity_faces f ON f.celebrity_id = c.id {where} "
                "GROUP BY c.id, f.face_model_version ORDER BY c.added_at, c.id, f.face_model_version",
                args,
            ).fetchall()
        return celebrities_from_rows(rows)

    def face_vectors(self, version: str) -> FaceVectors:
        """The gallery's vectors of `version`, re-read only when the file has changed."""
        database = self._database()
        if database is None:
            return FaceVectors(version, (), np.zeros((0, 0), np.float32), {})
        with self._cache_lock:
            with database.reading() as conn:
                data_version = int(conn.execute("PRAGMA data_version").fetchone()[0])
                if data_version != self._cached_version:
                    # Another connection (or this one) committed: everything cached may be stale.
                    self._cached = {}
                    self._cached_version = data_version
                cached = self._cached.get(version)
                if cached is not None:
                    return cached
                rows = conn.execute(
                    "SELECT celebrity_id, vector FROM celebrity_faces WHERE face_model_version = ? "
                    "ORDER BY seq",
                    (version,),
                ).fetchall()
            cached = face_vectors_from_rows(version, rows, self.everyone())
            self._cached[version] = cached
            return cached
