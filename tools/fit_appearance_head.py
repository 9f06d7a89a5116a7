"""Fit, and score once, a learned Beard/Mustache head (issue 15 item 6, round 2).

Features (openrek/inference/faces/appearance_head.py): the SFace identity embedding
(FaceModelVersion 1.0, 128-d), `appearance.measure`'s five numbers and four texture and
colour numbers around chin and upper lip. A class-balanced L2 logistic regression per
attribute is fitted on the TUNING faces only (bench/data/face_attributes_wide.json's
"tuning" part and tests/data/face_labels.json); the feature set and the regularisation
are chosen by leave-persons-out cross-validation on those faces (--compare prints every
choice). The held-out faces are then scored once with the chosen head, as a report:
nothing is chosen from them.

Result (bench/results/face_attributes.md): the Eyeglasses head beat the measurement on
held-out in precision and recall and is shipped; the Beard and Mustache heads did not
and are not.

Run: python -m tools.fit_appearance_head [--compare] [--write]
  --write  rewrite src/openrek/inference/faces/appearance_head.json with the heads in SHIP
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from openrek.config import Settings
from openrek.inference.faces.analyzer import Need
from openrek.inference.faces.appearance import measure
from openrek.inference.faces.appearance_head import (
    HEAD_FILE,
    MEASUREMENTS,
    TEXTURES,
    hair_texture,
    head_features,
)
from openrek.inference.faces.embedder import FaceEmbedder
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.store import ModelStore
from openrek.services import build_face_analyzer
from tools.eval_data import eval_data_dir, fetch
from tools.face_labels import iou
from tools.identity_photos import fetch_identity_photos

REPO = Path(__file__).resolve().parent.parent
WIDE = REPO / "bench" / "data" / "face_attributes_wide.json"
FITTED_ON = REPO / "tests" / "data" / "face_labels.json"
ATTRIBUTES = ("eyeglasses", "beard", "mustache")
CHOICES_OF_C = (0.01, 0.03, 0.1, 0.3, 1.0)
FEATURE_SETS = {
    "embedding": slice(0, 128),
    "embedding+measurements": slice(0, 133),
    "measurements+texture": slice(128, None),
    "all": slice(0, None),
}
# Chosen by cross-validated F1 on the tuning faces (--compare): best or level-best for
# beard and mustache.
CHOSEN_FEATURES = "all"
# The heads whose held-out precision AND recall beat the measurement (the table this
# tool prints last, and bench/face_attributes_wide.py end to end).
SHIP = ("eyeglasses",)


def labelled_faces(split: str) -> list[tuple[str, dict[str, Any]]]:
    """(photo, label) of every face of `split`; the label's "group" keeps a person together."""
    faces = [
        (photo, {**label, "group": label.get("person", photo)})
        for photo, labels in json.loads(WIDE.read_text()).items()
        for label in labels
        if label["split"] == split
    ]
    if split == "tuning":  # the measurement curves were fitted on these
        for photo, labels in json.loads(FITTED_ON.read_text()).items():
            faces += [(photo, {**label, "group": photo}) for label in labels]
    return faces


def features(root: Path, split: str) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Features of every labelled face of `split` that DetectFaces finds (IoU >= 0.5)."""
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    analyzer = build_face_analyzer(store, settings)
    embedder = FaceEmbedder(open_session(store.path("face-embedding-sface"), RuntimeSettings()), "1.0")
    by_photo: dict[str, list[dict[str, Any]]] = {}
    for photo, label in labelled_faces(split):
        by_photo.setdefault(photo, []).append(label)
    rows, kept = [], []
    for photo, labels in by_photo.items():
        with Image.open(root / photo) as image:
            rgb = np.asarray(image.convert("RGB"))
        found = analyzer.analyze(rgb, frozenset({Need.APPEARANCE, Need.ALIGNMENT}))
        for label in labels:
            scores = [iou(label["box"], [float(v) for v in f.box]) for f in found]
            if not scores or max(scores) < 0.5:
                continue  # never detected: nothing to learn from
            points = found[scores.index(max(scores))].points
            embedding = embedder.embed(rgb, points)
            rows.append(head_features(embedding, measure(rgb, points), hair_texture(rgb, points)))
            kept.append(label)
    return np.asarray(rows, dtype=np.float64), kept


def fit(x: np.ndarray, y: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)


def cross_validated(x: np.ndarray, y: np.ndarray, groups: list[str], c: float) -> tuple[int, int, int]:
    """(TP, FP, FN) over five leave-persons-out folds."""
    from sklearn.model_selection import GroupKFold

    tp = fp = fn = 0
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        if y[train].min() == y[train].max():
            continue
        said = fit(x[train], y[train], c).predict(x[test]).astype(bool)
        truth = y[test].astype(bool)
        tp += int((said & truth).sum())
        fp += int((said & ~truth).sum())
        fn += int((~said & truth).sum())
    return tp, fp, fn


def targets(labels: list[dict[str, Any]], attribute: str) -> tuple[list[int], np.ndarray, list[str]]:
    use = [i for i, label in enumerate(labels) if label.get(attribute) is not None]
    y = np.array([int(bool(labels[i][attribute])) for i in use])
    return use, y, [str(labels[i]["group"]) for i in use]


def write_heads(chosen: dict[str, tuple[Any, slice]], mean: np.ndarray, scale: np.ndarray) -> None:
    doc: dict[str, Any] = {
        "_comment": "Written by tools/fit_appearance_head.py: class-balanced logistic regression on the "
        "standardised features below, fitted on the tuning faces only; p >= 0.5 says true.",
        "features": [f"sface_{i}" for i in range(128)] + list(MEASUREMENTS) + list(TEXTURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "heads": {},
    }
    for attribute in SHIP:
        model, columns = chosen[attribute]
        assert columns == slice(0, None), "the service computes every feature"
        doc["heads"][attribute] = {
            "C": float(model.C),
            "coef": [round(float(v), 6) for v in model.coef_[0]],
            "intercept": round(float(model.intercept_[0]), 6),
        }
    HEAD_FILE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {HEAD_FILE}")


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def main() -> None:
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    fetch_identity_photos(root, progress=lambda _m: None)
    x, labels = features(root, "tuning")
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    chosen: dict[str, tuple[Any, slice]] = {}
    for attribute in ATTRIBUTES:
        use, y, groups = targets(labels, attribute)
        best: tuple[float, float, str] | None = None
        for name, columns in FEATURE_SETS.items():
            if name != CHOSEN_FEATURES and "--compare" not in sys.argv[1:]:
                continue
            cells = []
            for c in CHOICES_OF_C:
                tp, fp, fn = cross_validated(z[use][:, columns], y, groups, c)
                cells.append(f"C={c}: {tp}/{fp}/{fn}")
                f1 = 2 * tp / max(1, 2 * tp + fp + fn)
                if name == CHOSEN_FEATURES and (best is None or f1 > best[0]):
                    best = (f1, c, name)
            print(
                f"tuning CV {attribute} {name} ({int(y.sum())}+/{len(y) - int(y.sum())}-): TP/FP/FN "
                + "  ".join(cells)
            )
        assert best is not None
        columns = FEATURE_SETS[CHOSEN_FEATURES]
        chosen[attribute] = (fit(z[use][:, columns], y, best[1]), columns)
        print(f"{attribute}: chosen C={best[1]}")
    if "--write" in sys.argv[1:]:
        write_heads(chosen, mean, scale)
    held_x, held_labels = features(root, "held-out")
    held_z = (held_x - mean) / scale
    print("| attribute | held-out positives | negatives | TP | FP | FN | precision | recall |")
    for attribute, (model, columns) in chosen.items():
        use, y, _groups = targets(held_labels, attribute)
        said = model.predict(held_z[use][:, columns]).astype(bool)
        truth = y.astype(bool)
        tp, fp, fn = int((said & truth).sum()), int((said & ~truth).sum()), int((~said & truth).sum())
        print(
            f"| {attribute} | {int(truth.sum())} | {int((~truth).sum())} | {tp} | {fp} | {fn} "
            f"| {percent(tp, tp + fp)} | {percent(tp, tp + fn)} |"
        )


if __name__ == "__main__":
    main()
