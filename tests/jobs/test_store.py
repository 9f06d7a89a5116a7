"""The job store on its own, against both backends: creation, tokens, limits, results that
are whole or absent; and, on the shared store, claims that never overlap and a result
recorded only by the current claim."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openrek.jobs.postgres_store import PostgresJobStore
from openrek.jobs.sqlite_store import SqliteJobStore
from openrek.jobs.store import FAILED, IN_PROGRESS, SUCCEEDED, JobStore, TokenReused, TooManyJobs

VIDEO = {"Video": {"S3Object": {"Bucket": "b", "Name": "clip.mp4"}}}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], JobStore]]:
    opened: list[JobStore] = []
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None

    def open_one() -> JobStore:
        store: JobStore = PostgresJobStore(url) if url else SqliteJobStore(tmp_path)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def test_a_token_names_one_job(open_store: Callable[[], JobStore]) -> None:
    store = open_store()
    first, created = store.create("StartFaceDetection", VIDEO, "token-1", 20)
    again, created_again = store.create("StartFaceDetection", VIDEO, "token-1", 20)
    assert created and not created_again and again.job_id == first.job_id
    assert len(first.job_id) == 64 and first.status == IN_PROGRESS
    with pytest.raises(TokenReused):
        store.create("StartFaceDetection", {**VIDEO, "JobTag": "other"}, "token-1", 20)
    other, _ = store.create("StartFaceDetection", VIDEO, None, 20)
    assert other.job_id != first.job_id
    assert [j.job_id for j in store.newest_first("StartFaceDetection", 10)] == [other.job_id, first.job_id]
    assert [j.job_id for j in store.newest_first("StartFaceDetection", 10, after=other)] == [first.job_id]


def test_jobs_in_progress_are_limited(open_store: Callable[[], JobStore]) -> None:
    store = open_store()
    job, _ = store.create("StartFaceDetection", VIDEO, None, 1)
    with pytest.raises(TooManyJobs):
        store.create("StartFaceDetection", VIDEO, None, 1)
    store.fail(job, "not a video")
    store.create("StartFaceDetection", VIDEO, None, 1)


def test_results_are_whole_or_absent_across_a_restart(open_store: Callable[[], JobStore]) -> None:
    store = open_store()
    done, _ = store.create("StartFaceDetection", {**VIDEO, "JobTag": "tag"}, None, 20)
    killed, _ = store.create("StartFaceDetection", VIDEO, None, 20)
    assert store.succeed(done, {"Faces": [{"Timestamp": 0}], "VideoMetadata": {}})
    if isinstance(store, SqliteJobStore):
        # A process killed while writing leaves a partial file and an IN_PROGRESS job.
        store.results_path(killed.job_id).with_suffix(".partial").write_text('{"Faces": [')
    store.close()

    reopened = open_store()
    finished = reopened.get(done.job_id)
    assert finished is not None and finished.status == SUCCEEDED and finished.job_tag == "tag"
    assert reopened.results(done.job_id)["Faces"] == [{"Timestamp": 0}]
    assert [job.job_id for job in reopened.in_progress()] == [killed.job_id]
    reopened.fail(killed, "gone")
    failed = reopened.get(killed.job_id)
    assert failed is not None and failed.status == FAILED and failed.status_message == "gone"
    assert reopened.get("no-such-job") is None


@pytest.mark.needs_postgres
def test_concurrent_claims_never_take_one_job_twice(postgres_url: str) -> None:
    creator = PostgresJobStore(postgres_url)
    created = {creator.create("StartLabelDetection", VIDEO, None, 100)[0].job_id for _ in range(30)}
    stores = [PostgresJobStore(postgres_url) for _ in range(4)]
    claimed: dict[str, list[str]] = {}
    lock = threading.Lock()

    def claim_all(store: PostgresJobStore, worker: str) -> None:
        while (job := store.claim(worker, 60)) is not None:
            with lock:
                claimed.setdefault(job.job_id, []).append(worker)

    threads = [threading.Thread(target=claim_all, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(claimed) == created
    assert all(len(workers) == 1 for workers in claimed.values())
    assert len({w for workers in claimed.values() for w in workers}) > 1  # the work was shared
    for store in [creator, *stores]:
        store.close()


@pytest.mark.needs_postgres
def test_a_lapsed_claim_is_taken_over_and_cannot_record_a_result(postgres_url: str) -> None:
    store = PostgresJobStore(postgres_url)
    job, _ = store.create("StartFaceDetection", VIDEO, None, 20)
    first = store.claim("dead-worker", 0.5)
    assert first is not None and first.job_id == job.job_id and first.attempt == 1
    assert store.claim("other", 30) is None  # the lease holds
    time.sleep(0.7)
    second = store.claim("other", 30)
    assert second is not None and second.job_id == job.job_id and second.attempt == 2
    store.renew("dead-worker", [job.job_id], 30)  # a stale renewal changes nothing
    assert store.claim("third", 30) is None
    assert not store.succeed(first, {"Faces": ["stale"]})
    assert store.succeed(second, {"Faces": ["fresh"]})
    assert not store.fail(first, "late")
    finished = store.get(job.job_id)
    assert finished is not None and finished.status == SUCCEEDED
    assert store.results(job.job_id) == {"Faces": ["fresh"]}
    store.close()
