"""Which database a process uses, named by one URL.

- `sqlite:///ABSOLUTE/PATH` (or a bare path): the embedded default, one file; unset means
  `<data-dir>/openrek.sqlite3`.
- `postgresql://USER:PASSWORD@HOST:PORT/DB` (or `postgres://`): PostgreSQL with pgvector,
  shared by any number of servers and workers. Needs `pip install 'openrek[postgres]'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .base import FaceStore

POSTGRES_SCHEMES = ("postgresql", "postgres")


class DatabaseUrlError(ValueError):
    pass


@dataclass(frozen=True)
class Database:
    """A parsed database URL: exactly one of `sqlite_path` and `postgres_url` is set."""

    sqlite_path: Path | None = None
    postgres_url: str | None = None

    @property
    def shared(self) -> bool:
        """True when other hosts may use the same database (jobs are claimed, not assumed)."""
        return self.postgres_url is not None

    def describe(self) -> str:
        if self.postgres_url is not None:
            from .postgres.connections import redact

            return redact(self.postgres_url)
        return str(self.sqlite_path)


def parse_database_url(url: str | None, default_sqlite: Path) -> Database:
    if not url:
        return Database(sqlite_path=default_sqlite)
    parts = urlsplit(url)
    if parts.scheme in POSTGRES_SCHEMES:
        return Database(postgres_url=url)
    if parts.scheme == "sqlite":
        # sqlite:///abs/path -> /abs/path; sqlite:///relative is not accepted (ambiguous).
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise DatabaseUrlError(
                f"a SQLite URL names an absolute path, e.g. sqlite:///srv/openrek.sqlite3: {url!r}"
            )
        return Database(sqlite_path=Path(path))
    if parts.scheme == "" and url.strip():
        return Database(sqlite_path=Path(url))
    raise DatabaseUrlError(
        f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    )


def open_face_store(database: Database) -> FaceStore:
    if database.postgres_url is not None:
        try:
            from .postgres import PostgresFaceStore
        except ImportError as error:
            raise DatabaseUrlError(
                f"a PostgreSQL database needs `pip install 'openrek[postgres]'` ({error})"
            ) from None
        return PostgresFaceStore(database.postgres_url)
    from .sqlite import SqliteFaceStore

    assert database.sqlite_path is not None
    database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteFaceStore(database.sqlite_path)
