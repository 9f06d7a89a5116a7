"""StartLabelDetection / GetLabelDetection: a dog, then a cat; by timestamp and by segment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.polling import finished
from tests.jobs.test_face_detection_jobs import FPS, video
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server

DOG = "forensics/pic1/IMG-20191006-WA0002.jpg"  # a Samoyed (tests/data/label_truth.json)
CAT = "skimage/chelsea.png"


def frame_of(photo: Path) -> np.ndarray:
    return np.asarray(ImageOps.pad(Image.open(photo).convert("RGB"), (640, 480), color=(128, 128, 128)))


@pytest.fixture(scope="module")
def labels_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("labels") / "data"
    clip = data / "s3" / "videos" / "pets.mp4"
    clip.parent.mkdir(parents=True)
    make_clip(clip, [(frame_of(photos / DOG), 2 * FPS), (frame_of(photos / CAT), 2 * FPS)], fps=FPS)
    process = ServerProcess(data)
    yield process
    process.stop()


def test_labels_by_timestamp_and_by_segment(labels_server: ServerProcess) -> None:
    client = rekognition_client(labels_server.url)
    job_id = client.start_label_detection(Video=video("pets.mp4"), MinConfidence=60, JobTag="pets")["JobId"]
    done = finished(client.get_label_detection, job_id)
    assert_valid_output("GetLabelDetection", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["LabelModelVersion"] == "3.0"
    assert done["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}
    seen: dict[str, set[int]] = {}
    for item in done["Labels"]:
        seen.setdefault(item["Label"]["Name"], set()).add(item["Timestamp"])
        assert item["Label"]["Confidence"] >= 60
    # One frame a second: the dog at 0 and 1 s, the cat at 2 and 3 s.
    assert seen["Dog"] == {0, 1000} and seen["Cat"] == {2000, 3000}
    stamps = [item["Timestamp"] for item in done["Labels"]]
    assert stamps == sorted(stamps)

    by_name = client.get_label_detection(JobId=job_id, SortBy="NAME")["Labels"]
    assert [i["Label"]["Name"] for i in by_name] == sorted(i["Label"]["Name"] for i in by_name)

    segments = client.get_label_detection(JobId=job_id, AggregateBy="SEGMENTS")
    assert_valid_output("GetLabelDetection", segments)
    assert segments["GetRequestMetadata"]["AggregateBy"] == "SEGMENTS"
    named = {s["Label"]["Name"]: s for s in segments["Labels"]}
    assert (named["Dog"]["StartTimestampMillis"], named["Dog"]["EndTimestampMillis"]) == (0, 2000)
    assert (named["Cat"]["StartTimestampMillis"], named["Cat"]["EndTimestampMillis"]) == (2000, 4000)
    assert named["Cat"]["DurationMillis"] == 2000 and "Instances" not in named["Cat"]["Label"]
