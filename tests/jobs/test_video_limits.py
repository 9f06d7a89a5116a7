"""The duration limit for a video read from an S3-compatible endpoint: its length is
known only once the job has fetched it, so the job ends FAILED saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, moto_client, rekognition_client
from tests.jobs.polling import finished
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import FPS, make_clip, pattern

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]


def test_a_remote_video_over_the_duration_limit_fails_its_job(
    models: ModelStore,
    moto_endpoint: str,
    tmp_path: Path,
) -> None:
    clip = tmp_path / "three_seconds.mp4"
    make_clip(clip, [(pattern(), 3 * FPS)])
    s3 = moto_client("s3", moto_endpoint)
    s3.create_bucket(Bucket="limits")
    s3.put_object(Bucket="limits", Key="three_seconds.mp4", Body=clip.read_bytes())
    server = ServerProcess(
        tmp_path / "data",
        env={"OPENREK_S3_ENDPOINT_URL": moto_endpoint, "OPENREK_MAX_VIDEO_SECONDS": "2", **S3_KEYS},
    )
    try:
        client = rekognition_client(server.url)
        video = {"S3Object": {"Bucket": "limits", "Name": "three_seconds.mp4"}}
        done = finished(client.get_face_detection, client.start_face_detection(Video=video)["JobId"])
        assert done["JobStatus"] == "FAILED"
        assert done["StatusMessage"] == "Video duration 3 s exceeds the limit of 2 s"
        assert "Faces" not in done
    finally:
        server.stop()
