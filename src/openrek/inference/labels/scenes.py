"""Scene labels (Sky, Sunset, Night, Snow, Tree, Grass, Water, Underwater, City,
Indoors...) that no model the registries carry names: no Places365-like scene
classifier and no CLIP-like model ship as weights in a registry package (see
docs/labels.md), and ImageNet names objects, not scenes.

A scene head is one logistic regression per scene label over two kinds of evidence:
- measured image statistics of the top, middle and bottom third of the photo (share of
  sky-blue, green, warm, white and dark pixels, brightness, saturation) and its
  edge density: sky is blue or bright and smooth at the top, snow white at the bottom,
  a sunset warm at the top, a night dark overall;
- the labeler's own evidence for a few context concepts (Animal, Plant, Building,
  Vehicle, Person, Furniture...): furniture and tableware say Indoors, vehicles and
  buildings say Road and City, wild animals and plants say Nature.

Its weights are trained by `tools/fit_labels.py` on the tuning part of
bench/data/label_photos.json and, since round 5 of issue 15, on the 308 hand-labelled
registry photos of bench/data/scene_training.json (none of them in the recall set), and
shipped as `scene_head.json`; the held-out part is never used. The head is small on
purpose (about forty inputs, strong L2) because a few hundred photos are few.

Since round 2 of issue 15 the head also reads where the photo's ImageNet class
distribution lies: its centred log-probabilities (the classifier's logits up to a
constant) projected on their CLASS_AXES principal axes over the tuning photos. The
1000 classes are objects, but which objects look likely says a lot about the scene
(lakeside, breakwater and boathouse rise together over water; window screen,
bookcase and studio couch indoors). On the tuning photos, out of fold, these eight
numbers raised the right labels at MinConfidence 55 by about a fifth (docs/labels.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import numpy as np
from PIL import Image

STATISTICS_SIDE = 64
CLASS_AXES = 8  # principal axes of the class distribution the head reads (4 to 32 did alike)
LOG_FLOOR = 1e-6  # class probabilities are floored here before the log
MIN_SCALE = 0.05  # floor on an input's standardisation scale (see tools/fit_labels.py)
STANDARD_LIMIT = 4.0  # standardised inputs are clipped to +-this
# Concepts whose evidence (classifier mass merged with boxes and faces) the head reads.
CONTEXT_CONCEPTS = (
    "Animal",
    "Mammal",
    "Bird",
    "Fish",
    "Pet",
    "Wildlife",
    "Sea Life",
    "Plant",
    "Flower",
    "Food",
    "Person",
    "Face",
    "Vehicle",
    "Car",
    "Boat",
    "Building",
    "Architecture",
    "Structure",
    "Furniture",
    "Tableware",
    "Electronics",
    "Device",
    "Clothing",
    "Land",
    "Mountain",
    "Shoreline",
    "Sea",
    "Underwater",
    "Valley",
    "Cliff",
)
REGION_STATISTICS = ("brightness", "saturation", "sky", "green", "warm", "white", "dark")
FEATURE_NAMES = (
    *(f"{region} {name}" for region in ("top", "middle", "bottom") for name in REGION_STATISTICS),
    "edges",
    "top edges",
    *(f"evidence {name}" for name in CONTEXT_CONCEPTS),
)
CLASS_AXIS_NAMES = tuple(f"class axis {index + 1}" for index in range(CLASS_AXES))


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), saturation and value in [0, 1] of float RGB in [0, 1]."""
    maximum = rgb.max(axis=-1)
    minimum = rgb.min(axis=-1)
    spread = maximum - minimum
    safe = np.where(spread > 0, spread, 1.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.where(
        maximum == r,
        ((g - b) / safe) % 6,
        np.where(maximum == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    hue = np.where(spread > 0, hue * 60.0, 0.0)
    saturation = np.where(maximum > 0, spread / np.where(maximum > 0, maximum, 1.0), 0.0)
    return hue, saturation, maximum


def image_statistics(rgb: np.ndarray) -> np.ndarray:
    """The measured statistics of FEATURE_NAMES (without the evidence part), each in [0, 1]."""
    small = Image.fromarray(np.ascontiguousarray(rgb[..., :3])).resize(
        (STATISTICS_SIDE, STATISTICS_SIDE), Image.Resampling.BILINEAR
    )
    pixels = np.asarray(small, dtype=np.float32) / 255.0
    hue, saturation, value = _hsv(pixels)
    sky = (hue >= 180) & (hue <= 250) & (saturation >= 0.15) & (value >= 0.35)
    green = (hue >= 60) & (hue <= 170) & (saturation >= 0.2) & (value >= 0.15)
    warm = ((hue <= 50) | (hue >= 330)) & (saturation >= 0.35) & (value >= 0.35)
    white = (value >= 0.8) & (saturation <= 0.15)
    dark = value <= 0.15
    gray = pixels.mean(axis=-1)
    edges = np.abs(np.diff(gray, axis=0))[:, :-1] + np.abs(np.diff(gray, axis=1))[:-1, :]
    third = STATISTICS_SIDE // 3
    values: list[float] = []
    for rows in (slice(0, third), slice(third, 2 * third), slice(2 * third, STATISTICS_SIDE)):
        for measure in (value, saturation, sky, green, warm, white, dark):
            values.append(float(np.mean(measure[rows])))
    values.append(float(min(edges.mean() * 4.0, 1.0)))
    values.append(float(min(edges[:third].mean() * 4.0, 1.0)))
    return np.array(values, dtype=np.float64)


def class_profile(probabilities: np.ndarray) -> np.ndarray:
    """Centred log-probabilities of the 1000 classes: the logits, up to a constant."""
    logs = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), LOG_FLOOR, 1.0))
    centred: np.ndarray = logs - logs.mean()
    return centred


def class_axes(profiles: np.ndarray, count: int = CLASS_AXES) -> tuple[np.ndarray, np.ndarray]:
    """Mean (1000,) and the first `count` principal axes (count, 1000) of class
    profiles (N, 1000), each axis scaled so that the photos' coordinates on it have unit
    variance."""
    mean = profiles.mean(axis=0)
    _, spread, axes = np.linalg.svd(profiles - mean, full_matrices=False)
    scale = np.maximum(spread[:count] / np.sqrt(len(profiles)), 1e-9)
    return mean, axes[:count] / scale[:, None]


def scene_features(rgb: np.ndarray, evidence: Mapping[str, float]) -> np.ndarray:
    context = [float(evidence.get(name, 0.0)) for name in CONTEXT_CONCEPTS]
    return np.concatenate([image_statistics(rgb), np.array(context, dtype=np.float64)])


@dataclass(frozen=True)
class SceneHead:
    labels: tuple[str, ...]
    mean: np.ndarray  # (F,) feature standardisation
    scale: np.ndarray  # (F,)
    weights: np.ndarray  # (L, F)
    bias: np.ndarray  # (L,)
    class_mean: np.ndarray  # (1000,) see class_axes
    class_axes: np.ndarray  # (CLASS_AXES, 1000)

    def inputs(self, features: np.ndarray, class_probabilities: np.ndarray) -> np.ndarray:
        """The head's inputs: scene_features, then the class-axis coordinates."""
        coordinates = self.class_axes @ (class_profile(class_probabilities) - self.class_mean)
        return np.concatenate([features, coordinates])

    def probabilities(self, features: np.ndarray, class_probabilities: np.ndarray) -> dict[str, float]:
        """Each scene label's probability from scene_features and the whole photo's
        class probabilities."""
        inputs = self.inputs(features, class_probabilities)
        standardised = np.clip((inputs - self.mean) / self.scale, -STANDARD_LIMIT, STANDARD_LIMIT)
        z = self.weights @ standardised + self.bias
        p = 1.0 / (1.0 + np.exp(-z))
        return {label: float(v) for label, v in zip(self.labels, p, strict=True)}

    def to_json(self) -> dict[str, object]:
        return {
            "features": [*FEATURE_NAMES, *CLASS_AXIS_NAMES],
            "labels": list(self.labels),
            "class_mean": self.class_mean.round(6).tolist(),
            "class_axes": self.class_axes.round(6).tolist(),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": self.bias.round(6).tolist(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> SceneHead:
        if list(raw["features"]) != [*FEATURE_NAMES, *CLASS_AXIS_NAMES]:  # type: ignore[call-overload]
            raise ValueError("the scene head was trained on other features; retrain it")
        return cls(
            tuple(raw["labels"]),  # type: ignore[arg-type]
            np.array(raw["mean"], dtype=np.float64),
            np.array(raw["scale"], dtype=np.float64),
            np.array(raw["weights"], dtype=np.float64),
            np.array(raw["bias"], dtype=np.float64),
            np.array(raw["class_mean"], dtype=np.float64),
            np.array(raw["class_axes"], dtype=np.float64),
        )


def load_scene_head() -> SceneHead | None:
    """The shipped head, or None before one was trained."""
    resource = resources.files("openrek.inference.labels").joinpath("scene_head.json")
    if not resource.is_file():
        return None
    return SceneHead.from_json(json.loads(resource.read_text()))


def fit_logistic(features: np.ndarray, targets: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised features
    (the bias is not penalised). Small and exact enough for a few hundred photos."""
    n, f = features.shape
    x = np.hstack([features, np.ones((n, 1))])
    w = np.zeros(f + 1)
    penalty = np.full(f + 1, l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - targets) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])
