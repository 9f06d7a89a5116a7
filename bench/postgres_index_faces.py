"""IndexFaces throughput with 1, 2 and 4 `openrek serve` processes sharing one PostgreSQL,
beside one server on the embedded SQLite store, in one run.

Each configuration starts its servers (real child processes, as an operator would), and
8 client threads send IndexFaces round-robin across them for a fixed number of requests:
real photos with 1 to 7 faces (face_recognition's portraits, insightface's t1, face-api's
samples). Reported: requests and faces per second, and the CPU seconds PostgreSQL's own
processes spent per indexed face (what the database costs, apart from the models).

On a machine with few cores the models are the bottleneck, so more servers cannot add
throughput there; the database's CPU per face says how many model-bound hosts one
database can serve.

Run: python bench/postgres_index_faces.py            (about 6 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.conftest import ServerProcess, rekognition_client
from tests.postgres_server import EmbeddedPostgres
from tools.eval_data import eval_data_dir, fetch

PHOTOS = [
    "face_recognition/obama.jpg",
    "face_recognition/biden.jpg",
    "insightface/t1.jpg",
    "face-api/sample1.jpg",
    "face-api/sample2.jpg",
    "face-api/sample3.jpg",
]
CLIENTS = 8


def postgres_cpu_seconds(postgres: EmbeddedPostgres) -> float:
    """CPU seconds of the postmaster and its live children (backends keep their pooled
    connections for the whole run, so their time is counted)."""
    postmaster = psutil.Process(int((postgres.data / "postmaster.pid").read_text().split()[0]))
    total = 0.0
    for process in [postmaster, *postmaster.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def run(urls: list[str], photos: list[bytes], requests: int, collection: str = "bench") -> tuple[float, int]:
    """(seconds, faces indexed) for `requests` IndexFaces spread over the servers."""
    rekognition_client(urls[0]).create_collection(CollectionId=collection)
    next_request = iter(range(requests))
    lock = threading.Lock()
    faces = [0]

    def client(k: int) -> None:
        rek = [rekognition_client(url) for url in urls]
        while True:
            with lock:
                i = next(next_request, None)
            if i is None:
                return
            answer = rek[i % len(rek)].index_faces(
                CollectionId=collection, Image={"Bytes": photos[i % len(photos)]}, MaxFaces=100
            )
            with lock:
                faces[0] += len(answer["FaceRecords"])

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, faces[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--servers", default="1,2,4")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/postgres_index_faces.md")
    args = parser.parse_args()
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    photos = [(root / p).read_bytes() for p in PHOTOS]
    load0 = os.getloadavg()[0]
    # One inference thread per server process and at most 2 requests each at once, so
    # that several processes on one machine do not oversubscribe its cores.
    env = {"OPENREK_THREADS": "1", "OPENREK_WORKERS": "2"}
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="openrek-bench-") as tmp:
        server = ServerProcess(Path(tmp) / "embedded", env=env)
        try:
            run([server.url], photos[:1], 6, "warm-up")  # warm-up: models loaded, first requests done
            seconds, faces = run([server.url], photos, args.requests)
        finally:
            server.stop()
        embedded_rate = args.requests / seconds
        rows.append(f"| 1 | embedded SQLite | {embedded_rate:.2f} | {faces / seconds:.1f} | 1.00x | - |")
        postgres = EmbeddedPostgres().start()
        try:
            for count in (int(n) for n in args.servers.split(",")):
                url = postgres.create_database(f"bench{count}")
                servers = [
                    ServerProcess(Path(tmp) / f"pg{count}-{k}", env={**env, "OPENREK_DATABASE_URL": url})
                    for k in range(count)
                ]
                try:
                    for s in servers:
                        rekognition_client(s.url).detect_faces(Image={"Bytes": photos[0]})  # warm-up
                    cpu0 = postgres_cpu_seconds(postgres)
                    seconds, faces = run([s.url for s in servers], photos, args.requests)
                    db_ms = (postgres_cpu_seconds(postgres) - cpu0) / max(1, faces) * 1e3
                finally:
                    for s in servers:
                        s.stop()
                rate = args.requests / seconds
                rows.append(
                    f"| {count} | PostgreSQL | {rate:.2f} | {faces / seconds:.1f} | {rate / embedded_rate:.2f}x | "
                    f"{db_ms:.2f} |"
                )
                print(rows[-1], flush=True)
        finally:
            postgres.stop()
    text = "\n".join(
        [
            "# IndexFaces with 1, 2 and 4 servers on one PostgreSQL",
            "",
            f"`python bench/postgres_index_faces.py --requests {args.requests}` on {platform.machine()}, "
            f"{os.cpu_count()} cores; load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
            f"{CLIENTS} client threads, round-robin over the servers; photos with 1 to 7 faces; each server "
            "OPENREK_THREADS=1, OPENREK_WORKERS=2; PostgreSQL 18.6 + pgvector 0.8.6 on the same machine.",
            "",
            "| servers | store | requests/s | faces/s | vs embedded | PostgreSQL CPU ms per face |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
