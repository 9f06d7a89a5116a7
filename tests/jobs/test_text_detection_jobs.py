"""StartTextDetection / GetTextDetection on a clip of a street sign, then a blank screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageOps

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.polling import finished
from tests.jobs.test_face_detection_jobs import FPS, video
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server


@pytest.fixture(scope="module")
def text_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("text") / "data"
    sign = np.asarray(
        ImageOps.pad(Image.open(photos / "opencv-doc/scenetext01.jpg").convert("RGB"), (960, 720))
    )
    clip = data / "s3" / "videos" / "sign.mp4"
    clip.parent.mkdir(parents=True)
    make_clip(clip, [(sign, 2 * FPS), (np.full_like(sign, 200), FPS)], fps=FPS)  # 2 s of sign, 1 s blank
    process = ServerProcess(data)
    yield process
    process.stop()


def test_the_sign_is_read_while_it_is_on_screen(text_server: ServerProcess) -> None:
    client = rekognition_client(text_server.url)
    job_id = client.start_text_detection(
        Video=video("sign.mp4"), Filters={"WordFilter": {"MinConfidence": 80}}
    )["JobId"]
    done = finished(client.get_text_detection, job_id)
    assert_valid_output("GetTextDetection", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["TextModelVersion"] == "3.0"
    words_at: dict[int, set[str]] = {}
    for found in done["TextDetections"]:
        if found["TextDetection"]["Type"] == "WORD":
            words_at.setdefault(found["Timestamp"], set()).add(found["TextDetection"]["DetectedText"])
    # One frame a second by default: the sign at 0 s and 1 s, nothing on the blank second.
    assert sorted(words_at) == [0, 1000]
    for words in words_at.values():
        assert {"NOTICE", "PARKING", "PROHIBITED"} <= words


def test_bad_filters_are_refused_at_start(text_server: ServerProcess) -> None:
    client = rekognition_client(text_server.url, validate=False)
    with pytest.raises(ClientError) as error:
        client.start_text_detection(Video=video("sign.mp4"), Filters={"RegionsOfInterest": [{}]})
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
