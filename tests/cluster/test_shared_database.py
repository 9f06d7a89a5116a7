"""Two servers and two workers on one PostgreSQL, media in a loopback S3 (moto_server).

Every process is a real `openrek serve` or `openrek worker` child process, as an operator
starts them on separate hosts: no data directory is shared, only the database URL and
the S3 endpoint.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from PIL import Image

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, models_dir, moto_client, rekognition_client
from tests.jobs.polling import finished
from tests.shapes import assert_valid_output
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip

pytestmark = [pytest.mark.needs_server, pytest.mark.needs_moto, pytest.mark.needs_postgres]

FPS = 25
FACE_SECONDS = 40  # long enough that the first worker is surely mid-job when it is killed
LEASE_S = 3


class WorkerProcess:
    """`openrek worker` in a child process."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir.parent / f"worker-{data_dir.name}.log"
        self._log_handle = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "openrek", "worker", "--data-dir", str(data_dir)],
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OPENREK_MODELS_DIR": str(models_dir()), **env},
        )
        deadline = time.monotonic() + 90
        while "taking jobs from" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {self.log.read_text()}")
            time.sleep(0.2)
        self.name = self.log.read_text().split("openrek worker ", 1)[1].split(" ", 1)[0]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log_handle.close()


@pytest.fixture
def cluster_env(postgres_url: str, moto_endpoint: str, photos: Path, tmp_path: Path) -> dict[str, str]:
    s3 = moto_client("s3", moto_endpoint)
    s3.create_bucket(Bucket="cluster-media")
    clip = tmp_path / "face.mp4"
    still = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((320, 240)))
    make_clip(clip, [(still, FACE_SECONDS * FPS)], fps=FPS)
    s3.put_object(Bucket="cluster-media", Key="face.mp4", Body=clip.read_bytes())
    for name in ("obama.jpg", "obama2.jpg", "biden.jpg"):
        s3.put_object(
            Bucket="cluster-media", Key=name, Body=(photos / "face_recognition" / name).read_bytes()
        )
    return {
        "OPENREK_DATABASE_URL": postgres_url,
        "OPENREK_S3_ENDPOINT_URL": moto_endpoint,
        "OPENREK_JOB_LEASE_S": str(LEASE_S),
        **S3_KEYS,
    }


@pytest.fixture
def servers(models: ModelStore, cluster_env: dict[str, str], tmp_path: Path) -> Iterator[list[ServerProcess]]:
    for i in range(2):
        (tmp_path / f"server-{i}").mkdir()
    started = [
        ServerProcess(tmp_path / f"server-{i}" / "data", env=cluster_env, args=("--no-run-jobs",))
        for i in range(2)
    ]
    yield started
    for server in started:
        server.stop()


def _image(name: str) -> dict[str, object]:
    return {"S3Object": {"Bucket": "cluster-media", "Name": name}}


def test_a_face_indexed_through_one_server_is_found_through_the_other(servers: list[ServerProcess]) -> None:
    a, b = (rekognition_client(s.url) for s in servers)
    a.create_collection(CollectionId="shared")
    indexed = a.index_faces(CollectionId="shared", Image=_image("obama.jpg"), ExternalImageId="obama")
    face_id = indexed["FaceRecords"][0]["Face"]["FaceId"]
    found = b.search_faces_by_image(CollectionId="shared", Image=_image("obama2.jpg"))
    assert_valid_output("SearchFacesByImage", found)
    assert [m["Face"]["FaceId"] for m in found["FaceMatches"]] == [face_id]
    assert found["FaceMatches"][0]["Similarity"] > 80
    assert b.search_faces_by_image(CollectionId="shared", Image=_image("biden.jpg"))["FaceMatches"] == []
    assert b.describe_collection(CollectionId="shared")["FaceCount"] == 1
    # A user made through b, a face associated through a: the same user everywhere.
    b.create_user(CollectionId="shared", UserId="barack", ClientRequestToken="user-token-1")
    # The same token through the other server is the same request, answered once.
    a.create_user(CollectionId="shared", UserId="barack", ClientRequestToken="user-token-1")
    a.associate_faces(CollectionId="shared", UserId="barack", FaceIds=[face_id])
    users = b.list_users(CollectionId="shared")["Users"]
    assert users == [{"UserId": "barack", "UserStatus": "ACTIVE"}]
    b.delete_collection(CollectionId="shared")
    assert "shared" not in a.list_collections()["CollectionIds"]


def test_a_job_started_on_a_server_is_finished_by_a_worker_even_when_one_dies_mid_job(
    servers: list[ServerProcess], cluster_env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    a, b = (rekognition_client(s.url) for s in servers)
    started = a.start_face_detection(Video={"S3Object": {"Bucket": "cluster-media", "Name": "face.mp4"}})
    job_id = started["JobId"]
    # Same token, other server: the same job (idempotency lives in the database).
    tokened = a.start_face_detection(Video=_video(), ClientRequestToken="job-token-1")
    assert (
        b.start_face_detection(Video=_video(), ClientRequestToken="job-token-1")["JobId"] == tokened["JobId"]
    )
    time.sleep(2)
    assert b.get_face_detection(JobId=job_id)["JobStatus"] == "IN_PROGRESS"  # no server runs jobs

    first = WorkerProcess(tmp_path / "worker-1", cluster_env)
    second: WorkerProcess | None = None
    try:
        claim = _wait_for_claim(postgres_url, job_id, first.name)
        assert claim == (first.name, 1)
        time.sleep(1.5)
        first.kill()
        assert b.get_face_detection(JobId=job_id)["JobStatus"] == "IN_PROGRESS"  # killed mid-job

        second = WorkerProcess(tmp_path / "worker-2", cluster_env)
        result = finished(b.get_face_detection, job_id, timeout=240)
        assert_valid_output("GetFaceDetection", result)
        assert result["JobStatus"] == "SUCCEEDED"
        _, attempt = _claim(postgres_url, job_id)
        assert attempt == 2  # claimed again once the dead worker's lease ran out
        timestamps = [face["Timestamp"] for face in result["Faces"]]
        assert timestamps == sorted(set(timestamps))  # one complete result, no repeated frames
        assert timestamps[0] < 500 and timestamps[-1] > (FACE_SECONDS - 1) * 1000
        assert len(timestamps) >= FACE_SECONDS * 4  # at least 4 of the 5 sampled frames a second
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute("SELECT count(*) FROM job_results WHERE job_id = %s", (job_id,)).fetchone()
        assert rows == (1,)
        assert a.get_face_detection(JobId=job_id)["Faces"] == result["Faces"]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def _video() -> dict[str, object]:
    return {"S3Object": {"Bucket": "cluster-media", "Name": "face.mp4"}}


def _claim(url: str, job_id: str) -> tuple[str | None, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT worker, attempt FROM jobs WHERE job_id = %s", (job_id,)).fetchone()
    assert row is not None
    return row[0], row[1]


def _wait_for_claim(url: str, job_id: str, worker: str, timeout: float = 30) -> tuple[str | None, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        claim = _claim(url, job_id)
        if claim[0] == worker:
            return claim
        time.sleep(0.2)
    raise AssertionError(f"{worker} did not claim job {job_id}")
