"""Nearest-face search on pgvector: an HNSW index per face model version, exact re-ranking.

One `faces` table holds every collection's vectors. Each (face model version,
dimension) gets a partial HNSW index over `embedding::halfvec(D)`:

- partial, because HNSW needs one fixed dimension, and each model has its own;
- over half-precision copies, because an index of 20 million 512-d faces is then about
  half the size (pgvector keeps the graph's vectors in the index), and the candidates it
  returns are re-ranked with the full float32 vectors, so the scores are exact.

A search names the index's version and dimension as literals: a partial index is only
used when the planner can prove its predicate from the query, and it cannot from
parameters of a generic plan.

Small collections are searched exactly (their rows are found through the collection's
own index and every distance computed): below `exact_limit` faces that costs no more
than the graph at a million faces, and never misses. Above it the graph is walked with iterative scans (pgvector
0.8), so a collection that holds a small share of the table still gets `limit` matches.
"""

from __future__ import annotations

import re

import numpy as np
import psycopg
from psycopg import sql

# Collections up to this many faces are searched exactly: 37 ms at 100,000 128-d faces on
# 2 cores, about 19 ms at this limit, and never a miss (the embedded store's limit too).
EXACT_LIMIT = 50_000
# HNSW build parameters and the candidates a search keeps (hnsw.ef_search), measured by
# bench/postgres_search.py at a million 128-d faces on 2 cores (recall@1 against exact):
#   m 16, ef_construction 64 (pgvector's defaults; built in 6.4 min): 0.63 / 0.82 / 0.87 /
#     0.945 at ef_search 100 / 200 / 400 / 800;
#   m 24, ef_construction 128 (built in 16.5 min): 0.98 / 0.995 / 1.000 / 1.000, p50 23 /
#     40 / 78 / 142 ms.
# A missed match is a false "no such person", so recall wins: m 24, ef_construction 128,
# ef_search 400, the embedded index's recall at 78 ms.
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128
EF_SEARCH = 400

_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_ADVISORY_INDEX_LOCK = 0x616E6E  # "ann"


def index_name(model_version: str, dimension: int) -> str:
    return "faces_ann_" + re.sub(r"[^a-z0-9]", "_", model_version.lower()) + f"_{dimension}"


def _checked(model_version: str, dimension: int) -> tuple[str, int]:
    # Both end up in SQL text (see the module docstring): only plain values pass.
    if not _VERSION.match(model_version) or not 0 < int(dimension) <= 4000:
        raise ValueError(f"unusable face model version {model_version!r} / dimension {dimension}")
    return model_version, int(dimension)


def ensure_index(conn: psycopg.Connection, model_version: str, dimension: int) -> None:
    """Create the version's HNSW index if missing. Creating it on an empty table is
    instant; afterwards every insert keeps it current. Serialised across processes."""
    model_version, dimension = _checked(model_version, dimension)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_INDEX_LOCK,))
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {name} ON faces USING hnsw "
                "((embedding::halfvec({dim})) halfvec_cosine_ops) WITH (m = {m}, ef_construction = {ef}) "
                "WHERE model_version = {version} AND dimension = {dim}"
            ).format(
                name=sql.Identifier(index_name(model_version, dimension)),
                dim=sql.Literal(dimension),
                m=sql.Literal(HNSW_M),
                ef=sql.Literal(HNSW_EF_CONSTRUCTION),
                version=sql.Literal(model_version),
            )
        )


def exact_search(
    conn: psycopg.Connection, collection_pk: int, query: np.ndarray, limit: int, min_cosine: float
) -> list[tuple[str, float]]:
    rows = conn.execute(
        "SELECT face_id, 1 - (embedding <=> %(q)s) AS cosine FROM faces "
        "WHERE collection_pk = %(pk)s AND 1 - (embedding <=> %(q)s) >= %(min)s "
        "ORDER BY embedding <=> %(q)s, seq LIMIT %(limit)s",
        {"q": query, "pk": collection_pk, "min": min_cosine, "limit": limit},
        prepare=False,
    ).fetchall()
    return [(str(face_id), float(cosine)) for face_id, cosine in rows]


# pgvector's own hnsw.max_scan_tuples, and a ceiling on what one search may walk.
MIN_SCAN_TUPLES, MAX_SCAN_TUPLES = 20_000, 5_000_000


def scan_budget(candidates: int, collection_faces: int, index_faces: int) -> int:
    """hnsw.max_scan_tuples for a collection holding `collection_faces` of the version's
    `index_faces`: an iterative scan meets the collection's faces at about their share of
    the graph, so gathering `candidates` of them means walking candidates / share tuples.
    Twice that, so a collection that is 1% of the table still fills its candidates where
    pgvector's fixed 20,000 would stop at about 200 of them."""
    share = max(collection_faces, 1) / max(index_faces, collection_faces, 1)
    return int(min(MAX_SCAN_TUPLES, max(MIN_SCAN_TUPLES, 2 * candidates / share)))


def graph_search(
    conn: psycopg.Connection,
    collection_pk: int,
    model_version: str,
    dimension: int,
    query: np.ndarray,
    limit: int,
    min_cosine: float,
    ef_search: int | None = None,
    share: tuple[int, int] = (1, 1),
) -> list[tuple[str, float]]:
    """`share`: the collection's faces and the faces in the version's index (scan_budget)."""
    model_version, dimension = _checked(model_version, dimension)
    candidates = max(limit, EF_SEARCH if ef_search is None else ef_search)
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(min(1000, candidates))))
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        budget = scan_budget(candidates, *share)
        conn.execute(sql.SQL("SET LOCAL hnsw.max_scan_tuples = {}").format(sql.Literal(budget)))
        rows = conn.execute(
            sql.SQL(
                "SELECT face_id, 1 - (embedding <=> %(q)s) AS cosine FROM ("
                " SELECT face_id, embedding, seq FROM faces"
                " WHERE model_version = {version} AND dimension = {dim} AND collection_pk = %(pk)s"
                " ORDER BY embedding::halfvec({dim}) <=> %(q)s::halfvec({dim}) LIMIT %(candidates)s"
                ") AS near WHERE 1 - (embedding <=> %(q)s) >= %(min)s"
                " ORDER BY embedding <=> %(q)s, seq LIMIT %(limit)s"
            ).format(version=sql.Literal(model_version), dim=sql.Literal(dimension)),
            {"q": query, "pk": collection_pk, "candidates": candidates, "min": min_cosine, "limit": limit},
        ).fetchall()
    return [(str(face_id), float(cosine)) for face_id, cosine in rows]
