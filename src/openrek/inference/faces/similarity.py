"""Rekognition's Similarity (0-100) from the cosine of two face embeddings.

Rekognition reports how alike two faces are as a Similarity in 0-100, with 80 the
default threshold of CompareFaces and SearchFaces*: the same person typically
scores 95-100, different people far below 50. Our models give a cosine in
[-1, 1]; this module maps it per FaceModelVersion. 1.0 uses a logistic curve,

    raw(c)        = 1 / (1 + exp(-(c - midpoint) / width))
    Similarity(c) = 100 * (raw(c) - raw(-1)) / (raw(1) - raw(-1))

rescaled so that cosine -1 gives exactly 0 and cosine 1 (the same image) exactly
100. 2.0 uses a curve through three anchors (anchored_scale.AnchoredScale: log-odds
piecewise linear in the cosine, rescaled the same way). Both are monotone, so the face
store can search by cosine: `min_cosine` is their inverse.

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

FaceModelVersion 2.0 (ArcFace MobileFaceNet, WebFace600K; opt-in, non-commercial) has three
anchors, fitted by rule on the calibration people of the same 207-face set
(`python bench/face_identity_levers.py`, lever `2.0 anchored`):
  - Similarity 80 at cosine 0.26 and 95 at 0.492, by 1.0's rule: the calibration impostors'
    normal (mean 0.007, sd 0.066) leaves 1e-4 above 0.252 (the highest is 0.239), and the
    lowest of 173 calibration pairs of one person in two independent photos is 0.492.
  - Similarity 50 at cosine 0.18: as many calibration-impostor sd (2.56) above the impostor
    mean as 1.0's 50 point (cosine 0.306) lies above 1.0's, rounded up to 0.01 like 80, so
    strangers fall below 50 as often for both models.
On held-out people: 141 of 141 independent same-person pairs and 260 of 300 contact-sheet
pairs reach 80 (137 and 152 with the earlier 67-face logistic, 80 at 0.41 and 95 at 0.55),
7 of 9,561 impostors do (0.07%); the median stranger scores 4.8 and 0.9% of strangers reach
50 (1.0: 5.3 and 0.6%). A two-parameter logistic through the same 80 and 95 anchors would
put the median stranger at 43 (docs/similarity.md): the 50 anchor is what keeps strangers
far below 50, as on AWS. Stored 2.0 collections get the curve at once: only the mapping
changed, not the vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, overload

import numpy as np

# Both curves share their rescaling and its inverse (RescaledCurve, with COSINE_SLACK).
from openrek.inference.faces.anchored_scale import AnchoredScale, RescaledCurve


class SimilarityScale(Protocol):
    """What a FaceModelVersion's curve offers: Similarity of cosines, and its inverse."""

    def similarity(self, cosine: np.ndarray) -> np.ndarray: ...

    def min_cosine(self, threshold: float) -> float: ...


@dataclass(frozen=True)
class LogisticScale(RescaledCurve):
    midpoint: float  # cosine of raw 0.5
    width: float  # cosine per e-fold of the odds

    def _raw(self, cosine: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(cosine - self.midpoint) / self.width))

    def _cosine_at(self, log_odds: float) -> float:
        return self.midpoint + self.width * log_odds


# Per FaceModelVersion; see the module docstring for how each was fitted.
SCALES: dict[str, SimilarityScale] = {
    "1.0": LogisticScale(midpoint=0.306, width=0.08232),
    "2.0": AnchoredScale(((0.18, 50.0), (0.26, 80.0), (0.492, 95.0))),
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
