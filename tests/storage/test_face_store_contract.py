"""Contract tests of the `FaceStore` protocol, run against every backend.

Each backend says how to open another store object on the same database, in this process
and in a child process: SQLite on one file, PostgreSQL on a fresh database of a real
server. The tests at the end exercise SQLite's vector index below the protocol.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from openrek.storage.base import (
    Collection,
    CollectionExists,
    CollectionMissing,
    FaceRecord,
    FaceStore,
    InvalidPageToken,
    UserExists,
    UserFaceLimit,
    UserMissing,
)
from openrek.storage.postgres import PostgresFaceStore
from openrek.storage.sqlite import SqliteFaceStore
from openrek.storage.sqlite.vectors import VectorIndex

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ fixtures


@dataclass
class Backend:
    name: str
    open: Callable[[], FaceStore]  # another store object on the same database
    child_open: str  # Python statements that bind `store` in a child process


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[FaceStore] = []
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")

        def open_postgres() -> FaceStore:
            # A low exact limit, so the contract runs through the HNSW path too.
            store = PostgresFaceStore(url, exact_limit=40)
            opened.append(store)
            return store

        child = (
            f"from openrek.storage.postgres import PostgresFaceStore\nstore = PostgresFaceStore({url!r})\n"
        )
        yield Backend(request.param, open_postgres, child)
        for store in opened:
            store.close()
        return
    path = tmp_path / "openrek.sqlite3"

    def open_store() -> FaceStore:
        store = SqliteFaceStore(path)
        opened.append(store)
        return store

    child = (
        f"from openrek.storage.sqlite import SqliteFaceStore\nstore = SqliteFaceStore(Path({str(path)!r}))\n"
    )
    yield Backend(request.param, open_store, child)
    for store in opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> FaceStore:
    return backend.open()


def unit_vectors(n: int, dim: int = 128, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    unit: npt.NDArray[np.float32] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return unit


def make_collection(store: FaceStore, collection_id: str = "c1", **tags: str) -> Collection:
    c = Collection(collection_id, f"arn:aws:rekognition:us-east-1:1:collection/{collection_id}",
                   "6.0", 1700000000.0, dict(tags))  # fmt: skip
    store.create_collection(c)
    return c


def make_faces(vectors: np.ndarray, image_id: str | None = None) -> list[FaceRecord]:
    image = image_id or str(uuid.uuid4())
    return [
        FaceRecord(str(uuid.uuid4()), image, f"ext-{i}", (0.1, 0.2, 0.3, 0.4), 99.5, v)
        for i, v in enumerate(vectors)
    ]


def all_faces(store: FaceStore, collection_id: str, **filters: Any) -> list[FaceRecord]:
    out, token = [], None
    while True:
        page = store.list_faces(collection_id, token, 7, **filters)
        out += page.items
        if page.next_token is None:
            return out
        token = page.next_token


# --------------------------------------------------------------- collections


def test_collections_crud_tags_and_pagination(store: FaceStore) -> None:
    ids = ["delta", "alpha", "charlie", "bravo", "echo"]
    for cid in ids:
        make_collection(store, cid, team="a")
    with pytest.raises(CollectionExists):
        make_collection(store, "alpha")

    got = store.get_collection("charlie")
    assert got.collection_id == "charlie" and got.face_model_version == "6.0"
    assert got.tags == {"team": "a"} and got.created_at == 1700000000.0
    assert store.collection_by_arn(got.arn) == got
    with pytest.raises(CollectionMissing):
        store.collection_by_arn("arn:nope")

    listed, token, pages = [], None, 0
    while True:
        page = store.list_collections(token, 2)
        listed += [c.collection_id for c in page.items]
        pages += 1
        if page.next_token is None:
            break
        token = page.next_token
    assert listed == sorted(ids) and pages == 3

    store.tag_collection("alpha", {"env": "prod", "team": "b"})
    store.untag_collection("alpha", ["team", "absent"])
    assert store.get_collection("alpha").tags == {"env": "prod"}
    assert store.count_faces("alpha") == 0 and store.count_users("alpha") == 0

    store.delete_collection("alpha")
    for call in (
        lambda: store.get_collection("alpha"),
        lambda: store.delete_collection("alpha"),
        lambda: store.count_faces("alpha"),
        lambda: store.count_users("alpha"),
        lambda: store.tag_collection("alpha", {"a": "b"}),
        lambda: store.list_faces("alpha", None, 10),
        lambda: store.add_faces("alpha", make_faces(unit_vectors(1))),
        lambda: store.search("alpha", unit_vectors(1)[0], 1, 0.0),
        lambda: store.create_user("alpha", "u"),
    ):
        with pytest.raises(CollectionMissing):
            call()


def test_long_collection_ids_paginate_with_short_tokens(store: FaceStore) -> None:
    ids = sorted(("x" * 250) + f"{i:05d}" for i in range(5))  # 255 characters each
    for cid in ids:
        make_collection(store, cid)
    listed, token = [], None
    while True:
        page = store.list_collections(token, 2)
        listed += [c.collection_id for c in page.items]
        if page.next_token is None:
            break
        assert len(page.next_token) <= 255
        token = page.next_token
    assert listed == ids


def test_deleting_a_collection_deletes_its_faces_and_users(store: FaceStore) -> None:
    make_collection(store)
    store.add_faces("c1", make_faces(unit_vectors(5)))
    store.create_user("c1", "u1")
    store.delete_collection("c1")
    make_collection(store)
    assert store.count_faces("c1") == 0 and store.count_users("c1") == 0
    assert store.list_faces("c1", None, 10).items == []
    assert store.search("c1", unit_vectors(1)[0], 5, -1.0) == []


# --------------------------------------------------------------------- faces


def test_faces_add_list_filter_get_delete(store: FaceStore) -> None:
    make_collection(store)
    make_collection(store, "other")
    vectors = unit_vectors(25)
    faces = make_faces(vectors)
    store.add_faces("c1", faces[:20])
    store.add_faces("c1", faces[20:])
    store.add_faces("other", make_faces(unit_vectors(3, seed=1)))
    assert store.count_faces("c1") == 25 and store.count_faces("other") == 3

    listed = all_faces(store, "c1")
    assert [f.face_id for f in listed] == sorted(f.face_id for f in faces)
    by_id = {f.face_id: f for f in faces}
    for got in listed:
        want = by_id[got.face_id]
        assert got.image_id == want.image_id and got.external_image_id == want.external_image_id
        assert got.bounding_box == pytest.approx(want.bounding_box)
        assert got.confidence == pytest.approx(99.5) and got.user_id is None
        assert got.indexed_at > 0
        np.testing.assert_array_equal(got.vector, want.vector)

    some = [faces[3].face_id, faces[9].face_id, faces[17].face_id, "not-a-face"]
    assert {f.face_id for f in all_faces(store, "c1", face_ids=some)} == set(some[:3])
    assert set(store.get_faces("c1", some)) == set(some[:3])
    assert store.get_faces("other", some) == {}

    store.create_user("c1", "u1")
    assert store.associate_faces("c1", "u1", some[:2], 100) == some[:2]
    assert {f.face_id for f in all_faces(store, "c1", user_id="u1")} == set(some[:2])

    # faces[3] belongs to u1: kept until disassociated.
    assert store.delete_faces("c1", [faces[3].face_id]) == []
    assert store.disassociate_faces("c1", "u1", [faces[3].face_id]) == [faces[3].face_id]
    deleted = store.delete_faces("c1", [faces[3].face_id, "not-a-face", faces[4].face_id])
    assert deleted == [faces[3].face_id, faces[4].face_id]
    assert store.delete_faces("c1", [faces[3].face_id]) == []
    assert store.count_faces("c1") == 23 == len(all_faces(store, "c1"))
    assert faces[3].face_id not in store.get_faces("c1", [faces[3].face_id])


def test_add_faces_is_atomic_and_checks_dimensions(store: FaceStore) -> None:
    make_collection(store)
    store.add_faces("c1", make_faces(unit_vectors(3)))
    batch = make_faces(unit_vectors(4, seed=2))
    batch[2] = FaceRecord(batch[0].face_id, "i", None, (0, 0, 1, 1), 90.0, batch[2].vector)
    with pytest.raises(ValueError):
        store.add_faces("c1", batch)  # duplicate face id inside the batch
    assert store.count_faces("c1") == 3
    assert store.get_faces("c1", [f.face_id for f in batch]) == {}
    with pytest.raises(ValueError):
        store.add_faces("c1", make_faces(unit_vectors(2, dim=512)))
    assert store.count_faces("c1") == 3


# --------------------------------------------------------------------- users


def test_users_lifecycle(store: FaceStore) -> None:
    make_collection(store)
    faces = make_faces(unit_vectors(6))
    store.add_faces("c1", faces)
    names = [f"user-{i:02d}" for i in range(7)]
    for name in reversed(names):
        store.create_user("c1", name)
    with pytest.raises(UserExists):
        store.create_user("c1", "user-03")
    assert store.count_users("c1") == 7
    assert store.get_user("c1", "user-01").status == "CREATED"
    with pytest.raises(UserMissing):
        store.get_user("c1", "nobody")

    listed, token = [], None
    while True:
        page = store.list_users("c1", token, 3)
        listed += [u.user_id for u in page.items]
        if page.next_token is None:
            break
        token = page.next_token
    assert listed == names

    ids = [f.face_id for f in faces]
    assert store.associate_faces("c1", "user-01", ids[:3], 100) == ids[:3]
    assert store.get_user("c1", "user-01").status == "ACTIVE"
    # ids[2] is taken: not stolen, and not reported as given.
    assert store.associate_faces("c1", "user-02", ids[2:4], 100) == [ids[3]]
    owners = {k: v.user_id for k, v in store.get_faces("c1", ids).items()}
    assert [owners[i] for i in ids] == ["user-01"] * 3 + ["user-02", None, None]

    # ids[3] isn't theirs: only ids[0] is taken.
    assert store.disassociate_faces("c1", "user-01", [ids[0], ids[3]]) == [ids[0]]
    owners = {k: v.user_id for k, v in store.get_faces("c1", ids).items()}
    assert [owners[i] for i in ids] == [None, "user-01", "user-01", "user-02", None, None]
    store.disassociate_faces("c1", "user-02", [ids[3]])
    assert store.get_user("c1", "user-02").status == "CREATED"

    with pytest.raises(UserFaceLimit):  # user-01 holds 2; 2 more would pass a limit of 3
        store.associate_faces("c1", "user-01", ids[4:6], 3)
    assert store.get_faces("c1", ids[4:6])[ids[4]].user_id is None  # rolled back
    with pytest.raises(UserMissing):
        store.associate_faces("c1", "nobody", ids[:1], 100)
    with pytest.raises(UserMissing):
        store.delete_user("c1", "nobody")

    store.delete_user("c1", "user-01")  # its faces stay, unassociated
    assert store.count_faces("c1") == 6
    assert all(f.user_id is None for f in store.get_faces("c1", ids).values())
    assert store.count_users("c1") == 6
    with pytest.raises(UserMissing):
        store.get_user("c1", "user-01")


# -------------------------------------------------------------------- search


@pytest.mark.parametrize("dim", [128, 512])
def test_search_is_exact_on_random_unit_vectors(store: FaceStore, dim: int) -> None:
    make_collection(store)
    vectors = unit_vectors(600, dim)
    faces = make_faces(vectors)
    store.add_faces("c1", faces)
    ids = np.array([f.face_id for f in faces])
    for q in unit_vectors(15, dim, seed=5):
        scores = vectors @ q
        order = np.argsort(-scores)[:10]
        got = store.search("c1", q, 10, -1.0)
        assert [m.face_id for m in got] == list(ids[order])
        assert [m.cosine for m in got] == pytest.approx(scores[order].tolist(), abs=1e-5)
        # min_cosine cuts the tail; limit caps the head
        cut = float(scores[order[4]] + scores[order[5]]) / 2  # between 5th and 6th
        assert [m.face_id for m in store.search("c1", q, 10, cut)] == list(ids[order[:5]])
    assert store.search("c1", vectors[7], 1, 0.99)[0].face_id == faces[7].face_id


def test_a_small_collection_beside_a_big_one_finds_its_own_nearest(store: FaceStore) -> None:
    """Both collections share one face model version (on PostgreSQL one HNSW graph, walked
    with a filter); the small one's searches meet the big one's faces first and must
    still gather their own."""
    make_collection(store, "big")
    make_collection(store, "small")
    store.add_faces("big", make_faces(unit_vectors(1500, seed=1)))
    own = unit_vectors(60, seed=2)
    faces = make_faces(own)
    store.add_faces("small", faces)
    noisy = own + 0.05 * unit_vectors(60, seed=3)
    for i, query in enumerate(noisy / np.linalg.norm(noisy, axis=1, keepdims=True)):
        found = store.search("small", query, 5, -1.0)
        assert len(found) == 5 and found[0].face_id == faces[i].face_id


def test_the_scan_budget_grows_as_a_collections_share_of_the_graph_shrinks() -> None:
    from openrek.storage.postgres.ann import MAX_SCAN_TUPLES, MIN_SCAN_TUPLES, scan_budget

    assert scan_budget(400, 1_000_000, 1_000_000) == MIN_SCAN_TUPLES  # a collection alone in its graph
    assert scan_budget(400, 100_000, 10_000_000) == 80_000  # 1%: twice 400 / 0.01
    assert scan_budget(400, 60_000, 20_000_000) == 266_666
    assert scan_budget(400, 10, 20_000_000) == MAX_SCAN_TUPLES  # bounded, whatever the share


def test_search_sees_adds_and_never_deleted_faces(store: FaceStore) -> None:
    make_collection(store)
    assert store.search("c1", unit_vectors(1)[0], 5, -1.0) == []  # empty collection
    vectors = unit_vectors(50)
    faces = make_faces(vectors)
    store.add_faces("c1", faces[:40])
    assert store.search("c1", vectors[45], 1, 0.99) == []
    store.add_faces("c1", faces[40:])  # after the index exists: searchable at once
    assert store.search("c1", vectors[45], 1, 0.99)[0].face_id == faces[45].face_id
    store.delete_faces("c1", [faces[45].face_id, faces[2].face_id])
    for q in (vectors[45], vectors[2]):
        got = {m.face_id for m in store.search("c1", q, 50, -1.0)}
        assert faces[45].face_id not in got and faces[2].face_id not in got
        assert len(got) == 48


def test_two_store_objects_see_each_others_writes(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    make_collection(a)
    vectors = unit_vectors(30)
    faces = make_faces(vectors)
    a.add_faces("c1", faces[:10])
    assert b.search("c1", vectors[3], 1, 0.99)[0].face_id == faces[3].face_id  # b loads
    assert a.search("c1", vectors[3], 1, 0.99)[0].face_id == faces[3].face_id  # a loads
    b.add_faces("c1", faces[10:20])
    assert a.search("c1", vectors[15], 1, 0.99)[0].face_id == faces[15].face_id
    a.delete_faces("c1", [faces[15].face_id, faces[3].face_id])
    assert b.search("c1", vectors[15], 1, 0.99) == []
    assert b.search("c1", vectors[3], 1, 0.99) == []
    a.add_faces("c1", faces[20:])
    assert b.search("c1", vectors[25], 1, 0.99)[0].face_id == faces[25].face_id
    assert b.count_faces("c1") == 28 == len(all_faces(b, "c1"))
    b.delete_collection("c1")
    with pytest.raises(CollectionMissing):
        a.search("c1", vectors[0], 1, 0.0)
    make_collection(b)
    assert a.search("c1", vectors[25], 5, -1.0) == []  # same id, different collection


def test_threads_add_and_search_concurrently(store: FaceStore) -> None:
    make_collection(store)
    errors: list[BaseException] = []
    added: list[list[FaceRecord]] = [[] for _ in range(8)]

    def worker(w: int) -> None:
        try:
            for batch in range(15):
                faces = make_faces(unit_vectors(5, seed=1000 * w + batch))
                store.add_faces("c1", faces)
                added[w] += faces
                probe = faces[batch % 5]
                hit = store.search("c1", probe.vector, 1, 0.99)
                assert hit and hit[0].face_id == probe.face_id
                store.list_faces("c1", None, 20)
                store.count_faces("c1")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    everything = {f.face_id for faces in added for f in faces}
    assert len(everything) == 8 * 15 * 5
    assert store.count_faces("c1") == len(everything)
    assert {f.face_id for f in all_faces(store, "c1")} == everything
    for faces in added:
        assert store.search("c1", faces[-1].vector, 1, 0.99)[0].face_id == faces[-1].face_id


# ---------------------------------------------------------------- pagination


def test_page_tokens_refuse_tampering_and_other_listings(store: FaceStore) -> None:
    make_collection(store)
    make_collection(store, "c2")
    faces = make_faces(unit_vectors(12))
    store.add_faces("c1", faces)
    store.add_faces("c2", make_faces(unit_vectors(12, seed=3)))
    for i in range(4):
        store.create_user("c1", f"u{i}")
    token = store.list_faces("c1", None, 5).next_token
    assert token is not None and len(token) <= 255
    assert len(store.list_faces("c1", token, 5).items) == 5

    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    bad_tokens = [flipped, "!!!", "", "AAAA", token + "AA", token[:-4], "x" * 300]
    for bad in bad_tokens:
        with pytest.raises(InvalidPageToken):
            store.list_faces("c1", bad, 5)
    with pytest.raises(InvalidPageToken):
        store.list_faces("c2", token, 5)  # another collection
    with pytest.raises(InvalidPageToken):
        store.list_faces("c1", token, 5, user_id="u1")  # another filter
    with pytest.raises(InvalidPageToken):
        store.list_users("c1", token, 5)  # another kind of listing
    with pytest.raises(InvalidPageToken):
        store.list_collections(token, 5)
    users_token = store.list_users("c1", None, 2).next_token
    assert users_token is not None
    with pytest.raises(InvalidPageToken):
        store.list_faces("c1", users_token, 5)


# --------------------------------------------------------------- idempotency


def test_idempotency_remember_and_recall(backend: Backend) -> None:
    store = backend.open()
    assert store.recall_request("IndexFaces", "tok-1") is None
    store.remember_request("IndexFaces", "tok-1", "fp-a", '{"FaceRecords": []}')
    store.remember_request("IndexFaces", "tok-1", "fp-b", '{"other": 1}')  # first one wins
    store.remember_request("CreateUser", "tok-1", "fp-c", "{}")
    assert store.recall_request("IndexFaces", "tok-1") == ("fp-a", '{"FaceRecords": []}')
    assert backend.open().recall_request("CreateUser", "tok-1") == ("fp-c", "{}")


# -------------------------------------------------------------- crash safety

_CHILD = """
import sys, uuid
from pathlib import Path
import numpy as np
from openrek.storage.base import FaceRecord
{open}
rng = np.random.default_rng(int(sys.argv[1]))
start = int(sys.argv[2])
for batch in range(start, start + 100000):
    v = rng.standard_normal((10, 128)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    store.add_faces("crash", [
        FaceRecord(str(uuid.UUID(int=batch * 10 + k + 1)), "img", None,
                   (0.1, 0.1, 0.5, 0.5), 99.0, v[k])
        for k in range(10)
    ])
    print(batch, flush=True)
"""


def test_acknowledged_faces_survive_sigkill(backend: Backend) -> None:
    store = backend.open()
    make_collection(store, "crash")
    script = _CHILD.format(open=backend.child_open)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    acknowledged: list[int] = []
    start = 0
    for round_, wait_ms in enumerate((0, 7, 23)):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(round_), str(start)],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert child.stdout is not None
        for _ in range(25):
            line = child.stdout.readline()
            assert line, "child died before acknowledging its batches"
            acknowledged.append(int(line))
        time.sleep(wait_ms / 1000)  # land the kill somewhere inside a later batch
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
        acknowledged += [int(x) for x in rest.split()]  # printed before the kill landed
        start = max(acknowledged) + 2  # skip the batch that may have been cut short

        reopened = backend.open()
        count = reopened.count_faces("crash")
        listed = {f.face_id for f in all_faces(reopened, "crash")}
        assert count == len(listed) and count % 10 == 0
        want = {str(uuid.UUID(int=b * 10 + k + 1)) for b in acknowledged for k in range(10)}
        assert want <= listed
        # At most one batch a round committed but was killed before it was printed.
        assert 0 <= count - len(want) <= 10 * (round_ + 1)
        newest = str(uuid.UUID(int=max(acknowledged) * 10 + 10))
        probe = reopened.get_faces("crash", [newest])[newest]
        assert reopened.search("crash", probe.vector, 1, 0.99)[0].face_id == newest
        # The long-lived store, whose index was loaded in an earlier round, catches up
        # with the child's writes through the generation counter.
        assert store.search("crash", probe.vector, 1, 0.99)[0].face_id == newest
        assert store.count_faces("crash") == count


def test_two_processes_write_and_search_at_once(backend: Backend) -> None:
    store = backend.open()
    make_collection(store, "crash")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(open=backend.child_open), "5", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        assert child.stdout.readline()  # the child is writing
        mine = []
        for batch in range(20):  # interleaved with the child's commits
            faces = make_faces(unit_vectors(10, seed=500 + batch))
            store.add_faces("crash", faces)
            mine += faces
            assert store.search("crash", faces[0].vector, 1, 0.99)[0].face_id == faces[0].face_id
        child_batches = [0] + [int(child.stdout.readline()) for _ in range(5)]
    finally:
        child.kill()
        child.communicate()
    newest = str(uuid.UUID(int=max(child_batches) * 10 + 10))
    assert store.search("crash", store.get_faces("crash", [newest])[newest].vector, 1, 0.99)
    count = store.count_faces("crash")
    assert count == len(all_faces(store, "crash")) >= len(mine) + 10 * len(child_batches)


# -------------------------------------------------- SQLite's index, below the API


def test_sketch_index_finds_clustered_neighbours(tmp_path: Path) -> None:
    """Above the exact limit the index prefilters with sketches; same-identity samples
    (cosine ~0.65) must still come back first, including faces added and deleted after
    the index was built."""
    rng = np.random.default_rng(9)
    centres = unit_vectors(3000, seed=8)

    def sample(ids: np.ndarray) -> np.ndarray:
        v = centres[ids] + 0.75 * rng.standard_normal((len(ids), 128)).astype(np.float32) / 11.3
        unit: npt.NDArray[np.float32] = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
        return unit

    identity = np.repeat(np.arange(3000), 4)
    vectors = sample(identity)
    faces = make_faces(vectors)
    with SqliteFaceStore(tmp_path / "s.sqlite3", exact_limit=2000) as store:
        make_collection(store)
        for s in range(0, len(faces), 4000):
            store.add_faces("c1", faces[s : s + 4000])
        queries = rng.integers(0, 3000, 150)
        qv = sample(queries)
        truth = np.argmax(qv @ vectors.T, axis=1)
        hits = sum(
            store.search("c1", q, 5, -1.0)[0].face_id == faces[t].face_id
            for q, t in zip(qv, truth, strict=True)
        )
        assert hits >= 0.97 * len(queries)
        extra = make_faces(sample(np.arange(10)))
        store.add_faces("c1", extra)  # the delta: searchable at once
        assert store.search("c1", extra[4].vector, 1, 0.99)[0].face_id == extra[4].face_id
        gone = [f.face_id for f in faces[:2000]]  # enough tombstones to force compaction
        store.delete_faces("c1", gone)
        for f in faces[:40]:
            assert all(m.face_id not in gone for m in store.search("c1", f.vector, 10, -1.0))
        assert store.search("c1", faces[2001].vector, 1, 0.99)[0].face_id == faces[2001].face_id


def test_vector_index_unit() -> None:
    index = VectorIndex(128, exact_limit=10)
    vectors = unit_vectors(100)
    index.append(np.arange(1, 51), vectors[:50])
    index.append(np.arange(60, 110), vectors[50:])
    with pytest.raises(ValueError):
        index.append(np.array([5]), vectors[:1])  # not newer than the index
    seqs, scores = index.search(vectors[70], 3, -1.0)
    assert seqs[0] == 80 and scores[0] == pytest.approx(1.0, abs=1e-5)
    index.remove(np.array([80, 999]))
    assert 80 not in index.search(vectors[70], 100, -1.0)[0]
    index.retain(np.setdiff1d(np.r_[1:51, 60:110], [1, 2, 3]))
    assert index.live_count == 96
    assert set(index.live_seqs()) == set(np.setdiff1d(np.r_[1:51, 60:110], [1, 2, 3, 80]))
    assert len(index.search(vectors[0], 1000, -1.0)[0]) == 96
