"""PostgreSQL restarting under load: requests in flight get an AWS-shaped error, the
server recovers by itself, and nothing it acknowledged is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.postgres_server import EmbeddedPostgres

pytestmark = [pytest.mark.needs_server, pytest.mark.needs_postgres]


def test_a_database_restart_loses_nothing_acknowledged(
    models: ModelStore,
    postgres: EmbeddedPostgres,
    postgres_url: str,
    photos: Path,
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path, env={"OPENREK_DATABASE_URL": postgres_url})
    photo = (photos / "face_recognition/obama.jpg").read_bytes()
    acknowledged: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def index_continuously() -> None:
        client = rekognition_client(server.url)  # no retries: every failure is seen here
        n = 0
        while not stop.is_set():
            n += 1
            try:
                answer = client.index_faces(
                    CollectionId="restart", Image={"Bytes": photo}, ExternalImageId=f"n{n}"
                )
                acknowledged.extend(r["Face"]["FaceId"] for r in answer["FaceRecords"])
            except ClientError as error:
                errors.append(error.response["Error"]["Code"])

    try:
        client = rekognition_client(server.url)
        client.create_collection(CollectionId="restart")
        writers = [threading.Thread(target=index_continuously) for _ in range(2)]
        for writer in writers:
            writer.start()
        while len(acknowledged) < 6:
            time.sleep(0.1)
        postgres.restart()
        restarted_at = len(acknowledged)
        deadline = time.monotonic() + 60
        while len(acknowledged) < restarted_at + 6 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for writer in writers:
            writer.join(30)
        assert len(acknowledged) >= restarted_at + 6, f"no recovery after the restart: {errors}"
        assert set(errors) <= {"InternalServerError", "ThrottlingException"}, errors
        listed: set[str] = set()
        token = None
        while True:
            page = client.list_faces(
                CollectionId="restart", MaxResults=100, **({"NextToken": token} if token else {})
            )
            listed |= {face["FaceId"] for face in page["Faces"]}
            token = page.get("NextToken")
            if not token:
                break
        assert set(acknowledged) <= listed  # nothing acknowledged is lost
        assert client.describe_collection(CollectionId="restart")["FaceCount"] == len(listed)
        assert server.alive()
    finally:
        stop.set()
        server.stop()
