"""A pool of psycopg 3 connections, and what a lost database looks like to the stores.

Every connection handed out is checked first (a cheap round trip), so after the database
restarts the pool replaces its dead connections instead of failing one request per
stale connection. A request whose connection dies under it gets `StoreUnavailable`,
which the API answers as InternalServerError (boto3 retries those); the next request
gets a fresh connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool, PoolTimeout

from ..base import StoreUnavailable, StoreUnusable

# Seconds a request waits for a connection (or for the database to come back) before
# it is answered with an error.
CONNECT_TIMEOUT_S = 10.0


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)  # numpy arrays <-> vector / halfvec
    conn.autocommit = True  # transactions are opened explicitly, nothing is left idle in one


def open_pool(url: str, max_size: int = 20, name: str = "openrek") -> ConnectionPool:
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        configure=_configure,
        check=ConnectionPool.check_connection,
        timeout=CONNECT_TIMEOUT_S,
        name=name,
        open=False,
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    except PoolTimeout:
        pool.close()
        raise StoreUnavailable(f"cannot connect to PostgreSQL at {redact(url)}") from None
    return pool


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable URL>"
    host, port, db = info.get("host", "localhost"), info.get("port", "5432"), info.get("dbname", "")
    return f"postgresql://{info.get('user', '')}@{host}:{port}/{db}"


@contextmanager
def connection(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A checked connection; a database that is down or goes away becomes StoreUnavailable."""
    try:
        with pool.connection() as conn:
            yield conn
    except PoolTimeout:
        raise StoreUnavailable("the database is not answering; retry shortly") from None
    except psycopg.OperationalError as error:
        raise StoreUnavailable(f"the database connection failed ({error}); retry shortly") from None


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    with connection(pool) as conn, conn.transaction():
        yield conn


def open_migrated_pool(url: str, max_size: int, name: str) -> ConnectionPool:
    """A pool on a database brought to this openrek's schema first: one that cannot be
    reached, or that a newer openrek migrated, is refused here with a line saying why."""
    from .migrations import NewerSchemaError, migrate

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_S)) as conn:
            migrate(conn)
    except psycopg.OperationalError as error:
        raise StoreUnavailable(f"cannot connect to PostgreSQL at {redact(url)} ({error})") from None
    except (NewerSchemaError, psycopg.Error) as error:
        raise StoreUnusable(redact(url), str(error)) from None
    return open_pool(url, max_size=max_size, name=name)
