"""Custom Labels work claimed from the store (custom_labels/work.py), with the work itself
replaced by a recorder: on PostgreSQL, two processes never run one item, work whose
holder died is taken over after its lease and the old holder's outcome is refused, and
work interrupted too often fails; on the embedded store, what a stopped process held is
taken again at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openrek.custom_labels.file_store import FileCustomLabelsStore
from openrek.custom_labels.postgres_store import PostgresCustomLabelsStore
from openrek.custom_labels.records import (
    STOPPED,
    STOPPING,
    TRAINING_COMPLETED,
    TRAINING_FAILED,
    TRAINING_IN_PROGRESS,
    Project,
    Version,
)
from openrek.custom_labels.store import CustomLabelsStore
from openrek.custom_labels.work import Claim, WorkLoop, set_status


class RecordingService:
    """What WorkLoop needs of CustomLabels: the store, and a run_work that, here, records
    the claim, waits until the test lets it go, then finishes the work."""

    def __init__(self, store: CustomLabelsStore) -> None:
        self.store = store
        self.claims: list[Claim] = []
        self.go = threading.Event()
        self.finished: list[bool] = []
        self.loop: WorkLoop

    def run_work(self, claim: Claim) -> None:
        self.claims.append(claim)
        self.go.wait(60)
        self.finished.append(self.loop.finish(claim, set_status(TRAINING_COMPLETED, "done")))


def start_loop(store: CustomLabelsStore, lease_s: float = 30.0) -> RecordingService:
    service = RecordingService(store)
    service.loop = WorkLoop(service, lease_s)  # type: ignore[arg-type]  # the recorder stands in
    service.loop.start()
    return service


def add_training(
    store: CustomLabelsStore,
    name: str = "p",
    *,
    attempt: int = 0,
    holder: str | None = None,
    lease_until: float | None = None,
) -> None:
    store.add_project(
        Project(name=name, arn=f"arn:aws:rekognition:us-east-1:0:project/{name}/1", created=1.0)
    )
    with store.edit(name) as edit:
        edit.project.versions["v1"] = Version(
            name="v1",
            arn="v",
            created=1.0,
            output_config={},
            status=TRAINING_IN_PROGRESS,
            attempt=attempt,
            holder=holder,
            lease_until=lease_until,
        )


def version_of(store: CustomLabelsStore, name: str = "p") -> Version:
    return store.project(name).versions["v1"]


def wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def shared_stores(postgres_url: str, tmp_path: Path) -> Iterator[Callable[[], PostgresCustomLabelsStore]]:
    opened: list[PostgresCustomLabelsStore] = []

    def open_one() -> PostgresCustomLabelsStore:
        opened.append(PostgresCustomLabelsStore(postgres_url, tmp_path / str(len(opened))))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.mark.needs_postgres
def test_two_processes_never_run_the_same_work(
    shared_stores: Callable[[], PostgresCustomLabelsStore],
) -> None:
    first_store, second_store = shared_stores(), shared_stores()
    for name in ("a", "b", "c"):
        add_training(first_store, name)
    first, second = start_loop(first_store), start_loop(second_store)
    try:
        wait_for(lambda: len(first.claims) + len(second.claims) == 2)  # one training each at a time
        time.sleep(1.5)  # more claiming rounds: still nobody takes what is held
        assert len(first.claims) == len(second.claims) == 1
        first.go.set()
        second.go.set()
        wait_for(lambda: all(version_of(first_store, n).status == TRAINING_COMPLETED for n in "abc"))
        claimed = sorted(c.project for c in first.claims + second.claims)
        assert claimed == ["a", "b", "c"] and all(first.finished + second.finished)
        assert {version_of(first_store, n).holder for n in "abc"} == {None}
    finally:
        first.go.set()
        second.go.set()
        first.loop.close()
        second.loop.close()


@pytest.mark.needs_postgres
def test_work_whose_holder_died_is_taken_over_and_the_old_outcome_refused(
    shared_stores: Callable[[], PostgresCustomLabelsStore],
) -> None:
    first_store, second_store = shared_stores(), shared_stores()
    add_training(first_store)
    dead = start_loop(first_store, lease_s=1.0)
    wait_for(lambda: len(dead.claims) == 1)
    dead.loop.close()  # no more renewals: as if the process had died
    survivor = start_loop(second_store, lease_s=1.0)
    try:
        wait_for(lambda: len(survivor.claims) == 1)
        assert survivor.claims[0].attempt == 2 and version_of(second_store).holder == survivor.loop.holder
        dead.go.set()  # the old holder comes back and tries to record its outcome
        wait_for(lambda: len(dead.finished) == 1)
        assert dead.finished == [False] and version_of(second_store).status == TRAINING_IN_PROGRESS
        survivor.go.set()
        wait_for(lambda: version_of(second_store).status == TRAINING_COMPLETED)
    finally:
        dead.go.set()
        survivor.go.set()
        survivor.loop.close()


@pytest.mark.needs_postgres
def test_work_interrupted_too_often_fails_and_stopping_needs_no_holder(
    shared_stores: Callable[[], PostgresCustomLabelsStore],
) -> None:
    store = shared_stores()
    add_training(store, attempt=2, holder="gone-host:1:1", lease_until=time.time() - 1)
    store.add_project(Project(name="q", arn="arn:aws:rekognition:us-east-1:0:project/q/1", created=1.0))
    with store.edit("q") as edit:
        edit.project.versions["v1"] = Version(
            name="v1", arn="w", created=1.0, output_config={}, status=STOPPING
        )
    loop = start_loop(store)
    try:
        wait_for(lambda: version_of(store).status == TRAINING_FAILED)
        assert "interrupted 2 times" in version_of(store).status_message and loop.claims == []
        wait_for(lambda: version_of(store, "q").status == STOPPED)
        assert store.projects_with_work() == []
    finally:
        loop.loop.close()


def test_embedded_work_a_stopped_process_held_is_taken_at_once(tmp_path: Path) -> None:
    store = FileCustomLabelsStore(tmp_path)
    add_training(store, attempt=1, holder="old-process", lease_until=time.time() + 3600)
    service = start_loop(FileCustomLabelsStore(tmp_path))  # the restarted process
    try:
        wait_for(lambda: len(service.claims) == 1)
        assert service.claims[0].attempt == 2
        service.go.set()
        wait_for(lambda: service.store.project("p").versions["v1"].status == TRAINING_COMPLETED)
        assert service.finished == [True] and service.store.project("p").versions["v1"].holder is None
    finally:
        service.go.set()
        service.loop.close()
