"""The wider face attribute set (bench/data/face_attributes_wide.json) is well formed:
every photo is pinned by tools/eval_data.py, every face has a box inside its photo and
a split, and the held-out half holds positives to score."""

from __future__ import annotations

import json
from pathlib import Path

from tools.eval_data import PHOTOS

LABELS = Path(__file__).resolve().parent.parent / "bench" / "data" / "face_attributes_wide.json"
KEYS = ("eyeglasses", "sunglasses", "beard", "mustache", "occluded")


def test_every_photo_is_pinned_and_every_face_is_labelled() -> None:
    pinned = {f"{folder}/{name}" for folder, _carrier, name, _digest in PHOTOS}
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


def test_boxes_lie_inside_their_photos(photos: Path) -> None:
    from PIL import Image

    for photo, faces in json.loads(LABELS.read_text()).items():
        with Image.open(photos / photo) as image:
            width, height = image.size
        for face in faces:
            assert face["box"][2] <= width + 1 and face["box"][3] <= height + 1, photo
