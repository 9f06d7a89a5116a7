"""StartContentModeration / GetContentModeration on a clip of photos the moderation models
rate as swimwear, around a neutral photo; by timestamp and by segment.

The eval photos are all safe for work. Two group photos of people in light summer
clothes (face-api's sample2 and sample3) are the ones the models rate highest as
"Swimwear or Underwear" (about 47-51 with DetectModerationLabels), every everyday photo
below 5. Scaled to 960x672 with a Lanczos filter they keep 41-43 there, and every other
label under 14; smaller or blurrier scalings move these weak, safe-for-work signals a
lot. A MinConfidence of 25 separates them with a wide margin either side."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from openrek.jobs.notify import completion_message
from openrek.jobs.store import Job
from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.polling import finished
from tests.jobs.test_face_detection_jobs import video
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server

FPS = 20  # frames 50 ms apart: the 2-a-second samples fall on whole half seconds
SECONDS = 2
PHOTOS = ("face-api/sample2.jpg", "skimage/chelsea.png", "face-api/sample3.jpg")  # rated, neutral, rated
MIN_CONFIDENCE = 25.0
SIZE = (960, 672)
SWIMWEAR = "Swimwear or Underwear"


def frame_of(photo: Path) -> np.ndarray:
    picture = Image.open(photo).convert("RGB")
    return np.asarray(ImageOps.fit(picture, SIZE, method=Image.Resampling.LANCZOS))


@pytest.fixture(scope="module")
def moderation_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("moderation") / "data"
    clip = data / "s3" / "videos" / "beach.mp4"
    clip.parent.mkdir(parents=True)
    make_clip(clip, [(frame_of(photos / name), SECONDS * FPS) for name in PHOTOS], fps=FPS)
    process = ServerProcess(data)
    yield process
    process.stop()


def test_labels_where_the_rated_photos_are_and_not_between(
    moderation_server: ServerProcess, photos: Path
) -> None:
    client = rekognition_client(moderation_server.url)
    job_id = client.start_content_moderation(
        Video=video("beach.mp4"), MinConfidence=MIN_CONFIDENCE, JobTag="beach"
    )["JobId"]
    done = finished(client.get_content_moderation, job_id)
    assert_valid_output("GetContentModeration", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["JobTag"] == "beach"
    assert done["ModerationModelVersion"] == "7.0"
    assert done["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}
    stamps = [item["Timestamp"] for item in done["ModerationLabels"]]
    assert stamps == sorted(stamps)
    # Two samples a second: each of the 4 rated seconds' samples, none of the neutral ones.
    swimwear = {i["Timestamp"] for i in done["ModerationLabels"] if i["ModerationLabel"]["Name"] == SWIMWEAR}
    assert swimwear == {0, 500, 1000, 1500, 4000, 4500, 5000, 5500}
    assert not [t for t in stamps if SECONDS * 1000 <= t < 2 * SECONDS * 1000]
    for item in done["ModerationLabels"]:
        label = item["ModerationLabel"]
        assert label["Confidence"] >= MIN_CONFIDENCE and "StartTimestampMillis" not in item
        assert item["ContentTypes"] == []  # photos, not drawings

    # Each sampled frame answers as DetectModerationLabels answers for that picture
    # (the video's compression moves confidences a little, not the labels).
    for index, name in enumerate(PHOTOS):
        buffer = io.BytesIO()
        Image.fromarray(frame_of(photos / name)).save(buffer, format="PNG")
        still = client.detect_moderation_labels(
            Image={"Bytes": buffer.getvalue()}, MinConfidence=MIN_CONFIDENCE
        )["ModerationLabels"]
        first = index * SECONDS * 1000
        in_video = [i["ModerationLabel"] for i in done["ModerationLabels"] if i["Timestamp"] == first]
        assert [label["Name"] for label in in_video] == [label["Name"] for label in still]
        for moving, fixed in zip(in_video, still, strict=True):
            assert moving["Confidence"] == pytest.approx(fixed["Confidence"], abs=8)


def test_segments_sorted_by_name(moderation_server: ServerProcess) -> None:
    client = rekognition_client(moderation_server.url)
    job_id = client.start_content_moderation(Video=video("beach.mp4"), MinConfidence=MIN_CONFIDENCE)["JobId"]
    finished(client.get_content_moderation, job_id)
    done = client.get_content_moderation(JobId=job_id, AggregateBy="SEGMENTS", SortBy="NAME")
    assert_valid_output("GetContentModeration", done)
    assert done["GetRequestMetadata"] == {"SortBy": "NAME", "AggregateBy": "SEGMENTS"}
    names = [item["ModerationLabel"]["Name"] for item in done["ModerationLabels"]]
    assert names == sorted(names)
    spans = [
        (item["StartTimestampMillis"], item["EndTimestampMillis"], item["DurationMillis"])
        for item in done["ModerationLabels"]
        if item["ModerationLabel"]["Name"] == SWIMWEAR
    ]
    # one segment per appearance, ending one sampling interval past its last sample
    assert spans == [(0, 2000, 2000), (4000, 6000, 2000)]
    for item in done["ModerationLabels"]:
        assert item["Timestamp"] == item["StartTimestampMillis"]
        assert item["ModerationLabel"]["ParentName"] == "" and item["ModerationLabel"]["TaxonomyLevel"] == 1


def test_completion_is_announced_as_content_moderation() -> None:
    job = Job(
        "j" * 64, "StartContentModeration", "SUCCEEDED", None, {"Video": video("beach.mp4")}, "tag", 0.0
    )
    message = completion_message(job, "SUCCEEDED")
    assert message["API"] == "CONTENT_MODERATION" and message["JobTag"] == "tag"
