"""AnchoredScale: a monotone Similarity curve through three or more anchors, and 1.0's curve
kept bit-identical beside it (docs/similarity.md)."""

from __future__ import annotations

import numpy as np
import pytest

from openrek.inference.faces.anchored_scale import COSINE_SLACK, AnchoredScale
from openrek.inference.faces.similarity import LogisticScale, min_cosine, similarity

ANCHORS = ((0.18, 50.0), (0.26, 80.0), (0.492, 95.0))
COSINES = np.linspace(-1.0, 1.0, 2001)


@pytest.fixture(scope="module")
def scale() -> AnchoredScale:
    return AnchoredScale(ANCHORS)


def test_curve_is_monotone_from_0_at_minus_1_to_100_at_1(scale: AnchoredScale) -> None:
    scores = scale.similarity(COSINES)
    assert scores.shape == COSINES.shape
    assert np.all(np.diff(scores) > 0)
    assert scores[0] == 0.0 and scores[-1] == 100.0
    # cosines outside [-1, 1] (float32 rounding) are clipped, not extrapolated
    assert scale.similarity(np.array([-1.5, 1.00001])).tolist() == [0.0, 100.0]


def test_curve_passes_through_every_anchor(scale: AnchoredScale) -> None:
    cosines = np.array([c for c, _ in ANCHORS])
    assert np.allclose(scale.similarity(cosines), [s for _, s in ANCHORS], atol=1e-9)


def test_min_cosine_inverts_similarity_within_the_slack(scale: AnchoredScale) -> None:
    for threshold in (0.5, 1.0, 20.0, 50.0, 65.0, 80.0, 90.0, 95.0, 99.0, 99.9):
        cosine = scale.min_cosine(threshold)
        # the slack only ever lowers the cosine, by COSINE_SLACK
        exact = cosine + COSINE_SLACK
        assert abs(float(scale.similarity(np.array(exact))) - threshold) < 1e-6
        assert scale.similarity(np.array(cosine + 2e-6)) >= threshold
        assert scale.similarity(np.array(cosine - 1e-3)) < threshold
    for cosine, score in ANCHORS:
        assert abs(scale.min_cosine(score) - (cosine - COSINE_SLACK)) < 1e-9
    assert scale.min_cosine(0) == -1.0 and scale.min_cosine(-5) == -1.0
    assert scale.min_cosine(100) == 1.0 - COSINE_SLACK


def test_below_the_lowest_anchor_it_falls_like_a_logistic(scale: AnchoredScale) -> None:
    """Log-odds continue with the lowest segment's slope: a cosine 0.08 below the 50 point
    (the 50-80 segment's length) is as far below 50 in log-odds as 80 is above."""
    below = float(scale.similarity(np.array(0.18 - 0.08)))
    assert abs(below - 20.0) < 0.1  # up to the rescaling that pins cosine 1 at 100
    assert float(scale.similarity(np.array(0.0))) < 10


def test_two_anchors_give_a_rescaled_logistic() -> None:
    """With two anchors the curve is the one logistic through them, like LogisticScale."""
    logistic = LogisticScale(midpoint=0.306, width=0.08232)
    two = AnchoredScale(
        (
            (0.306, float(logistic.similarity(np.array(0.306)))),
            (0.5, float(logistic.similarity(np.array(0.5)))),
        )
    )
    assert np.allclose(two.similarity(COSINES), logistic.similarity(COSINES), atol=1e-6)


@pytest.mark.parametrize(
    "anchors",
    [
        ((0.2, 50.0),),
        ((0.3, 50.0), (0.2, 80.0)),
        ((0.2, 80.0), (0.3, 50.0)),
        ((0.2, 0.0), (0.3, 80.0)),
        ((0.2, 50.0), (1.0, 99.0)),
    ],
)
def test_bad_anchors_are_refused(anchors: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError):
        AnchoredScale(anchors)


def test_1_0_curve_is_bit_identical() -> None:
    """FaceModelVersion 1.0 (the default) keeps its logistic exactly: values recorded from
    SCALES["1.0"] = LogisticScale(0.306, 0.08232) before the anchored curve existed."""
    recorded = {
        -1.0: 0.0,
        -0.3: 0.0634841129161846,
        0.063: 4.965772891451126,
        0.306: 50.01089901550992,
        0.42: 79.99415553979486,
        0.548: 94.99838239754173,
        0.8: 99.77473427333094,
        1.0: 100.0,
    }
    for cosine, score in recorded.items():
        assert similarity(cosine, "1.0") == score
    thresholds = {
        0: -1.0,
        50: 0.3059631195516377,
        80: 0.42002904025461113,
        95: 0.548026913973954,
        100: 0.999999,
    }
    for threshold, cosine in thresholds.items():
        assert min_cosine(threshold, "1.0") == cosine
