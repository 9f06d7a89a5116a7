"""A learned head for Beard and Mustache, on features DetectFaces already computes.

The darkness measurements of `appearance` cannot see grey or white facial hair (a grey
beard is lighter than the cheek). Identity embeddings carry facial hair strongly, so a
logistic regression on the SFace embedding (FaceModelVersion 1.0's model), plus the
hand-made measurements and a few texture numbers around mouth and chin, answers these
two attributes instead. Its weights (appearance_head.json, beside this file) are written
by tools/fit_appearance_head.py, fitted on the tuning part of
bench/data/face_attributes_wide.json only; bench/face_attributes_wide.py scores the
held-out part. Attributes the JSON holds no head for keep their measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from openrek.inference.faces.appearance import (
    Appearance,
    Measurements,
    _crop,
    _Regions,
    canonical_transform,
    measure,
)
from openrek.inference.faces.embedder import FaceEmbedder

HEAD_FILE = Path(__file__).with_name("appearance_head.json")
MEASUREMENTS = ("lens_dark", "bridge_line", "chin_dark", "lip_dark", "lower_off_skin")
TEXTURES = ("chin_texture", "lip_texture", "chin_saturation", "lip_saturation")


def hair_texture(image_rgb: np.ndarray, five_points: np.ndarray) -> np.ndarray:
    """Chin/jaw and upper-lip texture and colour, each relative to the cheeks.

    Hair of any colour is busier than skin (fine edges: a Laplacian's energy) and grey
    or white hair is less saturated than skin, which the darkness measurements miss.
    """
    matrix = canonical_transform(five_points)
    rgb = _crop(image_rgb, matrix)
    lightness = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2LAB)[..., 0]
    edges = np.abs(cv2.Laplacian(lightness, cv2.CV_32F, ksize=3))
    hsv_saturation = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2HSV)[..., 1]
    points = np.asarray(five_points, dtype=np.float64).reshape(5, 2)
    regions = _Regions(points @ matrix[:, :2].T + matrix[:, 2])

    def mean(channel: np.ndarray, boxes: list[tuple[slice, slice]]) -> float:
        return float(np.mean(np.concatenate([channel[b].ravel() for b in boxes])))

    cheek_edges = max(mean(edges, regions.cheeks()), 0.5)
    cheek_saturation = max(mean(hsv_saturation, regions.cheeks()), 0.02)
    chin, lip = regions.chin_and_jaw(), [regions.upper_lip()]
    return np.array(
        [
            mean(edges, chin) / cheek_edges,
            mean(edges, lip) / cheek_edges,
            mean(hsv_saturation, chin) / cheek_saturation,
            mean(hsv_saturation, lip) / cheek_saturation,
        ]
    )


def head_features(embedding: np.ndarray, measured: Measurements, texture: np.ndarray) -> np.ndarray:
    """The feature vector, in appearance_head.json's order."""
    return np.concatenate(
        [np.asarray(embedding, dtype=np.float64), [getattr(measured, n) for n in MEASUREMENTS], texture]
    )


@dataclass(frozen=True)
class FacialHairHead:
    mean: np.ndarray
    scale: np.ndarray
    weights: dict[str, tuple[np.ndarray, float]]  # attribute -> (coefficients, intercept)

    def probability(self, attribute: str, features: np.ndarray) -> float:
        coef, intercept = self.weights[attribute]
        z = float((features - self.mean) / self.scale @ coef + intercept)
        return 1.0 / (1.0 + float(np.exp(-np.clip(z, -50.0, 50.0))))


@lru_cache(maxsize=1)
def load_head() -> FacialHairHead | None:
    """The shipped head, or None where none was shipped (every attribute measured)."""
    if not HEAD_FILE.exists():
        return None
    doc = json.loads(HEAD_FILE.read_text())
    if not doc["heads"]:
        return None
    return FacialHairHead(
        mean=np.array(doc["mean"], dtype=np.float64),
        scale=np.array(doc["scale"], dtype=np.float64),
        weights={
            name: (np.array(h["coef"], dtype=np.float64), float(h["intercept"]))
            for name, h in doc["heads"].items()
        },
    )


def with_learned_head(
    appearance: Appearance, image_rgb: np.ndarray, five_points: np.ndarray, embedder: FaceEmbedder | None
) -> Appearance:
    """`appearance` with Beard and Mustache from the learned head where one is shipped.

    Without the SFace model (an install that left FaceModelVersion 1.0 out) or without
    a shipped head, the measurements stand.
    """
    head = load_head()
    if head is None or embedder is None:
        return appearance
    features = head_features(
        embedder.embed(image_rgb, five_points),
        measure(image_rgb, five_points),
        hair_texture(image_rgb, five_points),
    )
    answers = {
        name: head.probability(name, features) for name in ("beard", "mustache") if name in head.weights
    }
    return replace(appearance, **answers)
