"""A stream processor in a cluster: two `--no-run-jobs` servers and `openrek worker`s on one
PostgreSQL, records to Kinesis on moto_server.

The processor is started through one server and run by a worker; the worker is killed
(SIGKILL) and a second worker takes the processor over with a new session once the
lease has run out; StopStreamProcessor answered by the other server stops it where it
runs. The video stream is registered once, with the CLI, in the shared database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from PIL import Image

from openrek.models.store import ModelStore
from tests.cluster.test_shared_database import WorkerProcess
from tests.conftest import ServerProcess, models_dir, rekognition_client
from tests.shapes import assert_valid_output
from tests.streams.test_face_search_processor import kinesis, read_records
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip

pytestmark = [pytest.mark.needs_server, pytest.mark.needs_moto, pytest.mark.needs_postgres]

LEASE_S = 3
CLIP_SECONDS = 90  # a file source ends its session at its end: longer than the test
VIDEO_ARN = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/lobby/1700000000000"
OUTPUT_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/lobby-faces"


def openrek(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "openrek", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENREK_MODELS_DIR": str(models_dir()), **env},
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def cluster(
    models: ModelStore,
    postgres_url: str,
    moto_endpoint: str,
    photos: Path,
    tmp_path: Path,
) -> Iterator[tuple[dict[str, str], list[ServerProcess]]]:
    env = {
        "OPENREK_DATABASE_URL": postgres_url,
        "OPENREK_KINESIS_ENDPOINT_URL": moto_endpoint,
        "OPENREK_JOB_LEASE_S": str(LEASE_S),
        **S3_KEYS,
    }
    kinesis(moto_endpoint).create_stream(StreamName="lobby-faces", ShardCount=1)
    still = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((320, 240)))
    clip = make_clip(tmp_path / "lobby.mp4", [(still, CLIP_SECONDS * 10)], fps=10)
    # Registered from one host's data directory, listed from another's: the registry is the database's.
    openrek("video-streams", "put", "lobby", str(clip), "--data-dir", str(tmp_path / "cli-1"), env=env)
    listed = openrek("video-streams", "list", "--data-dir", str(tmp_path / "cli-2"), env=env)
    assert listed.split() == ["lobby", str(clip)]
    servers = []
    for i in range(2):
        (tmp_path / f"server-{i}").mkdir()
        servers.append(ServerProcess(tmp_path / f"server-{i}" / "data", env=env, args=("--no-run-jobs",)))
    yield env, servers
    for server in servers:
        server.stop()


def holder_of(url: str, name: str) -> tuple[str | None, int, str | None]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT holder, claims, session_id FROM stream_processors WHERE name = %s", (name,)
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def streams_holder(worker: WorkerProcess) -> str:
    """The name the worker claims stream processors by, as it prints it at start-up."""
    return worker.log.read_text().split("stream processors as ", 1)[1].split(" ", 1)[0]


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_runs_a_processor_another_takes_it_over_and_any_server_stops_it(
    cluster: tuple[dict[str, str], list[ServerProcess]],
    postgres_url: str,
    moto_endpoint: str,
    photos: Path,
    tmp_path: Path,
) -> None:
    env, servers = cluster
    a, b = (rekognition_client(s.url) for s in servers)
    a.create_collection(CollectionId="staff")
    face_id = a.index_faces(
        CollectionId="staff",
        Image={"Bytes": (photos / "face_recognition/obama2.jpg").read_bytes()},
        ExternalImageId="obama",
        MaxFaces=1,
    )["FaceRecords"][0]["Face"]["FaceId"]
    a.create_stream_processor(
        Name="lobby",
        Input={"KinesisVideoStream": {"Arn": VIDEO_ARN}},
        Output={"KinesisDataStream": {"Arn": OUTPUT_ARN}},
        Settings={"FaceSearch": {"CollectionId": "staff", "FaceMatchThreshold": 80}},
        RoleArn="arn:aws:iam::000000000000:role/rekognition",
    )
    session = a.start_stream_processor(Name="lobby")["SessionId"]
    time.sleep(2)
    described = b.describe_stream_processor(Name="lobby")
    assert_valid_output("DescribeStreamProcessor", described)
    assert described["Status"] == "STARTING"  # servers started --no-run-jobs run no processor
    assert holder_of(postgres_url, "lobby") == (None, 0, session)

    first = WorkerProcess(tmp_path / "worker-1", env)
    second: WorkerProcess | None = None
    try:
        wait_until(lambda: b.describe_stream_processor(Name="lobby")["Status"] == "RUNNING", "RUNNING")
        assert holder_of(postgres_url, "lobby") == (streams_holder(first), 1, session)
        records = wait_until(lambda: read_records(moto_endpoint, "lobby-faces"), "records")
        matched = {
            match["Face"]["FaceId"]
            for record in records
            for face in record["FaceSearchResponse"]
            for match in face["MatchedFaces"]
        }
        assert matched == {face_id}

        first.kill()
        before = len(read_records(moto_endpoint, "lobby-faces"))
        second = WorkerProcess(tmp_path / "worker-2", env)
        taker = streams_holder(second)
        _, claims, new_session = wait_until(
            lambda: (claim := holder_of(postgres_url, "lobby"))[0] == taker and claim,
            "the second worker's claim",
            timeout=LEASE_S + 20,
        )
        assert claims == 2 and new_session != session  # taken over: a new session
        wait_until(lambda: len(read_records(moto_endpoint, "lobby-faces")) > before + 3, "records again")

        stop_at = time.monotonic()
        b.stop_stream_processor(Name="lobby")
        seen = [b.describe_stream_processor(Name="lobby")["Status"]]
        while seen[-1] != "STOPPED" and time.monotonic() - stop_at < 10:
            time.sleep(0.2)
            seen.append(b.describe_stream_processor(Name="lobby")["Status"])
        assert seen[0] == "STOPPING" and seen[-1] == "STOPPED", seen
        assert time.monotonic() - stop_at < 5  # the holder saw the stop at its next renewal
        assert holder_of(postgres_url, "lobby")[0] is None
        stopped_with = len(read_records(moto_endpoint, "lobby-faces"))
        time.sleep(1.5)
        assert len(read_records(moto_endpoint, "lobby-faces")) == stopped_with  # nothing runs it any more
        assert a.list_stream_processors()["StreamProcessors"] == [{"Name": "lobby", "Status": "STOPPED"}]
    finally:
        first.stop()
        if second is not None:
            second.stop()
