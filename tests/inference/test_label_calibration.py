"""Per-label calibration and the scene head's measured statistics, on real photos."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from openrek.imaging.decode import decode_image
from openrek.inference.labels.calibration import Calibration, Thresholds, load_calibration
from openrek.inference.labels.scenes import CLASS_AXES, FEATURE_NAMES, image_statistics, load_scene_head


def test_calibration_maps_thresholds_to_55_and_90_monotonically() -> None:
    calibration = Calibration(Thresholds(0.3, 0.6), {"Cat": Thresholds(0.8, 0.9)})
    assert calibration.confidence("Dog", 0.3) == pytest.approx(0.55)
    assert calibration.confidence("Dog", 0.6) == pytest.approx(0.90)
    assert calibration.confidence("Cat", 0.8) == pytest.approx(0.55)
    assert calibration.confidence("Cat", 1.0) == pytest.approx(1.0)
    raw = np.linspace(0, 1, 101)
    mapped = [calibration.confidence("Cat", float(r)) for r in raw]
    assert all(b >= a for a, b in pairwise(mapped))
    with pytest.raises(ValueError):
        Thresholds(0.7, 0.5)


def test_shipped_calibration_and_scene_head_load() -> None:
    calibration = load_calibration()
    head = load_scene_head()
    assert calibration is not None and head is not None
    assert {"Sky", "Outdoors", "Indoors"} <= set(head.labels)
    assert head.weights.shape == (len(head.labels), len(FEATURE_NAMES) + CLASS_AXES)
    assert head.class_axes.shape == (CLASS_AXES, 1000)


def test_sky_statistics_tell_a_building_under_sky_from_an_espresso(photos: Path) -> None:
    top_sky = FEATURE_NAMES.index("top sky")
    building = image_statistics(decode_image((photos / "opencv-doc/home.jpg").read_bytes()).rgb)
    coffee = image_statistics(decode_image((photos / "skimage/coffee.png").read_bytes()).rgb)
    assert building[top_sky] > 0.3 > coffee[top_sky]
    assert np.all((building >= 0) & (building <= 1))
