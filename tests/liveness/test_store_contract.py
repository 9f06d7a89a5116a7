"""Both liveness stores keep the same promises (store.LivenessStore)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openrek.liveness.store import (
    CREATED,
    EXPIRED,
    FAILED,
    IN_PROGRESS,
    SUCCEEDED,
    LivenessStore,
    SessionMissing,
)

CHALLENGE = {"Type": "FaceMovementChallenge", "Version": "1.0.0", "Oval": {}, "Flashes": []}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LivenessStore]:
    if request.param == "postgres":
        from openrek.liveness.postgres_store import PostgresLivenessStore

        opened: LivenessStore = PostgresLivenessStore(request.getfixturevalue("postgres_url"))
    else:
        from openrek.liveness.sqlite_store import SqliteLivenessStore

        opened = SqliteLivenessStore(tmp_path)
    yield opened
    opened.close()


def test_a_token_creates_one_session(store: LivenessStore) -> None:
    first = store.create("a" * 8 + "-0000-4000-8000-000000000001", "token", {"Settings": {}}, CHALLENGE, 10.0)
    again = store.create("a" * 8 + "-0000-4000-8000-000000000002", "token", {}, CHALLENGE, 11.0)
    assert again == first and first.status == CREATED and first.settings == {"Settings": {}}
    untokened = store.create("a" * 8 + "-0000-4000-8000-000000000003", None, {}, CHALLENGE, 12.0)
    assert untokened.session_id != first.session_id
    with pytest.raises(SessionMissing):
        store.get("a" * 8 + "-0000-4000-8000-000000000002")


def test_a_session_runs_once_and_expires_without_its_data(store: LivenessStore) -> None:
    session_id = "b" * 8 + "-0000-4000-8000-000000000001"
    store.create(session_id, None, {}, CHALLENGE, 10.0)
    assert store.start(session_id, 11.0) and not store.start(session_id, 11.5)
    assert store.get(session_id).status == IN_PROGRESS
    result = {"ReferenceImage": {"BoundingBox": {"Width": 0.5}}}
    assert store.finish(session_id, SUCCEEDED, 97.5, result, [b"ref", b"audit"], 12.0)
    assert not store.finish(session_id, FAILED, None, {}, [], 13.0)  # one capture only
    done = store.get(session_id)
    assert (done.status, done.confidence, done.result) == (SUCCEEDED, 97.5, result)
    assert store.images(session_id) == [b"ref", b"audit"]
    store.expire(session_id, 200.0)
    gone = store.get(session_id)
    assert (gone.status, gone.confidence, gone.result) == (EXPIRED, None, {})
    assert store.images(session_id) == []


def test_old_sessions_are_forgotten(store: LivenessStore) -> None:
    old, new = "c" * 8 + "-0000-4000-8000-000000000001", "c" * 8 + "-0000-4000-8000-000000000002"
    store.create(old, "old-token", {}, CHALLENGE, 10.0)
    store.create(new, None, {}, CHALLENGE, 100.0)
    store.finish(old, SUCCEEDED, 90.0, {}, [b"x"], 11.0)
    assert store.forget_before(50.0) == 1
    with pytest.raises(SessionMissing):
        store.get(old)
    assert store.get(new).status == CREATED
    # The token is free again.
    assert store.create(old, "old-token", {}, CHALLENGE, 120.0).created_at == 120.0
