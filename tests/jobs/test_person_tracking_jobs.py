"""StartPersonTracking / GetPersonTracking: real walkers (the PETS09 pedestrians clip,
re-encoded to H.264) through a real server, and the tracking glue offline."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openrek.jobs.person_tracks import PersonTracks, faces_of_people
from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.polling import finished
from tests.jobs.test_face_detection_jobs import video
from tests.jobs.test_face_search_jobs import frame_of
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip
from tests.video.reencode import h264_excerpt

SECONDS = 5  # of the pedestrians clip: 50 frames, sampled at 5 a second
SAMPLES = SECONDS * 5
STEP_MILLIS = 200


@pytest.fixture(scope="module")
def people_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("people") / "data"
    bucket = data / "s3" / "videos"
    bucket.mkdir(parents=True)
    h264_excerpt(photos / "opencv-doc" / "vtest.avi", bucket / "walkers.mp4", seconds=SECONDS)
    # A face the detector finds: a portrait photo held for 1 s.
    make_clip(bucket / "portrait.mp4", [(frame_of(photos / "face_recognition" / "obama2.jpg"), 25)])
    process = ServerProcess(data)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def walkers(people_server: ServerProcess) -> tuple[str, dict[str, Any]]:
    client = rekognition_client(people_server.url)
    job_id = client.start_person_tracking(Video=video("walkers.mp4"), JobTag="walk")["JobId"]
    return job_id, finished(client.get_person_tracking, job_id)


def bottom(box: dict[str, float]) -> float:
    return box["Top"] + box["Height"]


def paths(persons: list[dict[str, Any]]) -> dict[int, list[tuple[int, dict[str, float]]]]:
    by_index: dict[int, list[tuple[int, dict[str, float]]]] = defaultdict(list)
    for person in persons:
        by_index[person["Person"]["Index"]].append((person["Timestamp"], person["Person"]["BoundingBox"]))
    return by_index


@pytest.mark.needs_server
def test_walkers_keep_their_index_while_they_walk(walkers: tuple[str, dict[str, Any]]) -> None:
    _, done = walkers
    assert_valid_output("GetPersonTracking", done)
    assert done["JobStatus"] == "SUCCEEDED" and done["JobTag"] == "walk"
    assert done["VideoMetadata"]["FrameWidth"] == 768 and done["VideoMetadata"]["DurationMillis"] == 5000
    persons = done["Persons"]
    # Each frame lists a person once; timestamps ascend (the default TIMESTAMP order).
    stamps = [p["Timestamp"] for p in persons]
    assert stamps == sorted(stamps)
    per_frame: dict[int, list[int]] = defaultdict(list)
    for person in persons:
        per_frame[person["Timestamp"]].append(person["Person"]["Index"])
    assert all(len(set(indices)) == len(indices) for indices in per_frame.values())
    # Five to eight people walk in these 5 s, two of them in view throughout: those two
    # keep one Index on every sampled frame after the first (a track is confirmed on
    # its second sighting).
    tracks = paths(persons)
    assert 4 <= len(tracks) <= 12, sorted(tracks)
    long_tracks = [path for path in tracks.values() if len(path) >= SAMPLES - 1]
    assert len(long_tracks) >= 2, {index: len(path) for index, path in tracks.items()}
    assert max(len(indices) for indices in per_frame.values()) >= 4
    for path in long_tracks:
        for (before, box_before), (after, box_after) in itertools.pairwise(path):
            # Seen on (nearly) every sampled frame, and its feet move as a walker's do: a
            # few pixels a fifth of a second, never a jump to someone else. (The top of
            # the box may jump: walking past people the box grows over the one behind.)
            assert after - before <= 2 * STEP_MILLIS
            feet_before = np.array([box_before["Left"] + box_before["Width"] / 2, bottom(box_before)])
            feet_after = np.array([box_after["Left"] + box_after["Width"] / 2, bottom(box_after)])
            assert np.abs(feet_after - feet_before).max() < 0.05, (before, after)
        first, last = path[0][1], path[-1][1]
        assert abs(first["Height"] - last["Height"]) < 0.5 * first["Height"]
    # Nobody here shows a face large enough to be detected.
    assert not any("Face" in p["Person"] for p in persons)


@pytest.mark.needs_server
def test_sort_by_index_and_pages(people_server: ServerProcess, walkers: tuple[str, dict[str, Any]]) -> None:
    job_id, done = walkers
    client = rekognition_client(people_server.url)
    by_index = client.get_person_tracking(JobId=job_id, SortBy="INDEX")
    assert_valid_output("GetPersonTracking", by_index)
    keys = [(p["Person"]["Index"], p["Timestamp"]) for p in by_index["Persons"]]
    assert keys == sorted(keys) and len(keys) == len(done["Persons"])
    paged: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = client.get_person_tracking(JobId=job_id, MaxResults=40, **token)
        assert_valid_output("GetPersonTracking", page)
        assert len(page["Persons"]) <= 40
        paged += page["Persons"]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert paged == done["Persons"]


@pytest.mark.needs_server
def test_a_visible_face_is_attached_to_its_person(people_server: ServerProcess) -> None:
    client = rekognition_client(people_server.url)
    job_id = client.start_person_tracking(Video=video("portrait.mp4"))["JobId"]
    done = finished(client.get_person_tracking, job_id)
    assert_valid_output("GetPersonTracking", done)
    persons = done["Persons"]
    assert len(persons) >= 3 and {p["Person"]["Index"] for p in persons} == {0}
    for person in persons:
        body, face = person["Person"]["BoundingBox"], person["Person"]["Face"]
        centre_x = face["BoundingBox"]["Left"] + face["BoundingBox"]["Width"] / 2
        assert body["Left"] <= centre_x <= body["Left"] + body["Width"]
        assert body["Top"] <= face["BoundingBox"]["Top"] < body["Top"] + body["Height"] / 2
        assert face["Confidence"] > 50 and len(face["Landmarks"]) > 0


# --------------------------------------------------------------- the glue, offline


def walker(start: tuple[float, float], velocity: tuple[float, float], step: int) -> np.ndarray:
    x, y = start[0] + velocity[0] * step, start[1] + velocity[1] * step
    return np.array([x, y, x + 40, y + 100], np.float32)


def test_two_walkers_who_cross_keep_their_indices() -> None:
    tracks = PersonTracks(frames_per_second=5)
    seen: dict[int, list[int]] = defaultdict(list)  # walker -> Index per frame
    for step in range(30):
        left = walker((0, 100), (10, 0), step)  # walks right
        right = walker((300, 110), (-10, 0), step)  # walks left, crosses at step 15
        boxes = np.stack([left, right])
        scores = np.array([0.8, 0.7], np.float32)
        if 14 <= step <= 16:  # while they overlap the one behind is barely seen
            boxes, scores = boxes[:1], scores[:1]
        for person in tracks.update(boxes, scores):
            who = int(np.argmin([np.abs(person.box - b).sum() for b in (left, right)]))
            seen[who].append(person.index)
    # Confirmed on the second frame, then one Index each, the one behind included.
    assert set(seen[0]) == {0} and set(seen[1]) == {1}
    assert len(seen[0]) == 29 and len(seen[1]) == 26


def test_a_low_score_box_continues_a_track_but_never_starts_one() -> None:
    tracks = PersonTracks(frames_per_second=5)
    cone = np.array([[500, 500, 520, 530]], np.float32)
    for step in range(5):
        boxes = np.concatenate([walker((0, 0), (8, 0), step)[None], cone])
        found = tracks.update(boxes, np.array([0.8 if step < 2 else 0.3, 0.3], np.float32))
        if step >= 1:
            # The walker, confirmed, stays tracked at 0.3; the cone at 0.3 never shows.
            assert [p.index for p in found] == [0]
            assert abs(found[0].box[0] - 8 * step) < 1


def test_a_person_gone_longer_than_the_patience_comes_back_with_a_new_index() -> None:
    tracks = PersonTracks(frames_per_second=5)
    box, score = walker((0, 0), (0, 0), 0)[None], np.array([0.9], np.float32)
    empty, none = np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    indices = [p.index for _ in range(3) for p in tracks.update(box, score)]
    for _ in range(5):  # 1 s away: within the patience
        tracks.update(empty, none)
    indices += [p.index for _ in range(2) for p in tracks.update(box, score)]
    for _ in range(15):  # 3 s away
        tracks.update(empty, none)
    later = [p.index for _ in range(3) for p in tracks.update(box, score)]
    assert set(indices) == {0} and set(later) == {1}


def test_faces_go_to_the_person_whose_head_they_are() -> None:
    people = np.array([[0, 0, 100, 300], [80, 20, 180, 320]], np.float32)
    faces = np.array(
        [
            [110, 30, 150, 70],  # the second person's head
            [30, 10, 70, 50],  # the first person's head
            [40, 250, 60, 270],  # at the first person's feet: nobody's face
            [0, 0, 400, 400],  # a close-up wider than either person
        ],
        np.float32,
    )
    assert faces_of_people(people, faces) == {0: 1, 1: 0}
    assert faces_of_people(people, np.zeros((0, 4), np.float32)) == {}
    assert faces_of_people(np.zeros((0, 4), np.float32), faces) == {}
