"""Stream processors whose source fails, and one that survives its server being killed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from openrek.models.store import ModelStore
from openrek.streams.sqlite_store import SqliteStreamStore
from tests.conftest import ServerProcess, rekognition_client
from tests.streams.test_face_search_processor import OUTPUT_ARN, kinesis, read_records, status_of
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip, pattern

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]


def definition(stream: str, output: str = "failures") -> dict[str, Any]:
    return {
        "Input": {
            "KinesisVideoStream": {"Arn": f"arn:aws:kinesisvideo:us-east-1:000000000000:stream/{stream}/1"}
        },
        "Output": {"KinesisDataStream": {"Arn": OUTPUT_ARN.replace("door-events", output)}},
        "Settings": {"FaceSearch": {"CollectionId": "staff"}},
        "RoleArn": "arn:aws:iam::000000000000:role/rekognition",
    }


def session_of(data: Path, name: str) -> str | None:
    store = SqliteStreamStore(data)
    try:
        return store.get(name).session_id
    finally:
        store.close()


def wait_for(client: Any, name: str, wanted: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = status_of(client, name)
        if status in wanted:
            return status
        time.sleep(0.3)
    raise AssertionError(f"{name} still {status_of(client, name)}")


def test_sources_that_fail_end_the_session_failed_and_a_killed_server_resumes(
    models: ModelStore,
    moto_endpoint: str,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = SqliteStreamStore(data)
    store.put_source("refused", "rtsp://127.0.0.1:9/live")  # nothing listens on port 9
    clip = make_clip(tmp_path / "long.mp4", [(pattern(), 30 * 10)], fps=10)  # 30 s, no faces
    store.put_source("lobby", str(clip))
    store.close()
    kinesis(moto_endpoint).create_stream(StreamName="failures", ShardCount=1)
    env = {"OPENREK_KINESIS_ENDPOINT_URL": moto_endpoint, **S3_KEYS}
    server = ServerProcess(data, env=env)
    try:
        client = rekognition_client(server.url)
        client.create_collection(CollectionId="staff")
        for name, stream in (("unregistered", "nosuch"), ("refused", "refused"), ("lobby", "lobby")):
            client.create_stream_processor(Name=name, **definition(stream))
            client.start_stream_processor(Name=name)

        assert wait_for(client, "unregistered", {"FAILED"}) == "FAILED"
        message = client.describe_stream_processor(Name="unregistered")["StatusMessage"]
        assert "No video stream named nosuch" in message and "video-streams put nosuch" in message
        assert wait_for(client, "refused", {"FAILED"}) == "FAILED"
        assert (
            "never connected after 3 tries"
            in client.describe_stream_processor(Name="refused")["StatusMessage"]
        )
        # A failed processor can be started again (and fails again, for the same reason).
        client.start_stream_processor(Name="unregistered")

        assert wait_for(client, "lobby", {"RUNNING"}) == "RUNNING"
        time.sleep(2)
        first_session = session_of(data, "lobby")
        server.process.kill()  # SIGKILL: no chance to mark anything stopped
        server.process.wait(10)
        server.stop()  # closes its log; the process is already gone
        before = len(read_records(moto_endpoint, "failures"))
        assert before > 0

        server = ServerProcess(data, env=env)
        client = rekognition_client(server.url)
        # Left RUNNING by the killed server: started again by the new one, writing again.
        assert wait_for(client, "lobby", {"RUNNING"}) == "RUNNING"
        assert session_of(data, "lobby") not in (None, first_session)  # a new session
        deadline = time.monotonic() + 30
        while len(read_records(moto_endpoint, "failures")) <= before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(read_records(moto_endpoint, "failures")) > before
        client.stop_stream_processor(Name="lobby")
        assert wait_for(client, "lobby", {"STOPPED"}) == "STOPPED"
    finally:
        server.stop()
