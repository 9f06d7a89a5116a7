"""Per-collection vector indexes of one store object, kept in step with the database.

Three ways the database changes, three ways the index follows:

1. This store's own writes: after the commit, and still under the store's write lock, the
   new rows are appended (or the deleted seqs removed) directly, provided the index was at
   exactly the previous generation. If it wasn't (another process wrote in between), the
   index is left as it is and rule 2 catches it up.
2. Anyone else's writes (another process, another store object on the same file): before
   each search the collection row's (generation, deletions) is read and compared with the
   index's. On a mismatch, in one read transaction: rows with seq > max_seq are appended
   (seqs grow in commit order, see schema.py), and if `deletions` moved, the set of live
   seqs is read (8 bytes a face, no vectors) and everything else is dropped.
3. First search: the same catch-up from an empty index loads every vector.

A deleted face can therefore never come back: the index is caught up before every search,
and the store's final seq -> face id lookup drops any row that has vanished meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

import numpy as np

from ..base import CollectionMissing
from .connections import read_transaction
from .vectors import EXACT_LIMIT, VectorIndex

_FETCH_ROWS = 16_384  # rows per fetchmany while loading: bounds the bytes objects alive


@dataclass(frozen=True)
class CollectionState:
    """The collection row fields that the index cares about."""

    pk: int
    dimension: int | None
    generation: int
    deletions: int


class IndexCache:
    def __init__(self, exact_limit: int = EXACT_LIMIT) -> None:
        self._exact_limit = exact_limit
        self._indexes: dict[int, VectorIndex] = {}  # by collection pk
        self._lock = threading.Lock()  # guards the dict, not the indexes

    def _index(self, pk: int, dimension: int, create: bool) -> VectorIndex | None:
        with self._lock:
            index = self._indexes.get(pk)
            if index is None and create:
                index = self._indexes[pk] = VectorIndex(dimension, self._exact_limit)
            return index

    def drop(self, pk: int) -> None:
        with self._lock:
            self._indexes.pop(pk, None)

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()

    def nbytes(self, pk: int) -> int:
        index = self._index(pk, 0, create=False)
        return index.nbytes if index is not None else 0

    # ------------------------------------------------------------ own writes

    def added(self, pk: int, generation: int, deletions: int, seqs: np.ndarray, vectors: np.ndarray) -> None:
        """This store committed `seqs` at `generation` (rule 1)."""
        index = self._index(pk, 0, create=False)
        if index is None:
            return  # not loaded: the first search will read these rows anyway
        with index.lock:
            if index.generation == generation - 1:
                index.append(seqs, vectors)
                index.generation, index.deletions = generation, deletions

    def removed(self, pk: int, generation: int, deletions: int, seqs: np.ndarray) -> None:
        index = self._index(pk, 0, create=False)
        if index is None:
            return
        with index.lock:
            if index.generation == generation - 1:
                index.remove(seqs)
                index.generation, index.deletions = generation, deletions

    # ---------------------------------------------------------------- search

    def fresh(self, conn: sqlite3.Connection, state: CollectionState) -> VectorIndex | None:
        """The collection's index, caught up to at least `state` (None while it has no
        vectors yet)."""
        if state.dimension is None:
            return None
        index = self._index(state.pk, state.dimension, create=True)
        assert index is not None
        # Generations only grow, and every deletion bumps one too, so "at least this
        # generation" is the whole freshness test.
        if index.generation >= state.generation:
            return index
        with index.lock:  # one thread catches up, concurrent searches wait for it
            if index.generation < state.generation:
                self._catch_up(conn, index, state.pk)
        return index

    def _catch_up(self, conn: sqlite3.Connection, index: VectorIndex, pk: int) -> None:
        with read_transaction(conn):
            row = conn.execute(
                "SELECT generation, deletions, face_count FROM collections WHERE pk = ?", (pk,)
            ).fetchone()
            if row is None:
                self.drop(pk)
                raise CollectionMissing(f"collection {pk} was deleted")
            generation, deletions, face_count = row
            if index.max_seq == 0:  # first load
                index.reserve(face_count + face_count // 8 + 16)
            elif deletions != index.deletions or index.generation < 0:
                # (generation < 0 with rows held: an earlier load failed part-way.)
                live = conn.execute(
                    "SELECT seq FROM faces INDEXED BY faces_by_collection WHERE collection_pk = ?",
                    (pk,),
                ).fetchall()
                index.retain(np.fromiter((s for (s,) in live), dtype=np.int64, count=len(live)))
            cursor = conn.execute(
                "SELECT seq, vector FROM faces INDEXED BY faces_by_collection "
                "WHERE collection_pk = ? AND seq > ? ORDER BY seq",
                (pk, index.max_seq),
            )
            while rows := cursor.fetchmany(_FETCH_ROWS):
                seqs, blobs = zip(*rows, strict=True)
                vectors = np.frombuffer(b"".join(blobs), dtype=np.float32)
                index.append(np.array(seqs, dtype=np.int64), vectors.reshape(len(rows), index.dim))
            index.generation, index.deletions = generation, deletions
