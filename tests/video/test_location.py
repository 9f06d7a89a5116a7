"""VideoLocator: the local S3 folder (same rules as images) and an S3-compatible endpoint (moto, in process, answering for an AWS URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openrek.imaging.source import S3_UNREADABLE
from openrek.protocol.errors import InvalidS3ObjectException, VideoTooLargeException
from openrek.video.location import MAX_VIDEO_BYTES, VideoLocator
from tests.video.clips import FPS, make_clip, pattern

CONTENT = b"\x00\x00\x00\x18ftypmp42" + b"v" * 1000


def video(bucket: Any = "media", name: Any = "clips/a.mp4", **extra: Any) -> dict[str, Any]:
    return {"S3Object": {"Bucket": bucket, "Name": name, **extra}}


@pytest.fixture
def s3_dir(tmp_path: Path) -> Path:
    root = tmp_path / "s3"
    (root / "media" / "clips").mkdir(parents=True)
    (root / "media" / "clips" / "a.mp4").write_bytes(CONTENT)
    (root / "other").mkdir()
    (root / "other" / "secret.mp4").write_bytes(CONTENT)
    return root


def test_default_limit_is_aws_10_gb() -> None:
    assert MAX_VIDEO_BYTES == 10 * 1024**3


def test_local_object_is_found(s3_dir: Path) -> None:
    locator = VideoLocator(s3_dir)
    locator.check(video())
    with locator.local_path(video()) as path:
        assert path.read_bytes() == CONTENT
    assert path.exists()  # the user's own file is never deleted


@pytest.mark.parametrize(
    "request_video",
    [
        video(name="clips/missing.mp4"),
        video(bucket="nobucket"),
        video(name="../other/secret.mp4"),  # out of the bucket
        video(name="clips"),  # a folder
        video(name="clips/a\x00.mp4"),
        video(name="x" * 5000),
        video(bucket=""),
        video(name=None),
        video(bucket=7),
        {"S3Object": "media/clips/a.mp4"},
        {},
    ],
)
def test_local_unreadable_objects(s3_dir: Path, request_video: dict[str, Any]) -> None:
    locator = VideoLocator(s3_dir)
    with pytest.raises(InvalidS3ObjectException, match="Unable to get object metadata from S3"):
        locator.check(request_video)
    with pytest.raises(InvalidS3ObjectException), locator.local_path(request_video):
        pass


def test_symlink_loop_is_unreadable(s3_dir: Path) -> None:
    loop = s3_dir / "media" / "loop.mp4"
    os.symlink(loop, loop)
    with pytest.raises(InvalidS3ObjectException) as error:
        VideoLocator(s3_dir).check(video(name="loop.mp4"))
    assert str(error.value) == S3_UNREADABLE


def test_too_large(s3_dir: Path) -> None:
    locator = VideoLocator(s3_dir, max_bytes=len(CONTENT) - 1)
    with pytest.raises(VideoTooLargeException):
        locator.check(video())
    with pytest.raises(VideoTooLargeException), locator.local_path(video()):
        pass
    VideoLocator(s3_dir, max_bytes=len(CONTENT)).check(video())


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        import boto3

        client = boto3.client("s3", endpoint_url="https://s3.us-east-1.amazonaws.com")
        client.create_bucket(Bucket="media")
        client.put_object(Bucket="media", Key="clips/a.mp4", Body=CONTENT)
        yield client


def test_remote_object_is_downloaded_and_deleted(s3: Any, tmp_path: Path) -> None:
    locator = VideoLocator(tmp_path, s3_endpoint_url="https://s3.us-east-1.amazonaws.com")
    locator.check(video())
    with locator.local_path(video()) as path:
        assert path.read_bytes() == CONTENT
        assert path.suffix == ".mp4"
    assert not path.exists()


def test_remote_errors(s3: Any, tmp_path: Path) -> None:
    locator = VideoLocator(tmp_path, s3_endpoint_url="https://s3.us-east-1.amazonaws.com")
    for missing in (video(name="clips/b.mp4"), video(bucket="nobucket"), video(Version="nosuchversion")):
        with pytest.raises(InvalidS3ObjectException):
            locator.check(missing)
        with pytest.raises(InvalidS3ObjectException), locator.local_path(missing):
            pass
    small = VideoLocator(tmp_path, s3_endpoint_url="https://s3.us-east-1.amazonaws.com", max_bytes=10)
    with pytest.raises(VideoTooLargeException):
        small.check(video())
    with pytest.raises(VideoTooLargeException), small.local_path(video()):
        pass


def test_remote_temp_file_is_deleted_when_the_job_fails(s3: Any, tmp_path: Path) -> None:
    locator = VideoLocator(tmp_path, s3_endpoint_url="https://s3.us-east-1.amazonaws.com")
    with pytest.raises(RuntimeError), locator.local_path(video()) as path:
        raise RuntimeError("decoding failed")
    assert not path.exists()


def test_a_local_video_longer_than_the_limit_is_refused_at_start(tmp_path: Path) -> None:
    clip = tmp_path / "s3" / "media" / "two_seconds.mp4"
    clip.parent.mkdir(parents=True)
    make_clip(clip, [(pattern(), 2 * FPS)])
    with pytest.raises(VideoTooLargeException, match="duration 2 s exceeds the limit of 1 s"):
        VideoLocator(tmp_path / "s3", max_seconds=1.0).check(video(name="two_seconds.mp4"))
    VideoLocator(tmp_path / "s3", max_seconds=3.0).check(video(name="two_seconds.mp4"))


def test_a_file_whose_header_says_nothing_passes_start_and_fails_in_the_job(s3_dir: Path) -> None:
    # Not a video: Start accepts it as AWS does; the job ends FAILED saying why.
    VideoLocator(s3_dir, max_seconds=0.001).check(video())
