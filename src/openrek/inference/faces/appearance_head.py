"""A learned Eyeglasses head on features DetectFaces' models already give.

Issue 15 item 6, round 2. The candidate heads are class-balanced logistic regressions
on the SFace identity embedding (FaceModelVersion 1.0's model; identity embeddings
carry glasses and facial hair strongly), the five hand-made measurements of `appearance`
and four texture and colour numbers around chin and upper lip. tools/fit_appearance_head.py
fits them on the tuning part of bench/data/face_attributes_wide.json only and writes
appearance_head.json (beside this file) with the heads that beat the measurement on the
held-out part, in precision and in recall: Eyeglasses only. Beard and Mustache heads
did worse than the measurement there and are not shipped (bench/results/face_attributes.md).
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
    appearance_from,
    canonical_transform,
)
from openrek.inference.faces.embedder import FaceEmbedder

HEAD_FILE = Path(__file__).with_name("appearance_head.json")
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
    """Embedding (128), measurements (5), texture (4): appearance_head.json's order."""
    return np.concatenate(
        [np.asarray(embedding, dtype=np.float64), [getattr(measured, n) for n in MEASUREMENTS], texture]
    )


@dataclass(frozen=True)
class LearnedHeads:
    mean: np.ndarray
    scale: np.ndarray
    weights: dict[str, tuple[np.ndarray, float]]  # attribute -> (coefficients, intercept)

    def probability(self, attribute: str, features: np.ndarray) -> float:
        coef, intercept = self.weights[attribute]
        z = float((features - self.mean) / self.scale @ coef + intercept)
        return 1.0 / (1.0 + float(np.exp(-np.clip(z, -50.0, 50.0))))


@lru_cache(maxsize=1)
def load_heads() -> LearnedHeads | None:
    """The shipped heads, or None where none was shipped (every attribute measured)."""
    if not HEAD_FILE.exists():
        return None
    doc = json.loads(HEAD_FILE.read_text())
    if not doc["heads"]:
        return None
    return LearnedHeads(
        mean=np.array(doc["mean"], dtype=np.float64),
        scale=np.array(doc["scale"], dtype=np.float64),
        weights={
            name: (np.array(h["coef"], dtype=np.float64), float(h["intercept"]))
            for name, h in doc["heads"].items()
        },
    )


def with_learned_heads(
    measured: Measurements, image_rgb: np.ndarray, five_points: np.ndarray, embedder: FaceEmbedder | None
) -> Appearance:
    """The measurements' answers, those a shipped head answers replaced by its answer.

    Without the SFace model (an install that left FaceModelVersion 1.0 out) or without
    shipped heads the measurements stand. Sunglasses still imply Eyeglasses, as in
    Rekognition: the sunglasses measurement keeps its say.
    """
    appearance = appearance_from(measured)
    heads = load_heads()
    if heads is None or embedder is None:
        return appearance
    features = head_features(
        embedder.embed(image_rgb, five_points), measured, hair_texture(image_rgb, five_points)
    )
    answers = {name: heads.probability(name, features) for name in heads.weights}
    if "eyeglasses" in answers:
        answers["eyeglasses"] = max(answers["eyeglasses"], appearance.sunglasses)
    return replace(appearance, **answers)
