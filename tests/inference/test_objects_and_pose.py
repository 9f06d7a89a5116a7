"""The COCO object detector and the multi-person pose estimator on real photos."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from openrek.config import Settings
from openrek.inference.labels.objects import COCO_CLASSES, ObjectDetector, build_object_detector
from openrek.inference.people.pose import KEYPOINTS, PoseEstimator, build_pose_estimator
from openrek.inference.session import RuntimeSettings
from openrek.models.store import ModelStore
from tools.face_labels import iou

FACE_LABELS = Path(__file__).resolve().parents[1] / "data" / "face_labels.json"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.from_env(runtime=RuntimeSettings(intra_op_threads=1, use_cuda=False))


@pytest.fixture(scope="module")
def detector(models: ModelStore, settings: Settings) -> ObjectDetector:
    return build_object_detector(models, settings.runtime)


@pytest.fixture(scope="module")
def poses(models: ModelStore, settings: Settings) -> PoseEstimator:
    return build_pose_estimator(models, settings.runtime)


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(PIL.Image.open(path).convert("RGB"))


def _faces(photo: str) -> list[list[float]]:
    return [face["box"] for face in json.loads(FACE_LABELS.read_text())[photo]]


def test_class_names_are_cocos() -> None:
    assert len(COCO_CLASSES) == 80 == len(set(COCO_CLASSES))
    assert {"person", "cat", "traffic light", "dining table", "hair drier"} <= set(COCO_CLASSES)


def test_cat_is_found_and_covers_the_photo(detector: ObjectDetector, photos: Path) -> None:
    rgb = _rgb(photos / "skimage" / "chelsea.png")
    cats = [d for d in detector.detect(rgb, min_score=0.3) if d.name == "cat"]
    assert cats, "no cat in skimage/chelsea.png"
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = cats[0].box
    assert (x2 - x1) * (y2 - y1) > 0.6 * width * height  # the cat fills the frame
    assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height


def test_cars_of_the_coco_annotation_are_found(detector: ObjectDetector, photos: Path) -> None:
    coco = json.loads((photos / "sahi" / "terrain2_coco.json").read_text())
    cars = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in coco["annotations"])]
    found = [
        d for d in detector.detect(_rgb(photos / "sahi" / "terrain2.png"), min_score=0.2) if d.name == "car"
    ]
    recalled = sum(max((iou(car, d.box) for d in found), default=0.0) >= 0.5 for car in cars)
    assert recalled >= 4, f"{recalled}/{len(cars)} cars at IoU 0.5"


def test_people_of_a_group_photo_are_boxed(detector: ObjectDetector, photos: Path) -> None:
    people = [
        d
        for d in detector.detect(_rgb(photos / "face-api" / "sample1.jpg"), min_score=0.4)
        if d.name == "person"
    ]
    faces = _faces("face-api/sample1.jpg")
    assert len(people) == len(faces) == 3
    for face in faces:  # each labelled face lies in the upper part of one person box
        cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
        assert sum(p.box[0] <= cx <= p.box[2] and p.box[1] <= cy <= p.box[3] for p in people) >= 1


def test_boxes_follow_a_mirrored_photo(detector: ObjectDetector, photos: Path) -> None:
    rgb = _rgb(photos / "skimage" / "motorcycle_left.png")
    width = rgb.shape[1]
    original = detector.detect(rgb, min_score=0.5)
    mirrored = detector.detect(np.ascontiguousarray(rgb[:, ::-1]), min_score=0.5)
    assert original and original[0].name == "motorcycle"
    assert mirrored and mirrored[0].name == "motorcycle"
    x1, y1, x2, y2 = mirrored[0].box
    assert iou(original[0].box, [width - x2, y1, width - x1, y2]) > 0.85


def test_detector_is_thread_safe(detector: ObjectDetector, photos: Path) -> None:
    images = [_rgb(photos / "skimage" / name) for name in ("chelsea.png", "coffee.png", "astronaut.png")]
    alone = [detector.detect(rgb) for rgb in images]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(detector.detect, images))
    for a, b in zip(alone, together, strict=True):
        assert [(d.name, d.score) for d in a] == [(d.name, d.score) for d in b]


def test_pose_noses_land_on_the_labelled_faces(poses: PoseEstimator, photos: Path) -> None:
    rgb = _rgb(photos / "insightface" / "t1.jpg")
    people = poses.estimate(rgb)
    faces = _faces("insightface/t1.jpg")
    on_faces = set()
    for person in people:
        assert person.keypoints.shape == (17, 2) and person.keypoint_scores.shape == (17,)
        nose = person.keypoints[KEYPOINTS.index("nose")]
        for index, face in enumerate(faces):
            if face[0] <= nose[0] <= face[2] and face[1] <= nose[1] <= face[3]:
                on_faces.add(index)
        x1, y1, x2, y2 = person.box
        assert x1 <= nose[0] <= x2 and y1 <= nose[1] <= y2
    assert len(on_faces) >= 4, f"noses on {len(on_faces)} of {len(faces)} faces"


def test_pose_left_and_right_are_the_persons_own(poses: PoseEstimator, photos: Path) -> None:
    # the astronaut faces the camera: her own left shoulder is on the image's right
    (person,) = poses.estimate(_rgb(photos / "skimage" / "astronaut.png"), min_score=0.3)
    left = person.keypoints[KEYPOINTS.index("left_shoulder")]
    right = person.keypoints[KEYPOINTS.index("right_shoulder")]
    assert left[0] > right[0] + 50
    eyes = person.keypoints[[KEYPOINTS.index("left_eye"), KEYPOINTS.index("right_eye")]]
    (face,) = _faces("skimage/astronaut.png")
    assert all(face[0] <= x <= face[2] and face[1] <= y <= face[3] for x, y in eyes)


def test_no_people_in_a_photo_of_a_cat(poses: PoseEstimator, photos: Path) -> None:
    assert poses.estimate(_rgb(photos / "skimage" / "chelsea.png"), min_score=0.3) == []
