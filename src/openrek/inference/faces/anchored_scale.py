"""A Similarity curve through any number of (cosine, Similarity) anchors.

A two-parameter logistic (similarity.LogisticScale) is fixed by two anchors, 80 and 95: when
the gap between them is wide in impostor standard deviations, as for FaceModelVersion 2.0,
the curve it forces is so flat that ordinary strangers score near 50. This curve takes a
third anchor (where Similarity 50 sits) and bends at each anchor instead:

    L(c)          = log-odds, linear in the cosine between neighbouring anchors, and beyond
                    the outer anchors continued with the slope of the nearest segment
    raw(c)        = 1 / (1 + exp(-L(c)))
    Similarity(c) = 100 * (raw(c) - raw(-1)) / (raw(1) - raw(-1))

Working in log-odds keeps the logistic's tails: below the lowest anchor Similarity falls
like a logistic of the lowest segment's width, so strangers score near 0 rather than
along a straight line. The rescaling gives cosine -1 exactly 0 and cosine 1 (the same
image) exactly 100, as LogisticScale does; the anchors' log-odds are solved so that the
rescaled curve still passes through every anchor exactly.

Each piece is increasing, so the curve is monotone and `min_cosine` inverts it exactly,
segment by segment: the face store searches by cosine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Cosines are float32 dot products: an identical face can come back as 0.99999994.
# min_cosine gives this much slack so a threshold is never missed by rounding alone
# (similarity.py re-exports it for LogisticScale).
COSINE_SLACK = 1e-6
# Solving the anchors' log-odds: each pass moves them by about raw(-1) + 1 - raw(1) times
# the last move (well under 1e-2), so a few passes reach float precision.
_SOLVE_PASSES = 60


def _sigmoid(log_odds: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-log_odds)), dtype=np.float64)


class RescaledCurve:
    """What every Similarity curve shares: an increasing raw curve in (0, 1), rescaled
    so that cosine -1 gives exactly 0 and cosine 1 exactly 100, and its inverse.

    A curve supplies `_raw` (the raw curve at some cosines) and `_cosine_at` (the cosine
    where the raw curve has the given log-odds); `_ends` may be overridden where the
    curve already holds them."""

    def _raw(self, cosine: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cosine_at(self, log_odds: float) -> float:
        raise NotImplementedError

    def _ends(self) -> tuple[float, float]:
        low, high = self._raw(np.array([-1.0, 1.0]))
        return float(low), float(high)

    def similarity(self, cosine: np.ndarray) -> np.ndarray:
        low, high = self._ends()
        raw = self._raw(np.clip(cosine, -1.0, 1.0))
        return np.clip(100.0 * (raw - low) / (high - low), 0.0, 100.0)

    def min_cosine(self, threshold: float) -> float:
        """The lowest cosine whose Similarity reaches `threshold`, less COSINE_SLACK."""
        if threshold <= 0:
            return -1.0
        if threshold >= 100:
            return 1.0 - COSINE_SLACK
        low, high = self._ends()
        raw = low + threshold / 100.0 * (high - low)
        cosine = self._cosine_at(float(np.log(raw / (1.0 - raw))))
        return float(np.clip(cosine - COSINE_SLACK, -1.0, 1.0))


@dataclass(frozen=True)
class AnchoredScale(RescaledCurve):
    """Similarity through `anchors`, (cosine, Similarity) pairs rising in both."""

    anchors: tuple[tuple[float, float], ...]
    # Derived in __post_init__ (not part of equality: the anchors define the curve).
    _cosines: np.ndarray = field(init=False, repr=False, compare=False)
    _log_odds: np.ndarray = field(init=False, repr=False, compare=False)
    _slopes: np.ndarray = field(init=False, repr=False, compare=False)
    _end_values: tuple[float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cosines = np.array([c for c, _ in self.anchors], dtype=np.float64)
        scores = np.array([s for _, s in self.anchors], dtype=np.float64)
        if len(cosines) < 2:
            raise ValueError("an anchored Similarity scale needs at least two anchors")
        if not (np.all(np.diff(cosines) > 0) and np.all(np.diff(scores) > 0)):
            raise ValueError("anchors must rise in both cosine and Similarity")
        if cosines[0] <= -1 or cosines[-1] >= 1 or scores[0] <= 0 or scores[-1] >= 100:
            raise ValueError("anchors must lie strictly inside cosine (-1, 1) and Similarity (0, 100)")
        object.__setattr__(self, "_cosines", cosines)
        # Start from the anchors' own log-odds, then correct for the rescaling: the ends
        # depend on the outer slopes, which depend on the log-odds.
        targets = scores / 100.0
        raw = targets
        for _ in range(_SOLVE_PASSES):
            self._set_log_odds(np.log(raw / (1.0 - raw)))
            low, high = self._end_values
            raw = low + targets * (high - low)

        self._set_log_odds(np.log(raw / (1.0 - raw)))

    def _set_log_odds(self, log_odds: np.ndarray) -> None:
        object.__setattr__(self, "_log_odds", log_odds)
        object.__setattr__(self, "_slopes", np.diff(log_odds) / np.diff(self._cosines))
        low, high = _sigmoid(self._log_odds_at(np.array([-1.0, 1.0])))
        object.__setattr__(self, "_end_values", (float(low), float(high)))

    def _log_odds_at(self, cosine: np.ndarray) -> np.ndarray:
        segment = np.clip(np.searchsorted(self._cosines, cosine, side="right") - 1, 0, len(self._slopes) - 1)
        log_odds = self._log_odds[segment] + self._slopes[segment] * (cosine - self._cosines[segment])
        return np.asarray(log_odds, dtype=np.float64)

    def _ends(self) -> tuple[float, float]:
        return self._end_values

    def _raw(self, cosine: np.ndarray) -> np.ndarray:
        return _sigmoid(self._log_odds_at(cosine))

    def _cosine_at(self, log_odds: float) -> float:
        segment = int(
            np.clip(np.searchsorted(self._log_odds, log_odds, side="right") - 1, 0, len(self._slopes) - 1)
        )
        return float(self._cosines[segment] + (log_odds - self._log_odds[segment]) / self._slopes[segment])
