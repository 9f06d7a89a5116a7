"""The wider face attribute set (bench/data/face_attributes_wide.json) is well formed:
every photo is pinned by tools/eval_data.py, every face has a box inside its photo and
a split, and the held-out half holds positives to score."""

from __future__ import annotations

import json
from pathlib import Path

from tools.eval_data import PHOTOS
from tools.identity_photos import SET as IDENTITY_SET

LABELS = Path(__file__).resolve().parent.parent / "bench" / "data" / "face_attributes_wide.json"
KEYS = ("eyeglasses", "sunglasses", "beard", "mustache", "occluded")


def test_every_photo_is_pinned_and_every_face_is_labelled() -> None:
    pinned = {f"{folder}/{name}" for folder, _carrier, name, _digest in PHOTOS}
    # Round 2 labelled dlib's identity photos too, pinned by bench/data/identity_photos.json.
    pinned |= {f"dlib-examples/{member}" for member in json.loads(IDENTITY_SET.read_text())["photos"]}
    labels = json.loads(LABELS.read_text())
    assert set(labels) <= pinned
    faces = [face for photo_faces in labels.values() for face in photo_faces]
    assert len(faces) >= 100
    for face in faces:
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 and 0 <= y1 < y2
        assert face["split"] in ("tuning", "held-out")
        assert all(face[key] in (True, False, None) for key in KEYS)
        assert not face["sunglasses"] or face["eyeglasses"], (
            "sunglasses count as eyeglasses, as in Rekognition"
        )
    held_out = [face for face in faces if face["split"] == "held-out"]
    assert sum(face["eyeglasses"] is True for face in held_out) >= 4
    assert sum(face["beard"] is True for face in held_out) >= 1
    assert sum(face["occluded"] is True for face in held_out) >= 1


def test_one_persons_faces_stay_on_one_side() -> None:
    """Round 2 split by person: a person in both parts would leak identity into held-out."""
    sides: dict[str, set[str]] = {}
    for faces in json.loads(LABELS.read_text()).values():
        for face in faces:
            if "person" in face:
                sides.setdefault(face["person"], set()).add(face["split"])
    assert len(sides) >= 10
    assert all(len(split) == 1 for split in sides.values()), sides


def test_boxes_lie_inside_their_photos(photos: Path) -> None:
    from PIL import Image

    from tools.identity_photos import fetch_identity_photos

    fetch_identity_photos(photos, progress=lambda _m: None)
    for photo, faces in json.loads(LABELS.read_text()).items():
        with Image.open(photos / photo) as image:
            width, height = image.size
        for face in faces:
            assert face["box"][2] <= width + 1 and face["box"][3] <= height + 1, photo
