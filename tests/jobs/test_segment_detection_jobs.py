"""StartSegmentDetection / GetSegmentDetection through a real server on PyAV-written clips:
shots with camera motion, black frames and colour bars at known frames."""

from __future__ import annotations

import itertools
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
from tests.jobs.test_face_detection_jobs import video
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip
from tests.video.motion import camera, smpte_bars, solid, write_video

pytestmark = pytest.mark.needs_server

SIZE = (320, 180)
# The main clip at 25 fps, 250 frames: (first frame, last frame) of each part.
SHOTS = [(0, 49), (50, 99), (100, 124), (125, 174), (175, 199), (200, 249)]
BLACK = (100, 124)
BARS = (175, 199)


def _photo(photos: Path, name: str) -> np.ndarray:
    return np.asarray(Image.open(photos / name).convert("RGB"))


@pytest.fixture(scope="module")
def segments_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("segments") / "data"
    bucket = data / "s3" / "videos"
    coffee, astronaut = _photo(photos, "skimage/coffee.png"), _photo(photos, "skimage/astronaut.png")
    fruits, cat = _photo(photos, "opencv-doc/fruits.jpg"), _photo(photos, "skimage/chelsea.png")
    write_video(
        bucket / "cuts.mp4",
        itertools.chain(
            camera(coffee, 50, SIZE, (0.3, 0.5, 1.2), (0.7, 0.5, 1.3)),  # pan
            camera(astronaut, 50, SIZE, (0.5, 0.4, 1.0), (0.5, 0.4, 1.6)),  # zoom in
            solid((0, 0, 0), 25, SIZE),
            camera(fruits, 50, SIZE, (0.4, 0.4, 1.5), (0.6, 0.6, 1.5)),  # diagonal pan
            [smpte_bars(SIZE)] * 25,
            camera(cat, 50, SIZE, (0.5, 0.5, 1.1), (0.45, 0.5, 1.4)),
        ),
    )
    # For the BlackFrame options: 1 s of a photo between each of: dark grey (luma about
    # 0.15 of the range), black with a small white logo (2% of the frame).
    logo = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    logo[10:34, 10:34] = 255  # two 24x24 squares: 1152 of 57600 pixels, 2%
    logo[40:64, 10:34] = 255
    write_video(
        bucket / "dark.mp4",
        itertools.chain(
            camera(coffee, 25, SIZE, (0.5, 0.5, 1.0), (0.5, 0.5, 1.0)),
            solid((38, 38, 38), 25, SIZE),
            camera(coffee, 25, SIZE, (0.5, 0.5, 1.0), (0.5, 0.5, 1.0)),
            [logo] * 25,
            camera(coffee, 25, SIZE, (0.5, 0.5, 1.0), (0.5, 0.5, 1.0)),
        ),
    )
    make_clip(bucket / "sound.mp4", [(np.zeros((180, 320, 3), np.uint8), 25)], with_audio=True)
    process = ServerProcess(data)
    yield process
    process.stop()


def _frames(segment: dict[str, Any]) -> tuple[int, int]:
    return segment["StartFrameNumber"], segment["EndFrameNumber"]


def _cues(done: dict[str, Any], cue: str) -> list[tuple[int, int]]:
    return [
        _frames(s)
        for s in done["Segments"]
        if s["Type"] == "TECHNICAL_CUE" and s["TechnicalCueSegment"]["Type"] == cue
    ]


def test_cuts_black_frames_and_colour_bars_are_found_at_their_frames(segments_server: ServerProcess) -> None:
    client = rekognition_client(segments_server.url)
    job_id = client.start_segment_detection(
        Video=video("cuts.mp4"), SegmentTypes=["TECHNICAL_CUE", "SHOT"], JobTag="edit"
    )["JobId"]
    done = finished(client.get_segment_detection, job_id)
    assert_valid_output("GetSegmentDetection", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["JobTag"] == "edit"
    assert done["SelectedSegmentTypes"] == [
        {"Type": "TECHNICAL_CUE", "ModelVersion": "1.0"},
        {"Type": "SHOT", "ModelVersion": "1.0"},
    ]
    (metadata,) = done["VideoMetadata"]
    assert (metadata["FrameWidth"], metadata["FrameHeight"], metadata["FrameRate"]) == (320, 180, 25)
    assert done["AudioMetadata"] == []
    kinds = [s["Type"] for s in done["Segments"]]
    assert kinds == sorted(kinds, key=["TECHNICAL_CUE", "SHOT"].index)  # in the order asked
    shots = [s for s in done["Segments"] if s["Type"] == "SHOT"]
    assert [_frames(s) for s in shots] == SHOTS
    assert [s["ShotSegment"]["Index"] for s in shots] == list(range(len(SHOTS)))
    assert all(s["ShotSegment"]["Confidence"] > 80 for s in shots)
    assert _cues(done, "BlackFrames") == [BLACK]
    assert _cues(done, "ColorBars") == [BARS]
    black = next(s for s in done["Segments"] if s["Type"] == "TECHNICAL_CUE")
    # AWS's conventions: the end is the last frame's own time and timecode; durations
    # are end minus start.
    assert black["StartTimestampMillis"] == 4000 and black["EndTimestampMillis"] == 4960
    assert black["DurationMillis"] == 960 and black["DurationFrames"] == 24
    assert (black["StartTimecodeSMPTE"], black["EndTimecodeSMPTE"]) == ("00:00:04:00", "00:00:04:24")
    assert black["DurationSMPTE"] == "00:00:00:24"
    assert black["TechnicalCueSegment"]["Confidence"] == 100  # every pixel at true black
    last = shots[-1]
    assert (last["StartTimecodeSMPTE"], last["EndTimecodeSMPTE"]) == ("00:00:08:00", "00:00:09:24")

    pages, token = [], None
    while True:
        page = client.get_segment_detection(
            JobId=job_id, MaxResults=3, **({"NextToken": token} if token else {})
        )
        assert_valid_output("GetSegmentDetection", page)
        assert page["SelectedSegmentTypes"] == done["SelectedSegmentTypes"]  # on every page
        pages += page["Segments"]
        token = page.get("NextToken")
        if token is None:
            break
    assert pages == done["Segments"]


def test_shot_confidence_filter_drops_shots(segments_server: ServerProcess) -> None:
    client = rekognition_client(segments_server.url)
    job_id = client.start_segment_detection(
        Video=video("cuts.mp4"), SegmentTypes=["SHOT"], Filters={"ShotFilter": {"MinSegmentConfidence": 100}}
    )["JobId"]
    done = finished(client.get_segment_detection, job_id)
    assert done["JobStatus"] == "SUCCEEDED"
    assert done["Segments"] == []  # no cut is certain
    assert done["SelectedSegmentTypes"] == [{"Type": "SHOT", "ModelVersion": "1.0"}]


def _black_frames(client: Any, **black_frame: float) -> list[tuple[int, int]]:
    job_id = client.start_segment_detection(
        Video=video("dark.mp4"),
        SegmentTypes=["TECHNICAL_CUE"],
        Filters={"TechnicalCueFilter": {"BlackFrame": black_frame}} if black_frame else {},
    )["JobId"]
    done = finished(client.get_segment_detection, job_id)
    assert_valid_output("GetSegmentDetection", done)
    return _cues(done, "BlackFrames")


def test_black_frame_options_change_what_is_black(segments_server: ServerProcess) -> None:
    client = rekognition_client(segments_server.url)
    grey, logo = (25, 49), (75, 99)
    # Defaults (0.2, 99%): dark grey at 0.15 of the range is black; 2% of white logo is not.
    assert _black_frames(client) == [grey]
    # A stricter level: the grey is no longer black.
    assert _black_frames(client, MaxPixelThreshold=0.1) == []
    # A looser coverage: the frame with a logo counts as black too.
    assert _black_frames(client, MinCoveragePercentage=95) == [grey, logo]


def test_audio_streams_are_described(segments_server: ServerProcess) -> None:
    client = rekognition_client(segments_server.url)
    job_id = client.start_segment_detection(Video=video("sound.mp4"), SegmentTypes=["TECHNICAL_CUE"])["JobId"]
    done = finished(client.get_segment_detection, job_id)
    assert_valid_output("GetSegmentDetection", done)
    (audio,) = done["AudioMetadata"]
    # make_clip writes its mono tone into an AAC stream of the encoder's default layout, stereo.
    assert (audio["Codec"], audio["SampleRate"], audio["NumberOfChannels"]) == ("aac", 44100, 2)
    assert abs(audio["DurationMillis"] - 1000) < 100
    assert _cues(done, "BlackFrames") == [(0, 24)]


@pytest.mark.parametrize(
    "request_",
    [
        {"SegmentTypes": []},
        {"SegmentTypes": ["SCENE"]},
        {"SegmentTypes": ["SHOT"], "Filters": {"ShotFilter": {"MinSegmentConfidence": 40}}},
        {
            "SegmentTypes": ["TECHNICAL_CUE"],
            "Filters": {"TechnicalCueFilter": {"BlackFrame": {"MaxPixelThreshold": 2}}},
        },
    ],
)
def test_bad_requests_are_refused_at_start(segments_server: ServerProcess, request_: dict[str, Any]) -> None:
    client = rekognition_client(segments_server.url, validate=False)
    with pytest.raises(ClientError) as error:
        client.start_segment_detection(Video=video("cuts.mp4"), **request_)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert segments_server.alive()
