"""Stream runners claiming processors from one PostgreSQL database, in this process: each
runs at most its capacity (OPENREK_MAX_RUNNING_STREAM_PROCESSORS), no processor runs in
two, a stop written by anyone ends the session where it runs, and a runner that shuts
down leaves its processor to another at once, with a new session."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from openrek.config import Settings
from openrek.models.store import ModelStore
from openrek.operations.collections import create_collection
from openrek.services import Services
from openrek.streams.postgres_store import PostgresStreamStore
from openrek.streams.runner import StreamRunner
from openrek.streams.store import RUNNING, STARTING, STOPPED, STOPPING
from tests.conftest import models_dir
from tests.streams.test_face_search_processor import kinesis, read_records
from tests.streams.test_processor_failures import definition
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip, pattern

LEASE_S = 2.0


@pytest.fixture
def services(
    models: ModelStore,
    postgres_url: str,
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Services]:
    for key, value in S3_KEYS.items():
        monkeypatch.setenv(key, value)
    settings = Settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir(),
        database_url=postgres_url,
        kinesis_endpoint_url=moto_endpoint,
        max_running_stream_processors=1,  # each runner runs one processor at a time
        job_lease_seconds=LEASE_S,
    )
    started = Services.start(settings)
    yield started
    started.close()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def holders(url: str) -> dict[str, str | None]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute("SELECT name, holder FROM stream_processors WHERE status = 'RUNNING'").fetchall()
        )


def test_runners_share_processors_within_their_capacity_and_hand_them_over(
    services: Services, postgres_url: str, moto_endpoint: str, tmp_path: Path
) -> None:
    kinesis(moto_endpoint).create_stream(StreamName="claims", ShardCount=1)
    clip = make_clip(tmp_path / "lobby.mp4", [(pattern(), 60 * 5)], fps=5)  # outlasts the test
    api = PostgresStreamStore(postgres_url)
    api.put_source("lobby", str(clip))
    create_collection({"CollectionId": "staff"}, services)
    for name in ("cam-a", "cam-b", "cam-c"):
        api.create(name, f"arn:{name}", definition("lobby", output="claims"), {})
        api.begin_session(name, f"session-{name}", {}, 10)
    stores = [PostgresStreamStore(postgres_url) for _ in range(3)]
    runners = [StreamRunner(services, store) for store in stores]
    try:
        for runner in runners[:2]:
            runner.start_claiming()
        wait_for(lambda: len(holders(postgres_url)) == 2, "two processors RUNNING")
        time.sleep(LEASE_S + 1)  # longer than a lease: nobody has room for the third
        held = holders(postgres_url)
        # one each (an unheld None sorts as "None", which no runner's holder is)
        assert sorted(held.values(), key=str) == sorted(r.holder for r in runners[:2])
        (waiting,) = api.with_status(STARTING)
        assert waiting.claim == 0 and waiting.session_id == f"session-{waiting.name}"
        assert len(read_records(moto_endpoint, "claims")) > 0

        # StopStreamProcessor, answered by a server that does not run it.
        stopped = next(name for name, holder in held.items() if holder == runners[0].holder)
        assert api.set_status(stopped, STOPPING, only_from=(STARTING, RUNNING))
        wait_for(lambda: api.get(stopped).status == STOPPED, f"{stopped} STOPPED", timeout=5)
        # The runner that held it has room again, and takes the waiting one.
        wait_for(lambda: holders(postgres_url).get(waiting.name) == runners[0].holder, "the waiting one")
        assert api.get(waiting.name).claim == 1

        # A runner that shuts down releases what it runs; a new one takes it at once.
        moved = next(name for name, holder in held.items() if holder == runners[1].holder)
        runners[1].close()
        assert api.get(moved).status == RUNNING  # left running, for another process
        runners[2].start_claiming()
        wait_for(lambda: holders(postgres_url).get(moved) == runners[2].holder, "the takeover", timeout=5)
        taken = api.get(moved)
        assert taken.claim == 2 and taken.session_id != f"session-{moved}"  # a new session
        assert len(holders(postgres_url)) == 2
    finally:
        for runner in runners:
            runner.close()
        for store in [api, *stores]:
            store.close()
