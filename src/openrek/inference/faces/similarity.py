"""Rekognition's Similarity (0-100) from the cosine of two face embeddings.

Rekognition reports how alike two faces are as a Similarity in 0-100, with 80 the
default threshold of CompareFaces and SearchFaces*: the same person typically
scores 95-100, different people far below 50. Our models give a cosine in
[-1, 1]; this module maps it per FaceModelVersion with a logistic curve,

    raw(c)        = 1 / (1 + exp(-(c - midpoint) / width))
    Similarity(c) = 100 * (raw(c) - raw(-1)) / (raw(1) - raw(-1))

rescaled so that cosine -1 gives exactly 0 and cosine 1 (the same image) exactly
100. It is monotone, so the face store can search by cosine: `min_cosine` is its
inverse.

How the FaceModelVersion 1.0 (SFace) curve was fitted (docs/similarity.md has the counts, the
held-out results and the levers tried; `python bench/face_identity_levers.py` refits it):
two anchors measured on real photos with openrek's own pipeline (YuNet points refined,
SFace embedding), using only the calibration people of bench/data/identity_split.json
(3,652 impostor pairs, 173 pairs of one person in two independent photos, years apart
for some); the held-out people were never used.
  - Similarity 80 sits at cosine 0.42: a normal fitted to the calibration impostors
    (mean 0.064, sd 0.094) leaves 1e-4 above 0.414, and the highest calibration impostor
    is 0.395; the higher, rounded up to 0.01. On held-out pairs 3 of 9,561 impostors
    reach 80 (0.03%), all three people photographed together who look alike (siblings,
    perhaps a mother and daughter): relatives are the known weak spot.
  - Similarity 95 sits at cosine 0.548: the lowest calibration pair of one person in
    two independent photos, so a clear same-person pair scores 95 or more, as on AWS.
The curve before issue 15 (midpoint 0.3481, width 0.11067: 80 at 0.50, 95 at 0.668) rested
on 8 independent pairs; it left same-person photos decades apart at 66-81. Only this
mapping changed, not the vectors: stored collections keep their vectors, and every
search turns its threshold into a cosine with `min_cosine` when it runs, so they are
searched with the new curve at once. SFace's published LFW threshold (cosine 0.363) now
gives Similarity 66.

FaceModelVersion 2.0 (ArcFace MobileFaceNet, WebFace600K) was fitted with the rules 1.0 had
before issue 15, on 67 faces (`python bench/face_identity_accuracy.py --fit`):
  - Similarity 80 at cosine 0.41: the highest of the 1,165 impostor cosines was 0.359,
    plus 0.05, rounded up to 0.01 (the impostors' Gaussian, mean 0.015 and sd 0.070,
    puts a 1e-5 tail at 0.312, lower). That pair, two dark-haired women of the face-api
    series, is also near the top for SFace (0.345) and dlib (distance 0.595); whoever
    they are, counting it as an impostor only raises this anchor.
  - Similarity 95 at cosine 0.55: the lowest genuine pair of independent photos (0.550,
    the face-api woman; the obama pairs are 0.66-0.71).
InsightFace publishes no cosine threshold for this model, so there is no third anchor;
its 50 point falls at cosine 0.285, where the impostors are 3.9 sd above their mean.

Refitted by 1.0's rule on the calibration people of the 207-face set (80 at cosine 0.26,
95 at 0.492), 2.0 would bring 141 of 141 held-out independent pairs to 80 (137 now) with 7
of 9,561 held-out impostors there (0.07%), but its curve would be so flat that the median
stranger scores 43 and one in four 50 or more, against AWS's "different people far below
50". That refit is measured (`bench/face_identity_levers.py`) and deliberately not used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, overload

import numpy as np

# COSINE_SLACK: cosines are float32 dot products (an identical face can come back as
# 0.99999994), so min_cosine gives this much slack that a threshold is never missed by
# rounding alone. Defined beside AnchoredScale, which needs it too.
from openrek.inference.faces.anchored_scale import COSINE_SLACK


class SimilarityScale(Protocol):
    """What a FaceModelVersion's curve offers: Similarity of cosines, and its inverse."""

    def similarity(self, cosine: np.ndarray) -> np.ndarray: ...

    def min_cosine(self, threshold: float) -> float: ...


@dataclass(frozen=True)
class LogisticScale:
    midpoint: float  # cosine of raw 0.5
    width: float  # cosine per e-fold of the odds

    def _raw(self, cosine: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(cosine - self.midpoint) / self.width))

    def _ends(self) -> tuple[float, float]:
        low, high = self._raw(np.array([-1.0, 1.0]))
        return float(low), float(high)

    def similarity(self, cosine: np.ndarray) -> np.ndarray:
        low, high = self._ends()
        raw = self._raw(np.clip(cosine, -1.0, 1.0))
        return np.clip(100.0 * (raw - low) / (high - low), 0.0, 100.0)

    def min_cosine(self, threshold: float) -> float:
        if threshold <= 0:
            return -1.0
        if threshold >= 100:
            return 1.0 - COSINE_SLACK
        low, high = self._ends()
        raw = low + threshold / 100.0 * (high - low)
        cosine = self.midpoint + self.width * float(np.log(raw / (1.0 - raw)))
        return float(np.clip(cosine - COSINE_SLACK, -1.0, 1.0))


# Per FaceModelVersion; see the module docstring for how each was fitted.
SCALES: dict[str, SimilarityScale] = {
    "1.0": LogisticScale(midpoint=0.306, width=0.08232),
    "2.0": LogisticScale(midpoint=0.2852, width=0.09016),
}


def scale_for(version: str) -> SimilarityScale:
    scale = SCALES.get(version)
    if scale is None:
        raise ValueError(f"no Similarity scale for face model version {version!r}")
    return scale


@overload
def similarity(cosine: float, version: str) -> float: ...
@overload
def similarity(cosine: np.ndarray, version: str) -> np.ndarray: ...
def similarity(cosine: float | np.ndarray, version: str) -> float | np.ndarray:
    """Similarity 0-100 of embeddings whose cosine is `cosine` (scalar or array)."""
    scores = scale_for(version).similarity(np.asarray(cosine, dtype=np.float64))
    if np.ndim(cosine) == 0:
        return float(scores)
    return scores


def min_cosine(similarity_threshold: float, version: str) -> float:
    """The lowest cosine whose Similarity reaches `similarity_threshold`."""
    return scale_for(version).min_cosine(float(similarity_threshold))
