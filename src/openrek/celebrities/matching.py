"""Which gallery celebrity, if any, each face of one picture is.

A face's score for a celebrity is its best cosine against that celebrity's face
vectors (several photos cover more looks than their average would). A face is
recognised when that score reaches the match threshold on the same calibrated
Similarity scale as SearchFacesByImage's FaceMatchThreshold (inference/faces/
similarity.py), and MatchConfidence is that Similarity. One person appears once in
one picture: when two faces reach the same celebrity, the better match has them and
the other face is judged against the celebrities left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openrek.celebrities.gallery import Celebrity, FaceVectors

# Similarity a face must reach to be named: the default FaceMatchThreshold of
# SearchFacesByImage, which on the measured pairs sits above every impostor
# (docs/similarity.md); bench/celebrities.py measures it on a gallery.
MATCH_THRESHOLD = 80.0


@dataclass(frozen=True)
class Recognition:
    celebrity: Celebrity
    cosine: float


def best_cosines(faces: np.ndarray, gallery: FaceVectors) -> tuple[list[str], np.ndarray]:
    """The gallery's celebrity ids and, for each face (row), its best cosine with each of them."""
    owners = np.array(gallery.owners)
    # The first row of each celebrity's group (gallery rows are grouped by celebrity).
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.array([], int)
    ids = [str(owners[start]) for start in starts]
    if len(faces) == 0 or not ids:
        return ids, np.zeros((len(faces), len(ids)), np.float32)
    cosines = faces @ gallery.vectors.T  # (faces, gallery vectors)
    return ids, np.maximum.reduceat(cosines, starts, axis=1)


def recognise(
    faces: Sequence[np.ndarray], gallery: FaceVectors, min_cosine: float
) -> list[Recognition | None]:
    """For each face vector, the celebrity it is, or None; each celebrity at most once."""
    if not faces or len(gallery) == 0:
        return [None] * len(faces)
    ids, best = best_cosines(np.stack(faces), gallery)
    rows, cols = np.nonzero(best >= min_cosine)  # few: most faces are nobody's
    pairs = sorted(
        ((float(best[f, c]), int(f), int(c)) for f, c in zip(rows, cols, strict=True)), reverse=True
    )
    found: list[Recognition | None] = [None] * len(faces)
    taken: set[int] = set()
    for cosine, f, c in pairs:
        if found[f] is None and c not in taken:
            taken.add(c)
            found[f] = Recognition(gallery.celebrities[ids[c]], cosine)
    return found
