"""People descriptors' raw scores (inference/labels/people.py) from face descriptions."""

from __future__ import annotations

import numpy as np
import pytest

from openrek.inference.labels.people import FaceDescription, crowd_score, describe_faces


def _face(age: int, male: float, score: float = 1.0) -> FaceDescription:
    ages = np.zeros(81)
    ages[age] = 1.0
    return FaceDescription(score, ages, male)


def test_each_label_takes_its_surest_face() -> None:
    scores = describe_faces([_face(35, 0.9), _face(6, 0.2)])
    assert scores["Man"] == pytest.approx(0.9)  # the adult
    assert scores["Woman"] == pytest.approx(0.1)
    assert scores["Girl"] == pytest.approx(0.8)  # the child
    assert scores["Boy"] == pytest.approx(0.2)
    assert scores["Adult"] == pytest.approx(1.0) and scores["Child"] == pytest.approx(1.0)
    assert scores["Baby"] == 0.0 and scores["Teen"] == 0.0


def test_detector_doubt_lowers_every_descriptor() -> None:
    scores = describe_faces([_face(40, 0.0, score=0.5)])
    assert scores["Woman"] == pytest.approx(0.5)
    assert max(scores.values()) == pytest.approx(0.5)
    assert describe_faces([]) == {}


def test_crowd_grows_with_people() -> None:
    assert crowd_score(1) == 0.0 and crowd_score(3) == 0.0
    assert 0.0 < crowd_score(8) < crowd_score(10) < 1.0
    assert crowd_score(40) == 1.0
