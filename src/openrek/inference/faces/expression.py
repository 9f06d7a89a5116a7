"""Smile, eyes open and mouth open from the face mesh and its blendshapes.

- Smile: the mean of MediaPipe's mouthSmileLeft / mouthSmileRight blendshapes.
- EyesOpen: one minus the mean of eyeBlinkLeft / eyeBlinkRight.
- MouthOpen: a measurement, not a blendshape. MediaPipe's jawOpen follows the jaw,
  and a smile that parts the lips leaves the jaw shut (41.9% agreement with the
  hand labels, worse than chance). The gap between the inner lips (mesh points 13
  and 14) over the mouth's width (61 to 291) separates the labelled faces well:
  closed mouths 0.004-0.098 (one outlier at 0.28), open ones 0.145-3.9 (two at
  0.05-0.08), over 43 faces of tests/data/face_labels.json. A logistic centred at
  0.12 with scale 0.02 turns it into a probability (fitted on those same faces:
  41/43 agree, bench/results/face_attributes.md).
"""

from __future__ import annotations

import math

import numpy as np

from openrek.inference.faces.mesh import MeshResult

UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
MOUTH_OPEN_MIDPOINT = 0.12
MOUTH_OPEN_SCALE = 0.02


def _blendshapes(mesh: MeshResult) -> dict[str, float]:
    if mesh.blendshapes is None:
        # The analysis was asked for without Need.EXPRESSION: a caller's bug, not bad input.
        raise ValueError("blendshapes were not computed for this face")
    return mesh.blendshapes


def smile_probability(mesh: MeshResult) -> float:
    shapes = _blendshapes(mesh)
    return (shapes["mouthSmileLeft"] + shapes["mouthSmileRight"]) / 2


def eyes_open_probability(mesh: MeshResult) -> float:
    shapes = _blendshapes(mesh)
    return 1.0 - (shapes["eyeBlinkLeft"] + shapes["eyeBlinkRight"]) / 2


def lip_gap_ratio(points: np.ndarray) -> float:
    width = float(np.linalg.norm(points[MOUTH_LEFT, :2] - points[MOUTH_RIGHT, :2]))
    gap = float(np.linalg.norm(points[UPPER_INNER_LIP, :2] - points[LOWER_INNER_LIP, :2]))
    return gap / max(width, 1e-6)


def mouth_open_probability(mesh: MeshResult) -> float:
    z = (lip_gap_ratio(mesh.points) - MOUTH_OPEN_MIDPOINT) / MOUTH_OPEN_SCALE
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
