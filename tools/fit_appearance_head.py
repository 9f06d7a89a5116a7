"""Fit the learned facial-hair head that DetectFaces' Beard and Mustache may use.

Features per face (all from models DetectFaces already carries): the SFace identity
embedding (FaceModelVersion 1.0, 128-d; identity embeddings are known to carry beard
and glasses) and the five hand-made measurements of `appearance.measure`. A class-
balanced L2 logistic regression is fitted per attribute on the TUNING faces only
(bench/data/face_attributes_wide.json's "tuning" part and tests/data/face_labels.json);
its regularisation is chosen by leave-persons-out cross-validation on those faces.
The held-out part is never read here: bench/face_attributes_wide.py scores it end to
end through the service.

Run: python -m tools.fit_appearance_head [--compare] [--write]
  --compare  cross-validated TP/FP/FN of each feature set (embedding, measurements...)
  --write  rewrite src/openrek/inference/faces/appearance_head.json (the shipped head;
           only the attributes named in SHIP are written, those whose held-out
           precision and recall beat the measurement in the bench).
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
from openrek.inference.faces.appearance_head import MEASUREMENTS, TEXTURES, hair_texture, head_features
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
HEAD = REPO / "src" / "openrek" / "inference" / "faces" / "appearance_head.json"
ATTRIBUTES = ("eyeglasses", "beard", "mustache")
# Attributes whose head beat the measurement on held-out precision AND recall
# (bench/results/face_attributes.md); the others keep the measurement.
SHIP = ("beard", "mustache")
CHOICES_OF_C = (0.01, 0.03, 0.1, 0.3, 1.0)


def tuning_faces() -> list[tuple[str, dict[str, Any]]]:
    """(photo, label) of every tuning face; the label's "group" keeps a person together."""
    faces = []
    for photo, labels in json.loads(WIDE.read_text()).items():
        faces += [
            (photo, {**lab, "group": lab.get("person", photo)}) for lab in labels if lab["split"] == "tuning"
        ]
    for photo, labels in json.loads(FITTED_ON.read_text()).items():
        faces += [(photo, {**lab, "group": photo}) for lab in labels]
    return faces


def features(root: Path) -> tuple[np.ndarray, list[dict[str, Any]]]:
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    analyzer = build_face_analyzer(store, settings)
    embedder = FaceEmbedder(open_session(store.path("face-embedding-sface"), RuntimeSettings()), "1.0")
    by_photo: dict[str, list[dict[str, Any]]] = {}
    for photo, label in tuning_faces():
        by_photo.setdefault(photo, []).append(label)
    rows, kept = [], []
    for photo, labels in by_photo.items():
        with Image.open(root / photo) as image:
            rgb = np.asarray(image.convert("RGB"))
        found = analyzer.analyze(rgb, frozenset({Need.APPEARANCE, Need.ALIGNMENT}))
        for label in labels:
            scores = [iou(label["box"], [float(v) for v in f.box]) for f in found]
            if not scores or max(scores) < 0.5:
                continue  # never detected: no features to learn from
            face = found[scores.index(max(scores))]
            rows.append(
                head_features(
                    embedder.embed(rgb, face.points),
                    measure(rgb, face.points),
                    hair_texture(rgb, face.points),
                )
            )
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


FEATURE_SETS = {
    "embedding": slice(0, 128),
    "embedding+measurements": slice(0, 133),
    "measurements+texture": slice(128, None),
    "all": slice(0, None),
}


def compare(z: np.ndarray, labels: list[dict[str, Any]]) -> None:
    """Cross-validated F1 of each feature set at each C (tuning faces only)."""
    for attribute in ATTRIBUTES:
        use = [i for i, lab in enumerate(labels) if lab.get(attribute) is not None]
        y = np.array([int(bool(labels[i][attribute])) for i in use])
        groups = [str(labels[i]["group"]) for i in use]
        for name, columns in FEATURE_SETS.items():
            cells = []
            for c in CHOICES_OF_C:
                tp, fp, fn = cross_validated(z[use][:, columns], y, groups, c)
                cells.append(f"C={c}: {tp}/{fp}/{fn}")
            print(f"{attribute} {name}: TP/FP/FN " + "  ".join(cells))


def main() -> None:
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    fetch_identity_photos(root, progress=lambda _m: None)
    x, labels = features(root)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    head: dict[str, Any] = {
        "_comment": "Written by tools/fit_appearance_head.py: logistic regression on the SFace "
        "embedding (1.0), appearance.measure's five numbers and appearance_head.hair_texture's four, "
        "standardised; fitted on the "
        "tuning faces only.",
        "features": [f"sface_{i}" for i in range(128)] + list(MEASUREMENTS) + list(TEXTURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "heads": {},
    }
    if "--compare" in sys.argv[1:]:
        compare(z, labels)
    for attribute in ATTRIBUTES:
        use = [i for i, lab in enumerate(labels) if lab.get(attribute) is not None]
        y = np.array([int(bool(labels[i][attribute])) for i in use])
        groups = [str(labels[i]["group"]) for i in use]
        best = None
        for c in CHOICES_OF_C:
            tp, fp, fn = cross_validated(z[use], y, groups, c)
            f1 = 2 * tp / max(1, 2 * tp + fp + fn)
            print(f"{attribute}: C={c}: CV TP {tp} FP {fp} FN {fn} F1 {f1:.2f}")
            if best is None or f1 > best[0]:
                best = (f1, c)
        assert best is not None
        model = fit(z[use], y, best[1])
        print(f"{attribute}: {int(y.sum())} positives, {len(y) - int(y.sum())} negatives; chosen C={best[1]}")
        if attribute in SHIP:
            head["heads"][attribute] = {
                "C": best[1],
                "tuning_positives": int(y.sum()),
                "tuning_negatives": len(y) - int(y.sum()),
                "coef": [round(float(v), 6) for v in model.coef_[0]],
                "intercept": round(float(model.intercept_[0]), 6),
            }
    if "--write" in sys.argv[1:]:
        HEAD.write_text(json.dumps(head, indent=1) + "\n")
        print(f"wrote {HEAD}")


if __name__ == "__main__":
    main()
