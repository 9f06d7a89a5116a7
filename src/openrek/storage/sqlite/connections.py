"""A small pool of SQLite connections and the transaction helpers the store uses.

A sqlite3 connection must not be used by two threads at once, and opening one per call
costs ~100 us plus a cold page cache. The pool lends each caller its own connection for the
duration of one operation and keeps a few idle ones warm; it is not tied to threads, so
short-lived threads (a server's worker pool) don't leak connections.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .schema import connect


class ConnectionPool:
    def __init__(self, path: Path, max_idle: int = 8) -> None:
        self._path = path
        self._max_idle = max_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise RuntimeError("store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = connect(self._path)
        try:
            yield conn
        except BaseException:
            # A connection left inside a transaction (e.g. interrupted mid-statement)
            # must not be lent again.
            if conn.in_transaction:
                conn.close()
                raise
            self._release(conn)
            raise
        self._release(conn)

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

    IMMEDIATE takes the write lock up front: a deferred transaction that reads first and
    writes later can fail with SQLITE_BUSY at the upgrade without waiting for the busy
    timeout when another process committed in between."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A deferred transaction: every read inside it sees one consistent snapshot."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def placeholders(count: int) -> str:
    return ",".join("?" * count)


T = TypeVar("T")


def chunks(items: list[T], size: int = 500) -> Iterator[list[T]]:
    """Split long IN (...) lists: SQLite caps bound parameters per statement."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
