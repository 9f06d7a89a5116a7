"""Fit DetectLabels' scene head and per-label calibration on the TUNING part of
bench/data/label_photos.json (the held-out part is never read here).

1. Scene head (`src/openrek/inference/labels/scene_head.json`): for each scene label
   with at least MIN_POSITIVES positive and negative photos, an L2 logistic
   regression over openrek.inference.labels.scenes.FEATURE_NAMES. A photo is positive
   for a label when its truth ("labels" or "also") names the label or a descendant
   of it. Since round 5 the head is trained on the tuning photos AND the scene
   TRAINING set (bench/data/scene_training.json, `eval_data.py --scene-training`),
   which the calibration never reads; `--without=training` leaves it out. The L2
   strength is chosen by 5-fold cross-validation (training photos in every fold's
   training side, scored on the tuning fold).
2. Calibration (`calibration.json`): the labeler, uncalibrated, labels every tuning
   photo with a scene head cross-fitted without that photo (out-of-fold); for each label the raw thresholds at which its answers were
   right 90% (t55) and 95% (t90) of the time, see calibration.py.
3. An estimate of what this gives on photos it was not fitted on, from the tuning
   part alone: each fold's photos labelled with the head and the calibration fitted
   on the other four folds (median labels, precision, recall at 55 and 90). The
   ablation in docs/labels.md is this number with one lever after another.

Run after `python tools/eval_data.py --labels`:
    OPENREK_THREADS=1 python tools/fit_labels.py [--reuse]
(`--reuse` reads the models' evidence saved by the last run instead of running them.)
"""

from __future__ import annotations

import json
import math
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openrek.inference.labels.scenes import CLASS_AXES, MIN_SCALE, STANDARD_LIMIT

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "bench" / "data" / "label_photos.json"
TRAINING_SET = REPO / "bench" / "data" / "scene_training.json"
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
    # Round 6: names the recall set's truth holds and openrek had none for, each
    # labelled by eye on the training photos (docs/labels.md, round 6).
    "Field",
    "Vegetation",
    "Scenery",
    "Ocean",
)
MIN_POSITIVES = 3
L2_CHOICES = (3.0, 10.0, 30.0, 100.0, 300.0)
PRECISION_AT_55 = 0.90
PRECISION_AT_90 = 0.95  # 0.98 could not be shown for any label on 94 photos (see docs/labels.md)
PRIOR_WEIGHT = 10.0  # a label's few answers count against this many pooled ones
HIGHEST_THRESHOLD = 0.995
# What the calibration is fitted with; `--target55=`, `--prior=` and `--grouped=` change
# them for a measured (never shipped) ablation on the tuning folds.
SETTINGS: dict[str, float] = {"target55": PRECISION_AT_55, "prior": PRIOR_WEIGHT, "grouped": 0.0}
AXES = [CLASS_AXES]  # class axes the head reads; 0 in the `--without=classes` ablation
ANSWERS = REPO / ".cache" / "label_fit_answers.json"  # the last run's tuning answers, for a look
# The models' raw evidence on the tuning photos (the slow part), kept so that
# `--reuse` refits the head and the calibration in seconds. Only this tool writes it.
GATHERED = REPO / ".cache" / "label_fit_gathered.pickle"
GATHERED_TRAINING = REPO / ".cache" / "label_fit_gathered_training.pickle"


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
    """The L2 with the least held-out log loss; photos of fold -1 (the training set)
    are always on the training side, so the loss is read on tuning photos only."""
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


def _head(
    features: np.ndarray, classes: np.ndarray, truths: list[set[str]], labels: list[str], l2: float
) -> Any:
    """A head fitted on these photos only: its class axes too come from them."""
    from openrek.inference.labels.scenes import SceneHead, class_axes, class_profile, fit_logistic

    class_mean, axes = class_axes(np.array([class_profile(p) for p in classes]), AXES[0])
    unfitted = SceneHead(tuple(labels), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), class_mean, axes)
    inputs = np.array([unfitted.inputs(f, p) for f, p in zip(features, classes, strict=True)])
    # A floor on the scale: an input nearly constant on the tuning photos (evidence of
    # Valley is 0 on all but one) would otherwise turn a new photo's small value into
    # a huge standardised one and a certain answer.
    mean, scale = inputs.mean(axis=0), np.maximum(inputs.std(axis=0), MIN_SCALE)
    x = np.clip((inputs - mean) / scale, -STANDARD_LIMIT, STANDARD_LIMIT)
    weights, biases = [], []
    for label in labels:
        w, b = fit_logistic(x, np.array([float(label in t) for t in truths]), l2)
        weights.append(w)
        biases.append(b)
    return SceneHead(tuple(labels), mean, scale, np.array(weights), np.array(biases), class_mean, axes)


@dataclass
class TuningPhoto:
    """One tuning photo's raw model evidence, scene-head inputs and truth."""

    name: str
    evidence: dict[str, float]
    instances: dict[str, list[Any]]
    features: np.ndarray  # scene_features
    classes: np.ndarray  # the whole photo's class probabilities
    truth: set[str]


def gather(labeler: Any, photos: dict[str, dict[str, Any]], data: Path) -> list[TuningPhoto]:
    """Runs the models once over every photo (the slow part)."""
    from openrek.inference.labels.scenes import scene_features

    gathered = []
    for name, photo in sorted(photos.items()):
        rgb = _rgb(data / name)
        evidence, instances, classes = labeler.observe(rgb)
        truth = _truth_sets({"also": [], **photo}, labeler.taxonomy.ancestors)
        gathered.append(TuningPhoto(name, evidence, instances, scene_features(rgb, evidence), classes, truth))
    return gathered


def fit_scene_head(gathered: list[TuningPhoto], training: list[TuningPhoto]) -> tuple[Any, list[Any]]:
    """The head on every tuning and training photo, and five cross-fitted heads (fold
    k never saw the tuning photos of fold k; every fold sees all training photos), so
    that calibration sees the head's answers on photos it was not trained on, as a
    user's photos will be."""
    every = [*gathered, *training]
    features = np.array([photo.features for photo in every])
    classes = np.array([photo.classes for photo in every])
    truths = [photo.truth for photo in every]
    labels = [
        label
        for label in SCENE_LABELS
        if MIN_POSITIVES <= sum(label in t for t in truths) <= len(truths) - MIN_POSITIVES
    ]
    y = np.array([[float(label in t) for label in labels] for t in truths])
    folds = np.concatenate([np.arange(len(gathered)) % 5, np.full(len(training), -1)])
    whole = _head(features, classes, truths, labels, 1.0)  # its inputs choose the L2
    inputs = np.array([whole.inputs(f, p) for f, p in zip(features, classes, strict=True)])
    standardised = np.clip((inputs - whole.mean) / whole.scale, -STANDARD_LIMIT, STANDARD_LIMIT)
    l2 = _cross_validated_l2(standardised, y, folds)
    print(
        f"scene head: {len(labels)} labels, {len(gathered)} tuning + {len(training)} training photos, L2 {l2}"
    )
    cross_fitted = [
        _head(
            features[folds != fold],
            classes[folds != fold],
            [t for t, f in zip(truths, folds, strict=True) if f != fold],
            labels,
            l2,
        )
        for fold in range(5)
    ]
    return _head(features, classes, truths, labels, l2), cross_fitted


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
        precision = (kept_right + SETTINGS["prior"] * pooled(score)) / (index + 1 + SETTINGS["prior"])
        if precision >= target:
            best = min(best, float(score))
    return max(best, 0.02)


def _floor4(value: float) -> float:
    return math.floor(value * 10_000) / 10_000


def pooling_group(label: str) -> str:
    """Which labels a label's few answers are pooled with: the scene head's labels
    (logistic probabilities) and the rest (classifier masses, noisy-ORs with boxes,
    faces) map raw scores to precision differently."""
    return "scene" if label in SCENE_LABELS else "object"


def calibrate(answers: dict[str, dict[str, float]], photos: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pairs: dict[str, list[tuple[float, bool]]] = {}
    for name, answered in answers.items():
        allowed = set(photos[name]["labels"]) | set(photos[name]["also"])
        for label, raw in answered.items():
            pairs.setdefault(label, []).append((raw, label in allowed))
    everything = np.array([p for values in pairs.values() for p in values])
    by_group = {
        group: np.array(
            [p for label, values in pairs.items() if pooling_group(label) == group for p in values]
        )
        for group in {pooling_group(label) for label in pairs}
    }

    def pooled_by(table: np.ndarray) -> Any:
        def pooled(score: float) -> float:
            kept = table[:, 0] >= score
            return float(table[kept, 1].mean()) if kept.any() else 0.0

        return pooled

    def thresholds(scores: np.ndarray, right: np.ndarray, pooled: Any) -> dict[str, float]:
        t55 = _safe_threshold(scores, right, pooled, SETTINGS["target55"])
        t90 = max(_safe_threshold(scores, right, pooled, PRECISION_AT_90), t55)
        # Rounded down: a threshold rounded up would put the answer it was read from
        # just under 55 (54.997...).
        return {"t55": _floor4(t55), "t90": _floor4(min(max(t90, t55), HIGHEST_THRESHOLD))}

    everyone = pooled_by(everything)
    default = thresholds(everything[:, 0], everything[:, 1].astype(bool), everyone)
    labels = {
        label: thresholds(
            np.array([s for s, _ in values]),
            np.array([r for _, r in values], dtype=float),
            pooled_by(by_group[pooling_group(label)]) if SETTINGS["grouped"] else everyone,
        )
        for label, values in sorted(pairs.items())
        if len(values) >= 2
    }
    return {
        "about": "Written by tools/fit_labels.py from the tuning part of bench/data/label_photos.json.",
        "default": default,
        "labels": labels,
    }


def out_of_fold(
    labeler: Any, gathered: list[TuningPhoto], heads: list[Any], photos: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Each photo's raw answers (its fold's scene head, no calibration) and its
    calibrated answers with a calibration fitted on the other four folds only: what
    the tuning part says of photos neither the head nor the thresholds saw."""
    from openrek.inference.labels.calibration import Calibration
    from openrek.inference.labels.labeler import FLOOR, with_scenes

    labeler.calibration = None
    evidence = [
        with_scenes(photo.evidence, heads[index % 5].probabilities(photo.features, photo.classes))
        for index, photo in enumerate(gathered)
    ]
    raw = {}
    for photo, merged in zip(gathered, evidence, strict=True):
        labelled = labeler.finish(merged, photo.instances)
        raw[photo.name] = {label.name: label.confidence for label in labelled if label.confidence >= FLOOR}
    calibrated = {}
    for fold in range(5):
        others = {name: answer for index, (name, answer) in enumerate(raw.items()) if index % 5 != fold}
        labeler.calibration = Calibration.from_json(calibrate(others, photos))
        for index, photo in enumerate(gathered):
            if index % 5 == fold:
                labelled = labeler.finish(evidence[index], photo.instances)
                calibrated[photo.name] = {label.name: label.confidence * 100.0 for label in labelled}
    labeler.calibration = None
    return raw, calibrated


def main() -> None:
    from bench.label_recall import measure
    from openrek.config import Settings
    from openrek.inference.labels.labeler import build_labeler
    from openrek.inference.labels.people import face_describer
    from openrek.models.store import ModelStore
    from openrek.services import build_face_analyzer

    data = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
    photos = {k: v for k, v in json.loads(SET.read_text())["photos"].items() if v["split"] == "tuning"}
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    faces = build_face_analyzer(store, settings)
    labeler = build_labeler(
        store,
        settings.runtime,
        faces.detector.detect,
        calibrated=False,
        describe_face=face_describer(faces.age_gender),
    )
    # Ablation: `--without=people` leaves out the people descriptors (faces' age and
    # gender, crowd), `--without=classes` the scene head's class axes,
    # `--without=training` the scene training set (the head of rounds 1-4).
    left_out = {part for a in sys.argv[1:] if a.startswith("--without=") for part in a[10:].split(",")}
    overrides = {
        a[2:].split("=")[0]: float(a.split("=")[1])
        for a in sys.argv[1:]
        if a.split("=")[0] in ("--target55", "--prior", "--grouped")
    }
    SETTINGS.update(overrides)
    left_out |= {f"{k}={v}" for k, v in overrides.items()}
    if "people" in left_out:
        labeler.describe_face = None
    if "classes" in left_out:
        AXES[0] = 0
    for argument in sys.argv[1:]:  # `--axes=N`: the head reads N class axes (measured, not shipped)
        if argument.startswith("--axes="):
            AXES[0] = int(argument[7:])
            left_out.add(argument[2:])
    if "--reuse" in sys.argv[1:] and GATHERED.is_file():
        gathered: list[TuningPhoto] = pickle.loads(GATHERED.read_bytes())
        truths = {name: _truth_sets(photo, labeler.taxonomy.ancestors) for name, photo in photos.items()}
        for photo in gathered:  # the truth may have changed since the models ran
            photo.truth = truths[photo.name]
    else:
        gathered = gather(labeler, photos, data)
        GATHERED.parent.mkdir(parents=True, exist_ok=True)
        GATHERED.write_bytes(pickle.dumps(gathered))
    training: list[TuningPhoto] = []
    if "training" not in left_out:
        scenes = json.loads(TRAINING_SET.read_text())["photos"]
        saved: dict[str, TuningPhoto] = {}
        if "--reuse" in sys.argv[1:] and GATHERED_TRAINING.is_file():
            saved = {photo.name: photo for photo in pickle.loads(GATHERED_TRAINING.read_bytes())}
        # Only photos added since the last run go through the models; photos left out
        # since are dropped, and every photo's labels are re-read.
        missing = {name: photo for name, photo in scenes.items() if name not in saved}
        if missing:
            saved.update({photo.name: photo for photo in gather(labeler, missing, data)})
            GATHERED_TRAINING.write_bytes(pickle.dumps(list(saved.values())))
        training = [saved[name] for name in sorted(scenes)]
        for photo in training:
            photo.truth = _truth_sets({"also": [], **scenes[photo.name]}, labeler.taxonomy.ancestors)
    head, cross_fitted = fit_scene_head(gathered, training)
    raw, calibrated = out_of_fold(labeler, gathered, cross_fitted, photos)
    calibration = calibrate(raw, photos)
    if not left_out:  # an ablation's head and thresholds are measured, never shipped
        (PACKAGE / "scene_head.json").write_text(json.dumps(head.to_json()) + "\n")
        (PACKAGE / "calibration.json").write_text(json.dumps(calibration, indent=1, sort_keys=True) + "\n")
    print(f"calibration: default {calibration['default']}, {len(calibration['labels'])} labels")
    ANSWERS.parent.mkdir(parents=True, exist_ok=True)
    ANSWERS.write_text(json.dumps({"raw": raw, "out_of_fold": calibrated}))
    for threshold in (55.0, 90.0):
        m = measure(calibrated, photos, "tuning", threshold)
        print(
            f"tuning, out of fold, MinConfidence {threshold:.0f}: median {m['median_labels']} labels, "
            f"precision {m['correct']}/{m['returned']} ({m['precision']:.1%}), "
            f"recall {m['found']}/{m['required']} ({m['recall']:.1%})"
        )


if __name__ == "__main__":
    main()
