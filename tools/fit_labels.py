"""Fit DetectLabels' scene head and per-label calibration on the TUNING part of
bench/data/label_photos.json (the held-out part is never read here).

1. Scene head (`src/openrek/inference/labels/scene_head.json`): for each scene label
   with at least MIN_POSITIVES positive and negative tuning photos, an L2 logistic
   regression over openrek.inference.labels.scenes.FEATURE_NAMES. A photo is positive
   for a label when its truth ("labels" or "also") names the label or a descendant
   of it. The L2 strength is chosen by 5-fold cross-validation on the tuning photos.
2. Calibration (`calibration.json`): the labeler, uncalibrated, labels every tuning
   photo with a scene head cross-fitted without that photo (out-of-fold); for each label the raw thresholds at which its answers were
   right 90% (t55) and 95% (t90) of the time, see calibration.py.

Run after `python tools/eval_data.py --labels`:
    OPENREK_THREADS=1 python tools/fit_labels.py [--calibrate-only]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from openrek.inference.labels.scenes import MIN_SCALE, STANDARD_LIMIT

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "bench" / "data" / "label_photos.json"
PACKAGE = REPO / "src" / "openrek" / "inference" / "labels"
SCENE_LABELS = (
    "Outdoors",
    "Nature",
    "Sky",
    "Cloud",
    "Sunset",
    "Night",
    "Snow",
    "Plant",
    "Tree",
    "Forest",
    "Grass",
    "Leaf",
    "Flower",
    "Water",
    "Sea",
    "Underwater",
    "Mountain",
    "Rock",
    "Landscape",
    "Land",
    "Building",
    "Architecture",
    "City",
    "Road",
    "Indoors",
)
MIN_POSITIVES = 3
L2_CHOICES = (3.0, 10.0, 30.0, 100.0, 300.0)
PRECISION_AT_55 = 0.90
PRECISION_AT_90 = 0.95  # 0.98 could not be shown for any label on 94 photos (see docs/labels.md)
PRIOR_WEIGHT = 10.0  # a label's few answers count against this many pooled ones
HIGHEST_THRESHOLD = 0.995
ANSWERS = REPO / ".cache" / "label_fit_answers.json"  # raw tuning answers, for --calibrate-only


def _rgb(path: Path) -> np.ndarray:
    """The photo as DetectLabels decodes it (the bench's bytes, the server's decoder)."""
    from bench.label_recall import as_jpeg_or_png
    from openrek.imaging.decode import decode_image

    rgb: np.ndarray = decode_image(as_jpeg_or_png(path)).rgb
    return rgb


def _truth_sets(photo: dict[str, Any], ancestors: dict[str, tuple[str, ...]]) -> set[str]:
    """What the photo shows (labels and also) with every ancestor of each."""
    shown = set(photo["labels"]) | set(photo["also"])
    return shown | {a for name in shown for a in ancestors.get(name, ())}


def _cross_validated_l2(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    from openrek.inference.labels.scenes import fit_logistic

    losses = []
    for l2 in L2_CHOICES:
        loss = 0.0
        for fold in range(5):
            train, test = folds != fold, folds == fold
            for column in range(y.shape[1]):
                w, b = fit_logistic(x[train], y[train, column], l2)
                p = np.clip(1 / (1 + np.exp(-(x[test] @ w + b))), 1e-6, 1 - 1e-6)
                t = y[test, column]
                loss -= float(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)))
        losses.append(loss)
    return L2_CHOICES[int(np.argmin(losses))]


def _head(features: np.ndarray, truths: list[set[str]], labels: list[str], l2: float) -> Any:
    from openrek.inference.labels.scenes import SceneHead, fit_logistic

    # A floor on the scale: an input nearly constant on the tuning photos (evidence of
    # Valley is 0 on all but one) would otherwise turn a new photo's small value into
    # a huge standardised one and a certain answer.
    mean, scale = features.mean(axis=0), np.maximum(features.std(axis=0), MIN_SCALE)
    x = np.clip((features - mean) / scale, -STANDARD_LIMIT, STANDARD_LIMIT)
    weights, biases = [], []
    for label in labels:
        w, b = fit_logistic(x, np.array([float(label in t) for t in truths]), l2)
        weights.append(w)
        biases.append(b)
    return SceneHead(tuple(labels), mean, scale, np.array(weights), np.array(biases))


def fit_scene_head(labeler: Any, photos: dict[str, dict[str, Any]], data: Path) -> tuple[Any, list[Any]]:
    """The head on every tuning photo, and five cross-fitted heads (fold k never saw
    the photos of fold k), so that calibration sees the head's answers on photos it
    was not trained on, as a user's photos will be."""
    from openrek.inference.labels.scenes import scene_features

    rows, truths = [], []
    for name, photo in sorted(photos.items()):
        rgb = _rgb(data / name)
        evidence, _ = labeler.evidence(rgb)
        rows.append(scene_features(rgb, evidence))
        truths.append(_truth_sets(photo, labeler.taxonomy.ancestors))
    features = np.array(rows)
    labels = [
        label
        for label in SCENE_LABELS
        if MIN_POSITIVES <= sum(label in t for t in truths) <= len(truths) - MIN_POSITIVES
    ]
    y = np.array([[float(label in t) for label in labels] for t in truths])
    folds = np.arange(len(features)) % 5
    standardised = np.clip(
        (features - features.mean(axis=0)) / np.maximum(features.std(axis=0), MIN_SCALE),
        -STANDARD_LIMIT,
        STANDARD_LIMIT,
    )
    l2 = _cross_validated_l2(standardised, y, folds)
    print(f"scene head: {len(labels)} labels, {len(features)} tuning photos, L2 {l2}")
    cross_fitted = [
        _head(
            features[folds != fold], [t for t, f in zip(truths, folds, strict=True) if f != fold], labels, l2
        )
        for fold in range(5)
    ]
    return _head(features, truths, labels, l2), cross_fitted


def _safe_threshold(scores: np.ndarray, right: np.ndarray, pooled: Any, target: float) -> float:
    """The lowest raw score t at which the answers at or above t are right at least
    `target` of the time, a label's own few answers shrunk toward the pooled
    precision at that cut (PRIOR_WEIGHT answers' worth)."""
    order = np.argsort(-scores)
    scores, right = scores[order], right[order]
    best = HIGHEST_THRESHOLD
    kept_right = 0.0
    for index, score in enumerate(scores):
        kept_right += right[index]
        if index + 1 < len(scores) and scores[index + 1] == score:
            continue  # a cut keeps every answer of equal score
        precision = (kept_right + PRIOR_WEIGHT * pooled(score)) / (index + 1 + PRIOR_WEIGHT)
        if precision >= target:
            best = min(best, float(score))
    return max(best, 0.02)


def calibrate(answers: dict[str, dict[str, float]], photos: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pairs: dict[str, list[tuple[float, bool]]] = {}
    for name, labels in answers.items():
        allowed = set(photos[name]["labels"]) | set(photos[name]["also"])
        for label, raw in labels.items():
            pairs.setdefault(label, []).append((raw, label in allowed))
    everything = np.array([p for values in pairs.values() for p in values])
    pooled_scores, pooled_right = everything[:, 0], everything[:, 1]

    def pooled(score: float) -> float:
        kept = pooled_scores >= score
        return float(pooled_right[kept].mean()) if kept.any() else 0.0

    def thresholds(scores: np.ndarray, right: np.ndarray) -> dict[str, float]:
        t55 = _safe_threshold(scores, right, pooled, PRECISION_AT_55)
        t90 = max(_safe_threshold(scores, right, pooled, PRECISION_AT_90), t55)
        return {"t55": round(t55, 4), "t90": round(min(max(t90, t55), HIGHEST_THRESHOLD), 4)}

    default = thresholds(pooled_scores, pooled_right.astype(bool))
    labels = {
        label: thresholds(np.array([s for s, _ in values]), np.array([r for _, r in values], dtype=float))
        for label, values in sorted(pairs.items())
        if len(values) >= 2
    }
    return {
        "about": "Written by tools/fit_labels.py from the tuning part of bench/data/label_photos.json.",
        "default": default,
        "labels": labels,
    }


def main() -> None:
    from openrek.config import Settings
    from openrek.inference.labels.labeler import FLOOR, build_labeler
    from openrek.models.store import ModelStore
    from openrek.services import build_face_analyzer

    data = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
    photos = {k: v for k, v in json.loads(SET.read_text())["photos"].items() if v["split"] == "tuning"}
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    faces = build_face_analyzer(store, settings)
    labeler = build_labeler(store, settings.runtime, faces.detector.detect, calibrated=False)
    if "--calibrate-only" in sys.argv[1:] and ANSWERS.exists():
        answers = json.loads(ANSWERS.read_text())  # the last run's raw answers
    else:
        head, cross_fitted = fit_scene_head(labeler, photos, data)
        (PACKAGE / "scene_head.json").write_text(json.dumps(head.to_json()) + "\n")
        answers = {}
        for index, name in enumerate(sorted(photos)):  # the same folds as fit_scene_head's
            labeler.scene_head = cross_fitted[index % 5]
            labelled = labeler.labels(_rgb(data / name))
            answers[name] = {label.name: label.confidence for label in labelled if label.confidence >= FLOOR}
        ANSWERS.parent.mkdir(parents=True, exist_ok=True)
        ANSWERS.write_text(json.dumps(answers))
    calibration = calibrate(answers, photos)
    (PACKAGE / "calibration.json").write_text(json.dumps(calibration, indent=1, sort_keys=True) + "\n")
    print(f"calibration: default {calibration['default']}, {len(calibration['labels'])} labels")


if __name__ == "__main__":
    main()
