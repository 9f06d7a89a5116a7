"""Celebrities through a real server and boto3, with a gallery built by the real CLI.

The person: Barack Obama, added from two photos (obama.jpg, obama2.jpg) and recognised
in a third, different one (obama3.jpg); the stranger: Joe Biden (biden.jpg), who is
in no gallery. Photos from face_recognition's tests (the `photos` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageOps

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, models_dir, rekognition_client
from tests.jobs.polling import finished
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server

FPS = 25
SECONDS = 2  # each segment of the clip: Obama, then Biden, then Obama again
COMPARED_LANDMARKS = {"eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"}


def celebrities_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models_dir())}
    return subprocess.run(
        [sys.executable, "-m", "openrek", "celebrities", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def image(photo: Path) -> dict[str, Any]:
    return {"Bytes": photo.read_bytes()}


def frame_of(photo: Path) -> np.ndarray:
    return np.asarray(ImageOps.pad(Image.open(photo).convert("RGB"), (640, 480), color=(128, 128, 128)))


@pytest.fixture(scope="module")
def server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("celebrities") / "data"
    folder = photos / "face_recognition"
    clip = data / "s3" / "videos" / "people.mp4"
    clip.parent.mkdir(parents=True)
    segments = [
        (frame_of(folder / name), SECONDS * FPS) for name in ("obama3.jpg", "biden.jpg", "obama3.jpg")
    ]
    make_clip(clip, segments, fps=FPS)
    process = ServerProcess(data)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def obama(server: ServerProcess, photos: Path) -> dict[str, Any]:
    """Added while the server runs, as an operator would: the server sees it on its next request."""
    folder = photos / "face_recognition"
    client = rekognition_client(server.url)
    empty = client.recognize_celebrities(Image=image(folder / "obama3.jpg"))
    assert empty["CelebrityFaces"] == [] and len(empty["UnrecognizedFaces"]) == 1  # the empty gallery
    added = celebrities_cli(
        server.data_dir,
        "add",
        "--name",
        "Barack Obama",
        "--url",
        "https://en.wikipedia.org/wiki/Barack_Obama",
        "--gender",
        "Male",
        str(folder / "obama.jpg"),
        str(folder / "obama2.jpg"),
    )
    assert added.returncode == 0, added.stderr
    entry: dict[str, Any] = json.loads(added.stdout)
    return entry


def test_a_person_added_from_two_photos_is_recognised_in_a_third(
    server: ServerProcess, obama: dict[str, Any], photos: Path
) -> None:
    client = rekognition_client(server.url)
    found = client.recognize_celebrities(Image=image(photos / "face_recognition" / "obama3.jpg"))
    assert_valid_output("RecognizeCelebrities", found)
    (celebrity,) = found["CelebrityFaces"]
    assert found["UnrecognizedFaces"] == []
    assert celebrity["Id"] == obama["Id"] and celebrity["Name"] == "Barack Obama"
    assert celebrity["Urls"] == ["https://en.wikipedia.org/wiki/Barack_Obama"]
    assert celebrity["KnownGender"] == {"Type": "Male"}
    assert celebrity["MatchConfidence"] >= 80
    face = celebrity["Face"]
    assert {mark["Type"] for mark in face["Landmarks"]} == COMPARED_LANDMARKS
    assert {"BoundingBox", "Confidence", "Pose", "Quality", "Emotions", "Smile"} <= set(face)
    assert 0.1 < face["BoundingBox"]["Width"] < 1 and face["Confidence"] > 90


def test_a_stranger_is_not_recognised(server: ServerProcess, obama: dict[str, Any], photos: Path) -> None:
    client = rekognition_client(server.url)
    answer = client.recognize_celebrities(Image=image(photos / "face_recognition" / "biden.jpg"))
    assert_valid_output("RecognizeCelebrities", answer)
    assert answer["CelebrityFaces"] == []
    (stranger,) = answer["UnrecognizedFaces"]
    assert "Emotions" in stranger and {m["Type"] for m in stranger["Landmarks"]} == COMPARED_LANDMARKS
    # A group photo of six other people: six faces, none of them Obama.
    group = client.recognize_celebrities(Image=image(photos / "insightface" / "t1.jpg"))
    assert group["CelebrityFaces"] == [] and len(group["UnrecognizedFaces"]) == 6


def test_celebrity_info(server: ServerProcess, obama: dict[str, Any]) -> None:
    client = rekognition_client(server.url)
    info = client.get_celebrity_info(Id=obama["Id"])
    assert_valid_output("GetCelebrityInfo", info)
    assert {key: info[key] for key in ("Name", "Urls", "KnownGender")} == {
        "Name": "Barack Obama",
        "Urls": ["https://en.wikipedia.org/wiki/Barack_Obama"],
        "KnownGender": {"Type": "Male"},
    }
    with pytest.raises(ClientError) as error:
        client.get_celebrity_info(Id="Nobody123")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bad_images_get_aws_errors(server: ServerProcess, obama: dict[str, Any]) -> None:
    client = rekognition_client(server.url)
    with pytest.raises(ClientError) as error:
        client.recognize_celebrities(Image={"Bytes": b"not a picture at all"})
    assert error.value.response["Error"]["Code"] == "InvalidImageFormatException"
    with pytest.raises(ClientError) as error:
        client.recognize_celebrities(Image={"S3Object": {"Bucket": "nobucket", "Name": "none.jpg"}})
    assert error.value.response["Error"]["Code"] == "InvalidS3ObjectException"
    assert server.alive()


def test_the_video_job_finds_the_celebrity_where_he_is(server: ServerProcess, obama: dict[str, Any]) -> None:
    client = rekognition_client(server.url)
    video = {"S3Object": {"Bucket": "videos", "Name": "people.mp4"}}
    job_id = client.start_celebrity_recognition(Video=video, JobTag="celebrities")["JobId"]
    done = finished(client.get_celebrity_recognition, job_id)
    assert_valid_output("GetCelebrityRecognition", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["JobTag"] == "celebrities"
    stamps = [seen["Timestamp"] for seen in done["Celebrities"]]
    first = [t for t in stamps if t < SECONDS * 1000]
    middle = [t for t in stamps if SECONDS * 1000 <= t < 2 * SECONDS * 1000]
    last = [t for t in stamps if t >= 2 * SECONDS * 1000]
    assert len(first) == 10 and len(last) == 10 and middle == []  # 5 sampled frames a second
    assert stamps == sorted(stamps)
    for seen in done["Celebrities"]:
        celebrity = seen["Celebrity"]
        assert celebrity["Id"] == obama["Id"] and celebrity["Name"] == "Barack Obama"
        assert celebrity["Confidence"] >= 80 and celebrity["KnownGender"] == {"Type": "Male"}
        assert celebrity["BoundingBox"] == celebrity["Face"]["BoundingBox"]
        assert "Emotions" not in celebrity["Face"]  # default attributes only, as on AWS
    by_id = client.get_celebrity_recognition(JobId=job_id, SortBy="ID", MaxResults=7)
    assert len(by_id["Celebrities"]) == 7 and "NextToken" in by_id


def test_the_cli_lists_refuses_and_removes(
    server: ServerProcess, obama: dict[str, Any], photos: Path
) -> None:
    listed = celebrities_cli(server.data_dir, "list")
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)["Celebrities"]
    assert entry["Id"] == obama["Id"] and entry["FaceVectors"]["1.0"] == 2  # two photos, model 1.0
    # A photo without a face adds nobody, and says why.
    no_face = celebrities_cli(
        server.data_dir, "add", "--name", "Nobody", str(photos / "skimage" / "coffee.png")
    )
    assert no_face.returncode == 1 and "no face" in no_face.stderr
    assert len(json.loads(celebrities_cli(server.data_dir, "list").stdout)["Celebrities"]) == 1
    unknown = celebrities_cli(server.data_dir, "remove", "Nobody123")
    assert unknown.returncode == 1 and "Nobody123" in unknown.stderr
    # Removed: the running server no longer names him (this test runs last in the module).
    assert celebrities_cli(server.data_dir, "remove", obama["Id"]).returncode == 0
    client = rekognition_client(server.url)
    after = client.recognize_celebrities(Image=image(photos / "face_recognition" / "obama3.jpg"))
    assert after["CelebrityFaces"] == [] and len(after["UnrecognizedFaces"]) == 1
    with pytest.raises(ClientError) as error:
        client.get_celebrity_info(Id=obama["Id"])
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
