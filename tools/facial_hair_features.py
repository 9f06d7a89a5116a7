"""Features for a learned Beard/Mustache head, all from models DetectFaces carries.

Issue 15 item 6, round 2: the darkness measurements of
`openrek.inference.faces.appearance` cannot see grey or white facial hair (a grey beard
is lighter than the cheek). The candidate replacement is a logistic regression on the
SFace identity embedding (FaceModelVersion 1.0; identity embeddings carry facial hair),
the five hand-made measurements, and four texture/colour numbers around mouth and chin.
tools/fit_appearance_head.py fits and scores it; it was not shipped (its held-out
precision and recall did not beat the measurement, bench/results/face_attributes.md),
so these features live here, not in the service.
"""

from __future__ import annotations

import cv2
import numpy as np

from openrek.inference.faces.appearance import Measurements, _crop, _Regions, canonical_transform

MEASUREMENTS = ("lens_dark", "bridge_line", "chin_dark", "lip_dark", "lower_off_skin")
TEXTURES = ("chin_texture", "lip_texture", "chin_saturation", "lip_saturation")


def hair_texture(image_rgb: np.ndarray, five_points: np.ndarray) -> np.ndarray:
    """Chin/jaw and upper-lip texture and colour, each relative to the cheeks.

    Hair of any colour is busier than skin (fine edges: a Laplacian's energy), and grey
    or white hair is less saturated than skin; the darkness measurements see neither.
    """
    matrix = canonical_transform(five_points)
    rgb = _crop(image_rgb, matrix)
    lightness = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2LAB)[..., 0]
    edges = np.abs(cv2.Laplacian(lightness, cv2.CV_32F, ksize=3))
    saturation = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2HSV)[..., 1]
    points = np.asarray(five_points, dtype=np.float64).reshape(5, 2)
    regions = _Regions(points @ matrix[:, :2].T + matrix[:, 2])

    def mean(channel: np.ndarray, boxes: list[tuple[slice, slice]]) -> float:
        return float(np.mean(np.concatenate([channel[b].ravel() for b in boxes])))

    cheek_edges = max(mean(edges, regions.cheeks()), 0.5)
    cheek_saturation = max(mean(saturation, regions.cheeks()), 0.02)
    chin, lip = regions.chin_and_jaw(), [regions.upper_lip()]
    return np.array(
        [
            mean(edges, chin) / cheek_edges,
            mean(edges, lip) / cheek_edges,
            mean(saturation, chin) / cheek_saturation,
            mean(saturation, lip) / cheek_saturation,
        ]
    )


def head_features(embedding: np.ndarray, measured: Measurements, texture: np.ndarray) -> np.ndarray:
    """Embedding (128), measurements (5), texture (4), in that order."""
    return np.concatenate(
        [np.asarray(embedding, dtype=np.float64), [getattr(measured, n) for n in MEASUREMENTS], texture]
    )
