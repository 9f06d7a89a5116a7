"""DetectFaces' Eyeglasses comes from the learned head (appearance_head.json) on real
photos: the spectacled and bare faces of a PASCAL VOC group photo from dlib's examples, a
photo of the held-out part of bench/data/face_attributes_wide.json, which the head was
never fitted on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from tools.face_labels import iou
from tools.identity_photos import fetch_identity_photos

PHOTO = "dlib-examples/faces/2008_002506.jpg"
# Hand-labelled boxes (pixels): a man in spectacles (with a goatee), two men without.
SPECTACLED = ([339.3, 67.7, 437.2, 199.7],)
BARE = ([116.9, 48.3, 207.2, 161.2], [230.3, 85.3, 305.0, 191.5])


def detected(
    rekognition: Any, photo: Path, attributes: list[str]
) -> list[tuple[list[float], dict[str, Any]]]:
    with Image.open(photo) as image:
        width, height = image.size
    faces = rekognition.detect_faces(Image={"Bytes": photo.read_bytes()}, Attributes=attributes)[
        "FaceDetails"
    ]
    boxes = []
    for face in faces:
        b = face["BoundingBox"]
        left, top = b["Left"] * width, b["Top"] * height
        boxes.append(([left, top, left + b["Width"] * width, top + b["Height"] * height], face))
    return boxes


def face_at(found: list[tuple[list[float], dict[str, Any]]], box: list[float]) -> dict[str, Any]:
    best = max(found, key=lambda pair: iou(box, pair[0]))
    assert iou(box, best[0]) >= 0.5, "the labelled face was not detected"
    return best[1]


def test_spectacles_are_seen_and_bare_faces_are_not(rekognition: Any, photos: Path) -> None:
    fetch_identity_photos(photos, progress=lambda _m: None)
    found = detected(rekognition, photos / PHOTO, ["EYEGLASSES"])
    for box in SPECTACLED:
        glasses = face_at(found, box)["Eyeglasses"]
        assert glasses["Value"] is True and 50 <= glasses["Confidence"] <= 100
    for box in BARE:
        glasses = face_at(found, box)["Eyeglasses"]
        assert glasses["Value"] is False and 50 <= glasses["Confidence"] <= 100
    # Attributes that do not ask for Eyeglasses leave it out (and skip the embedding).
    assert all("Eyeglasses" not in face for _box, face in detected(rekognition, photos / PHOTO, ["BEARD"]))


def test_only_the_heads_that_beat_the_measurement_ship() -> None:
    from openrek.inference.faces.appearance_head import load_heads

    heads = load_heads()
    assert heads is not None and set(heads.weights) == {"eyeglasses"}  # Beard/Mustache heads did worse
    assert heads.mean.shape == heads.scale.shape == heads.weights["eyeglasses"][0].shape == (137,)
