"""StartFaceSearch / GetFaceSearch: a person indexed from one still, found in a clip of other photos."""

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

SECONDS = 2  # each segment: Obama (another photo than the indexed one), then Biden, then Obama again


def frame_of(photo: Path) -> np.ndarray:
    """The photo fitted into a 640x480 frame, proportions kept (grey bars)."""
    return np.asarray(ImageOps.pad(Image.open(photo).convert("RGB"), (640, 480), color=(128, 128, 128)))


@pytest.fixture(scope="module")
def search_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("search") / "data"
    folder = photos / "face_recognition"
    clip = data / "s3" / "videos" / "people.mp4"
    clip.parent.mkdir(parents=True)
    segments = [
        (frame_of(folder / name), SECONDS * FPS) for name in ("obama2.jpg", "biden.jpg", "obama3.jpg")
    ]
    make_clip(clip, segments, fps=FPS)
    process = ServerProcess(data)
    client = rekognition_client(process.url)
    client.create_collection(CollectionId="staff")
    client.index_faces(
        CollectionId="staff", Image={"Bytes": (folder / "obama.jpg").read_bytes()}, ExternalImageId="obama"
    )
    yield process
    process.stop()


def test_the_indexed_person_is_found_only_where_present(search_server: ServerProcess) -> None:
    client = rekognition_client(search_server.url)
    job_id = client.start_face_search(Video=video("people.mp4"), CollectionId="staff")["JobId"]
    done = finished(client.get_face_search, job_id)
    assert_valid_output("GetFaceSearch", done)
    assert done["JobStatus"] == "SUCCEEDED"
    stamps = [person["Timestamp"] for person in done["Persons"]]
    in_first = [t for t in stamps if t < SECONDS * 1000]
    in_biden = [t for t in stamps if SECONDS * 1000 <= t < 2 * SECONDS * 1000]
    in_last = [t for t in stamps if t >= 2 * SECONDS * 1000]
    assert len(in_first) == 10 and len(in_last) == 10 and in_biden == []
    for person in done["Persons"]:
        (match,) = person["FaceMatches"]
        assert match["Face"]["ExternalImageId"] == "obama" and match["Similarity"] >= 80
    # One Index while visible: the first segment is one track, the second appearance a new one.
    first_index = {p["Person"]["Index"] for p in done["Persons"] if p["Timestamp"] < SECONDS * 1000}
    last_index = {p["Person"]["Index"] for p in done["Persons"] if p["Timestamp"] >= 2 * SECONDS * 1000}
    assert len(first_index) == 1 and len(last_index) == 1 and first_index != last_index
    by_index = client.get_face_search(JobId=job_id, SortBy="INDEX")["Persons"]
    assert [p["Person"]["Index"] for p in by_index] == sorted(p["Person"]["Index"] for p in by_index)


def test_a_missing_collection_is_refused_at_start(search_server: ServerProcess) -> None:
    client = rekognition_client(search_server.url)
    with pytest.raises(ClientError) as error:
        client.start_face_search(Video=video("people.mp4"), CollectionId="nobody")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
