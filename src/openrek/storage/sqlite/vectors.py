"""In-memory vector index of one collection (pure numpy, no SQL).

Vectors are unit float32, so cosine similarity is a dot product. Rows are kept in `seq`
order (the faces table's monotonic integer key), which makes "what is new since I last
looked" a single comparison and lets a seq be found by binary search.

Search strategy:

- up to `exact_limit` live rows: exact brute force, one matrix-vector product;
- above it: a 128-bit sign sketch of every vector (signs of 128 fixed random orthonormal
  projections, i.e. SimHash) is scanned with XOR + popcount. The Hamming distance of two
  sketches estimates the angle between the vectors (E[hamming] = 128 * angle / pi) whatever
  the data distribution, so the rows with the smallest distances are a candidate set that
  contains the true neighbours with high probability; the candidates are then re-ranked
  exactly with their float32 vectors. Scanning 16 bytes per face instead of 512 (128-d) or
  2048 (512-d) is what makes a million faces fast on two cores.

Why not IVF (k-means cells): face embeddings are trained to spread uniformly over the
sphere, and on such data a query's true neighbour lies in one of its top few cells only
when about 30% of the cells are probed (measured at 1M faces, 1024 cells), which is barely
better than brute force. The sketch needs no training either, so adding faces never
triggers a rebuild: new rows are sketched on arrival and searchable at once.

Concurrency: mutations are serialised by the caller (see `index_cache`); a search reads an
immutable `_View` snapshot, so it never takes a lock. Appends write past the snapshot's
row count (invisible to it) or into fresh arrays; deletions replace the `dead` array.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

SKETCH_BITS = 128
_WORDS = SKETCH_BITS // 64
EXACT_LIMIT = 50_000  # live rows up to which search is exact brute force
_CHUNK = 32_768  # rows per Hamming pass: keeps the temporaries in L2 cache
_DEAD_SCORE = np.float32(-4.0)  # below any cosine; marks deleted rows in exact mode
_DEAD_HAMMING = np.uint8(255)  # above any 128-bit distance; same in sketch mode
_PROJECTION_SEED = 0x0F_ACE5


def _projection(dim: int) -> np.ndarray:
    """Fixed (dim, 128) projection with orthonormal columns where dim >= 128.

    Orthonormal columns make the 128 bits as independent as possible; a fixed seed makes
    every process build identical sketches (not required for correctness, but it makes
    results reproducible)."""
    rng = np.random.default_rng(_PROJECTION_SEED)
    gauss = rng.standard_normal((dim, SKETCH_BITS))
    if dim >= SKETCH_BITS:
        gauss, _ = np.linalg.qr(gauss)
    return np.ascontiguousarray(gauss, dtype=np.float32)


def _dot(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """matrix @ query for one query, on the calling thread only.

    `@` hands a matrix-vector product to multi-threaded BLAS, whose threads meet at a
    barrier: on a busy 2-core machine one of them is often descheduled, and a 10k x 128
    product measured 12 ms instead of 0.5 ms. A search is one request among many, so it
    uses numpy's own single-threaded SIMD loop (einsum) and leaves the cores to the others.
    """
    scores: np.ndarray = np.einsum("ij,j->i", matrix, query)
    return scores


def _sketch(vectors: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """(n, dim) float32 -> (_WORDS, n) uint64 sign sketches (word-major for the scan)."""
    out = np.empty((_WORDS, len(vectors)), dtype=np.uint64)
    for start in range(0, len(vectors), _CHUNK):
        part = vectors[start : start + _CHUNK]
        # Bulk loads are worth BLAS's threads; a few rows (a query, a small IndexFaces) aren't.
        projected = part @ projection if len(part) > 128 else np.einsum("ij,jk->ik", part, projection)
        bits = projected > 0
        out[:, start : start + _CHUNK] = np.packbits(bits, axis=1).view(np.uint64).T
    return out


if hasattr(np, "bitwise_count"):  # numpy >= 2.0

    def _popcount(words: np.ndarray, out: np.ndarray) -> None:
        np.bitwise_count(words, out=out)

else:  # numpy 1.x: a byte lookup table, slower but the same answer
    _BYTE_POP = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)

    def _popcount(words: np.ndarray, out: np.ndarray) -> None:
        out[:] = _BYTE_POP[words.view(np.uint8)].reshape(-1, 8).sum(axis=1, dtype=np.uint8)


def _hamming(codes: np.ndarray, n: int, query: np.ndarray) -> np.ndarray:
    """Hamming distance of the query sketch to each of the first n sketches (uint8).

    Both words of a chunk go through each ufunc together (3 calls a chunk): at 1M faces
    the per-call overhead is a visible part of the ~4 ms scan."""
    dist = np.empty(n, dtype=np.uint8)
    m = min(n, _CHUNK)
    xor = np.empty((_WORDS, m), dtype=np.uint64)
    pop = np.empty((_WORDS, m), dtype=np.uint8)
    q = query[:, None]
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        k = stop - start
        np.bitwise_xor(codes[:, start:stop], q, out=xor[:, :k])
        _popcount(xor[:, :k], pop[:, :k])
        np.add(pop[0, :k], pop[1, :k], out=dist[start:stop])
    return dist


def _nearest_sketches(dist: np.ndarray, wanted: int) -> np.ndarray:
    """Positions of about `wanted` (at least, when possible) smallest distances.

    A full histogram or argpartition of a million bytes costs ~10-20 ms here, so the cut-off
    is estimated from a strided sample and then corrected with cheap counts."""
    n = len(dist)
    step = max(1, n // 8192)
    cumulative = np.cumsum(np.bincount(dist[::step], minlength=256))
    cut = int(np.searchsorted(cumulative, wanted / step))
    cut = min(cut, 255)
    while cut < 254 and np.count_nonzero(dist <= cut) < wanted:
        cut += 1
    while cut > 0 and np.count_nonzero(dist <= cut - 1) >= wanted:
        cut -= 1
    rows = np.flatnonzero(dist <= cut)
    if len(rows) <= 2 * wanted:
        return rows
    # Rows tied at the cut-off are equally good by sketch; cap them so that a crowded
    # bucket cannot blow up the exact re-rank (its gather is the next most costly step).
    near = dist[rows]
    below, at_cut = rows[near < cut], rows[near == cut]
    return np.concatenate([below, at_cut[: max(0, 2 * wanted - len(below))]])


@dataclass(frozen=True)
class _View:
    """What one search reads: the first `n` rows of the arrays, minus `dead` positions."""

    n: int
    seqs: np.ndarray  # int64 (capacity,), ascending
    vectors: np.ndarray  # float32 (capacity, dim)
    codes: np.ndarray  # uint64 (_WORDS, capacity)
    dead: np.ndarray  # intp, sorted positions (< n) of deleted rows


class VectorIndex:
    """Vectors of one collection with exact and sketch search; see the module docstring.

    `generation`, `deletions` and `max_seq` record which state of the database the index
    reflects; the cache that owns it compares them with the collection row."""

    def __init__(self, dim: int, exact_limit: int = EXACT_LIMIT) -> None:
        self.dim = dim
        self.exact_limit = exact_limit
        self.generation = -1  # never loaded
        self.deletions = 0
        self.max_seq = 0
        self.lock = threading.Lock()  # serialises mutations; searches don't take it
        self._projection = _projection(dim)
        self._view = _View(
            n=0,
            seqs=np.empty(0, dtype=np.int64),
            vectors=np.empty((0, dim), dtype=np.float32),
            codes=np.empty((_WORDS, 0), dtype=np.uint64),
            dead=np.empty(0, dtype=np.intp),
        )

    # ----------------------------------------------------------------- size

    @property
    def live_count(self) -> int:
        view = self._view
        return view.n - len(view.dead)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (including spare capacity)."""
        v = self._view
        return v.seqs.nbytes + v.vectors.nbytes + v.codes.nbytes + v.dead.nbytes

    def reserve(self, rows: int) -> None:
        """Make room for `rows` rows in total, so a bulk load doesn't reallocate."""
        view = self._view
        if rows > len(view.seqs):
            self._view = self._grown(view, rows)

    # ------------------------------------------------------------ mutations

    def append(self, seqs: np.ndarray, vectors: np.ndarray) -> None:
        """Add rows whose seqs are all greater than every seq already held."""
        seqs = np.asarray(seqs, dtype=np.int64)
        if len(seqs) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(seqs), self.dim)
        if seqs[0] <= self.max_seq or np.any(np.diff(seqs) <= 0):
            raise ValueError("seqs must be ascending and newer than the index")
        view = self._view
        n, m = view.n, len(seqs)
        if n + m > len(view.seqs):
            # 1.5x growth: amortised O(1) appends without doubling a 1M-row matrix.
            view = self._grown(view, max(n + m, len(view.seqs) * 3 // 2, 1024))
        # Rows past `n` are invisible to searches still holding the old view.
        view.seqs[n : n + m] = seqs
        view.vectors[n : n + m] = vectors
        view.codes[:, n : n + m] = _sketch(vectors, self._projection)
        self._view = _View(n + m, view.seqs, view.vectors, view.codes, view.dead)
        self.max_seq = int(seqs[-1])

    def remove(self, seqs: np.ndarray) -> None:
        """Forget rows by seq (unknown seqs are ignored)."""
        view = self._view
        seqs = np.asarray(seqs, dtype=np.int64)
        if view.n == 0 or len(seqs) == 0:
            return
        held = view.seqs[: view.n]
        pos = np.searchsorted(held, seqs)
        inside = pos < view.n
        pos, seqs = pos[inside], seqs[inside]
        self._mark_dead(view, pos[held[pos] == seqs])

    def retain(self, live_seqs: np.ndarray) -> None:
        """Forget every row whose seq is not in `live_seqs` (another process deleted it)."""
        view = self._view
        held = view.seqs[: view.n]
        gone = np.flatnonzero(~np.isin(held, np.asarray(live_seqs, dtype=np.int64)))
        self._mark_dead(view, gone)

    def live_seqs(self) -> np.ndarray:
        view = self._view
        keep = np.ones(view.n, dtype=bool)
        keep[view.dead] = False
        return view.seqs[: view.n][keep]

    def _mark_dead(self, view: _View, positions: np.ndarray) -> None:
        if len(positions) == 0:
            return
        dead = np.union1d(view.dead, positions.astype(np.intp))
        if len(dead) > max(1024, view.n // 16):
            # Too many tombstones slow every search (they are patched into each scan):
            # compact into fresh arrays. Old views keep the old arrays alive meanwhile.
            self._view = self._compacted(view, dead)
        else:
            self._view = _View(view.n, view.seqs, view.vectors, view.codes, dead)

    def _grown(self, view: _View, capacity: int) -> _View:
        seqs = np.empty(capacity, dtype=np.int64)
        vectors = np.empty((capacity, self.dim), dtype=np.float32)
        codes = np.empty((_WORDS, capacity), dtype=np.uint64)
        seqs[: view.n] = view.seqs[: view.n]
        vectors[: view.n] = view.vectors[: view.n]
        codes[:, : view.n] = view.codes[:, : view.n]
        return _View(view.n, seqs, vectors, codes, view.dead)

    def _compacted(self, view: _View, dead: np.ndarray) -> _View:
        keep = np.ones(view.n, dtype=bool)
        keep[dead] = False
        n = int(keep.sum())
        spare = n + n // 8 + 16
        seqs = np.empty(spare, dtype=np.int64)
        vectors = np.empty((spare, self.dim), dtype=np.float32)
        codes = np.empty((_WORDS, spare), dtype=np.uint64)
        seqs[:n] = view.seqs[: view.n][keep]
        vectors[:n] = view.vectors[: view.n][keep]
        codes[:, :n] = view.codes[:, : view.n][:, keep]
        return _View(n, seqs, vectors, codes, np.empty(0, dtype=np.intp))

    # --------------------------------------------------------------- search

    def search(self, query: np.ndarray, limit: int, min_cosine: float) -> tuple[np.ndarray, np.ndarray]:
        """(seqs, cosines) of the best `limit` rows with cosine >= min_cosine, best first."""
        view = self._view
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(self.dim)
        live = view.n - len(view.dead)
        if limit <= 0 or live <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if live <= self.exact_limit:
            rows, scores = self._exact(view, query, limit)
        else:
            rows, scores = self._sketched(view, query, limit)
        keep = (scores >= min_cosine) & (scores > _DEAD_SCORE)
        rows, scores = rows[keep], scores[keep]
        # Best first; equal cosines in seq order so results are deterministic.
        order = np.lexsort((view.seqs[rows], -scores))[:limit]
        return view.seqs[rows[order]], scores[order]

    def _exact(self, view: _View, query: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        scores = _dot(view.vectors[: view.n], query)
        scores[view.dead] = _DEAD_SCORE
        if limit < view.n:
            rows = np.argpartition(-scores, limit - 1)[:limit]
        else:
            rows = np.arange(view.n)
        return rows, scores[rows]

    def _sketched(self, view: _View, query: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        dist = _hamming(view.codes, view.n, _sketch(query[None, :], self._projection)[:, 0])
        dist[view.dead] = _DEAD_HAMMING
        # Candidate budget: at 1M clustered faces 1024 already gives recall@1 ~0.997;
        # more room when the caller wants many results.
        rows = _nearest_sketches(dist, candidates_for(limit))
        rows = rows[dist[rows] != _DEAD_HAMMING]
        rows.sort()  # ascending gather is friendlier to the memory system
        return rows, _dot(view.vectors[rows], query)


def candidates_for(limit: int) -> int:
    """How many sketch candidates are re-ranked exactly for a query asking `limit`."""
    return 1024 + 2 * limit
