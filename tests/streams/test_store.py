"""The stream store on its own, against both backends: the video-stream registry, the
processors' lifecycle rules and the running limit; and, on the shared store, claims that
never overlap, a lapsed lease taken over with a new session, a stop that reaches the
holder, and status writes fenced by the claim."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openrek.streams.postgres_store import PostgresStreamStore
from openrek.streams.sqlite_store import SqliteStreamStore
from openrek.streams.store import (
    FAILED,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    ProcessorExists,
    ProcessorMissing,
    StreamStore,
    TooManyRunning,
    WrongStatus,
)

DEFINITION: dict[str, Any] = {
    "Input": {"KinesisVideoStream": {"Arn": "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1"}},
    "Output": {"KinesisDataStream": {"Arn": "arn:aws:kinesis:us-east-1:000000000000:stream/out"}},
    "Settings": {"FaceSearch": {"CollectionId": "staff"}},
    "RoleArn": "arn:aws:iam::000000000000:role/rekognition",
}


def arn(name: str) -> str:
    return f"arn:aws:rekognition:us-east-1:000000000000:streamprocessor/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], StreamStore]]:
    opened: list[StreamStore] = []
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None

    def open_one() -> StreamStore:
        store: StreamStore = PostgresStreamStore(url) if url else SqliteStreamStore(tmp_path)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def shared(postgres_url: str) -> Iterator[Callable[[], PostgresStreamStore]]:
    """Stores on one PostgreSQL database, as separate processes would open them."""
    opened: list[PostgresStreamStore] = []

    def open_one() -> PostgresStreamStore:
        opened.append(PostgresStreamStore(postgres_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def test_the_registry_resolves_names_for_every_opener(open_store: Callable[[], StreamStore]) -> None:
    store, other = open_store(), open_store()
    store.put_source("cam1", "rtsp://10.0.0.5/live")
    store.put_source("hall", "/srv/hall.mp4")
    store.put_source("cam1", "rtsp://10.0.0.6/live")  # replaced
    assert other.source("cam1") == "rtsp://10.0.0.6/live"
    assert other.sources() == [("cam1", "rtsp://10.0.0.6/live"), ("hall", "/srv/hall.mp4")]
    assert other.delete_source("hall") and not other.delete_source("hall")
    assert store.source("hall") is None


def test_processors_keep_their_definition_and_obey_the_lifecycle(
    open_store: Callable[[], StreamStore],
) -> None:
    store = open_store()
    for name in ("b-door", "a-gate", "B-yard"):
        store.create(name, arn(name), DEFINITION, {"site": name})
    with pytest.raises(ProcessorExists):
        store.create("a-gate", arn("a-gate"), DEFINITION, {})
    got = store.get("a-gate")
    assert (got.status, got.definition, got.tags, got.session_id) == (
        STOPPED,
        DEFINITION,
        {"site": "a-gate"},
        None,
    )
    assert store.by_arn(arn("b-door")).name == "b-door"
    with pytest.raises(ProcessorMissing):
        store.get("nope")
    # Pages in byte order, whatever the database's locale: upper case first.
    assert [p.name for p in store.page(None, 2)] == ["B-yard", "a-gate"]
    assert [p.name for p in store.page("a-gate", 10)] == ["b-door"]

    started = store.begin_session("a-gate", "session-1", {"StopSelector": {"MaxDurationInSeconds": 5}}, 10)
    assert (started.status, started.session_id, started.start_request) == (
        STARTING,
        "session-1",
        {"StopSelector": {"MaxDurationInSeconds": 5}},
    )
    with pytest.raises(WrongStatus, match=STARTING):
        store.begin_session("a-gate", "session-2", {}, 10)
    with pytest.raises(WrongStatus):
        store.delete("a-gate")
    assert not store.set_status("a-gate", RUNNING, only_from=(STOPPED,))
    assert store.set_status("a-gate", RUNNING, only_from=(STARTING,))
    assert (
        store.update_definition("a-gate", {**DEFINITION, "DataSharingPreference": {"OptIn": False}})
        == RUNNING
    )
    assert store.set_status("a-gate", FAILED, "source gone")
    failed = store.get("a-gate")
    assert (failed.status, failed.status_message) == (FAILED, "source gone")
    assert failed.definition["DataSharingPreference"] == {"OptIn": False}
    store.set_tags("a-gate", {"k": "v"})
    reopened = open_store()
    assert reopened.get("a-gate").tags == {"k": "v"}
    assert [p.name for p in reopened.with_status(FAILED)] == ["a-gate"]
    reopened.delete("a-gate")
    with pytest.raises(ProcessorMissing):
        reopened.delete("a-gate")


def test_running_processors_are_limited(open_store: Callable[[], StreamStore]) -> None:
    store = open_store()
    for name in ("one", "two", "three"):
        store.create(name, arn(name), DEFINITION, {})
    store.begin_session("one", "s1", {}, 2)
    store.begin_session("two", "s2", {}, 2)
    with pytest.raises(TooManyRunning):
        store.begin_session("three", "s3", {}, 2)
    store.set_status("two", STOPPED)
    store.begin_session("three", "s3", {}, 2)


@pytest.mark.needs_postgres
def test_the_running_limit_holds_across_hosts(shared: Callable[[], PostgresStreamStore]) -> None:
    creator = shared()
    names = [f"p{i}" for i in range(12)]
    for name in names:
        creator.create(name, arn(name), DEFINITION, {})
    stores = [shared() for _ in range(4)]
    outcomes: list[bool] = []
    lock = threading.Lock()

    def start(store: PostgresStreamStore, mine: list[str]) -> None:
        for name in mine:
            try:
                store.begin_session(name, f"session-{name}", {}, 5)
                ok = True
            except TooManyRunning:
                ok = False
            with lock:
                outcomes.append(ok)

    threads = [threading.Thread(target=start, args=(s, names[i::4])) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(True) == 5 and len(creator.with_status(STARTING)) == 5


@pytest.mark.needs_postgres
def test_concurrent_claims_never_take_one_processor_twice(shared: Callable[[], PostgresStreamStore]) -> None:
    creator = shared()
    sessions = {}
    for i in range(16):
        name = f"cam{i}"
        creator.create(name, arn(name), DEFINITION, {})
        sessions[name] = creator.begin_session(name, f"session-{i}", {}, 100).session_id
    claimed: dict[str, list[tuple[str, str | None, int]]] = {}
    lock = threading.Lock()

    def claim_all(store: PostgresStreamStore, holder: str) -> None:
        while (processor := store.claim(holder, 60)) is not None:
            with lock:
                claimed.setdefault(processor.name, []).append((holder, processor.session_id, processor.claim))

    stores = [shared() for _ in range(4)]
    threads = [threading.Thread(target=claim_all, args=(s, f"host{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(claimed) == set(sessions)
    assert all(len(claims) == 1 for claims in claimed.values())
    # A first claim runs the session Start answered with.
    assert all(claims[0][1:] == (sessions[name], 1) for name, claims in claimed.items())
    assert len({claims[0][0] for claims in claimed.values()}) > 1  # the work was shared
    assert stores[0].claim("late", 60) is None


@pytest.mark.needs_postgres
def test_a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_write(
    shared: Callable[[], PostgresStreamStore],
) -> None:
    store, other = shared(), shared()
    store.create("door", arn("door"), DEFINITION, {})
    store.begin_session("door", "session-1", {}, 10)
    first = store.claim("dead-host", 0.5)
    assert first is not None and (first.claim, first.session_id) == (1, "session-1")
    assert store.set_status("door", RUNNING, only_from=(STARTING,), claim=1)
    assert other.claim("other-host", 30) is None  # the lease holds
    time.sleep(0.7)
    second = other.claim("other-host", 30)
    assert second is not None and second.claim == 2
    # A new session (its output must not overwrite the interrupted one's), STARTING again.
    assert second.session_id not in (None, "session-1") and second.status == STARTING
    assert store.renew("dead-host", {"door": 1}, 30) == {}  # the old holder learns it lost the claim
    assert other.renew("other-host", {"door": 2}, 30) == {"door": STARTING}
    assert not store.set_status("door", FAILED, "late", only_from=(STARTING, RUNNING, STOPPING), claim=1)
    assert other.set_status("door", RUNNING, only_from=(STARTING,), claim=2)
    assert store.claim("third-host", 30) is None
    assert other.set_status("door", STOPPED, only_from=(STARTING, RUNNING, STOPPING), claim=2)
    assert store.get("door").status == STOPPED

    # Started again: claim numbers keep growing, so the first session's late write still fails.
    store.begin_session("door", "session-3", {}, 10)
    third = other.claim("other-host", 30)
    assert third is not None and (third.claim, third.session_id) == (3, "session-3")
    assert not store.set_status("door", FAILED, "late", claim=1)
    assert store.get("door").status == STARTING


@pytest.mark.needs_postgres
def test_a_stop_reaches_the_holder_and_an_unheld_stop_is_settled(
    shared: Callable[[], PostgresStreamStore],
) -> None:
    holder_side, api_side = shared(), shared()
    for name in ("held", "orphan", "unclaimed"):  # claimed in the order they were started
        api_side.create(name, arn(name), DEFINITION, {})
        api_side.begin_session(name, f"session-{name}", {}, 10)
    held = holder_side.claim("worker-1", 30)
    orphan = holder_side.claim("worker-2", 0.5)
    assert held is not None and orphan is not None and {held.name, orphan.name} == {"held", "orphan"}
    for name in ("held", "unclaimed", "orphan"):  # StopStreamProcessor, on another server
        assert api_side.set_status(name, STOPPING, only_from=(STARTING, RUNNING))
    # Not claimed by anyone: STOPPED at once. Held under a live lease: left to its holder.
    assert api_side.stop_unheld() == ["unclaimed"]
    assert holder_side.renew("worker-1", {held.name: held.claim}, 30) == {held.name: STOPPING}
    assert holder_side.set_status(held.name, STOPPED, only_from=(STOPPING,), claim=held.claim)
    # A holder that died: STOPPED once its lease has run out.
    time.sleep(0.7)
    assert api_side.stop_unheld() == [orphan.name]
    assert {p.name for p in api_side.with_status(STOPPED)} == {"held", "unclaimed", "orphan"}
    assert holder_side.claim("worker-3", 30) is None  # nothing stopped is claimed


@pytest.mark.needs_postgres
def test_a_released_processor_is_claimed_again_at_once(shared: Callable[[], PostgresStreamStore]) -> None:
    store, other = shared(), shared()
    store.create("lobby", arn("lobby"), DEFINITION, {})
    store.begin_session("lobby", "session-1", {}, 10)
    first = store.claim("stopping-host", 30)
    assert first is not None
    store.set_status("lobby", RUNNING, only_from=(STARTING,), claim=first.claim)
    store.release("lobby", first.claim)  # its process shuts down
    taken = other.claim("other-host", 30)
    assert taken is not None and taken.claim == 2 and taken.session_id != "session-1"
