"""Faces in photos stored turned (90, 180, 270 degrees, no EXIF orientation): recall and cost.

One run measures, on the same photos:

- recall on turned copies of the labelled eval photos (`tests/data/face_labels.json`):
  each photo with a face is turned a quarter, a half and three quarters (pixels turned,
  no EXIF tag; PNG stays PNG, JPEG is saved at quality 95) and its labels with it. Three
  systems answer: openrek's analysis as it was before the turned search (the upright
  pass alone, `turned=False`), openrek as the image operations call it now
  (`turned=True`), and the peer, face_recognition (dlib HOG), which has no turned search;
- the cost of the turned search, openrek with against without, timed in the same
  interleaved rounds (decode + analysis, in-process; DEFAULT attributes) on the upright
  labelled photos (the common case: faces found and confirmed, no turn is tried) and on
  photos with no face (the worst case: every turn is tried). The faceless photos are
  every labelled photo without a face plus GCompris' `erase` set (33 animal and
  landscape photos); extra faces that the turned search reports there are false
  positives, counted.

Run: python bench/detect_faces_turned.py   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# bench/ is sys.path[0] when this runs as `python bench/detect_faces_turned.py`.
from detect_faces import DEFAULT_DATA, DEFAULT_LABELS, Box, load_labels, match
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "detect_faces_turned.md"
# PIL's transposes that turn a photo counterclockwise by 1, 2 and 3 quarters (as numpy.rot90).
TURNS = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}
FACELESS_FOLDER = "gcompris/erase/resource"
# The bound on what the turned search may cost photos whose faces are upright.
COMMON_CASE_BOUND = 0.10

BEFORE = "openrek, upright pass only (before)"
AFTER = "openrek with the turned search (now)"
PEER = "face_recognition HOG (peer)"


@dataclass(frozen=True)
class Photo:
    key: str
    data: bytes
    width: int
    height: int


@dataclass
class Tally:
    labels: int = 0
    matched: int = 0
    false_positives: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.labels if self.labels else float("nan")


def turned_copy(path: Path, turns: int, boxes: Sequence[Box]) -> tuple[Photo, list[Box]]:
    """The photo turned `turns` quarters counterclockwise, re-encoded, with its labels."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    width, height = rgb.size
    turned = rgb.transpose(TURNS[turns])
    out = io.BytesIO()
    if path.suffix.lower() == ".png":
        turned.save(out, "PNG")
    else:
        turned.save(out, "JPEG", quality=95)

    def to_turned(x: float, y: float) -> tuple[float, float]:
        # Where a stored pixel position lands in the turned copy (see rotation.py).
        return {1: (y, width - x), 2: (width - x, height - y), 3: (height - y, x)}[turns]

    labels = []
    for x1, y1, x2, y2 in boxes:
        (ax, ay), (bx, by) = to_turned(x1, y1), to_turned(x2, y2)
        labels.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
    key = f"{path.parent.name}/{path.name} turned {turns * 90}"
    return Photo(key, out.getvalue(), turned.width, turned.height), labels


def openrek_system(turned: bool) -> Callable[[Photo], list[Box]]:
    from openrek.config import Settings
    from openrek.imaging.decode import decode_image
    from openrek.imaging.limits import DEFAULT_LIMITS
    from openrek.models.store import ModelStore
    from openrek.services import build_face_analyzer

    settings = Settings()
    analyzer = build_face_analyzer(ModelStore(settings.models_dir), settings)

    def detect(photo: Photo) -> list[Box]:
        image = decode_image(photo.data, DEFAULT_LIMITS)
        faces = analyzer.analyze(image.rgb, frozenset(), 100, turned=turned)
        return [(float(f.box[0]), float(f.box[1]), float(f.box[2]), float(f.box[3])) for f in faces]

    return detect


def peer_system() -> Callable[[Photo], list[Box]]:
    import face_recognition

    def detect(photo: Photo) -> list[Box]:
        img = face_recognition.load_image_file(io.BytesIO(photo.data))
        return [
            (float(left), float(top), float(right), float(bottom))
            for top, right, bottom, left in face_recognition.face_locations(img)
        ]

    return detect


def score(found: dict[str, list[Box]], labels: dict[str, list[Box]], threshold: float) -> Tally:
    tally = Tally()
    for key, truth in labels.items():
        hit = len(match(truth, found[key], threshold))
        tally.labels += len(truth)
        tally.matched += hit
        tally.false_positives += len(found[key]) - hit
        if hit < len(truth):
            tally.missed.append(f"{key} ({hit}/{len(truth)})")
    return tally


def timed(
    systems: dict[str, Callable[[Photo], list[Box]]], photos: Sequence[Photo], repeats: int
) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, list[Box]]]]:
    """Seconds per photo per system, interleaved photo by photo; boxes of the first pass."""
    for detect in systems.values():
        for photo in photos[:3]:
            detect(photo)
    seconds: dict[str, dict[str, list[float]]] = {name: {} for name in systems}
    boxes: dict[str, dict[str, list[Box]]] = {name: {} for name in systems}
    for round_no in range(repeats):
        for photo in photos:
            for name, detect in systems.items():
                start = time.perf_counter()
                found = detect(photo)
                seconds[name].setdefault(photo.key, []).append(time.perf_counter() - start)
                if round_no == 0:
                    boxes[name][photo.key] = found
    return seconds, boxes


def total_ms(seconds: dict[str, list[float]]) -> float:
    return sum(float(np.median(t)) for t in seconds.values()) * 1000


def load(path: Path) -> Photo:
    """A photo as bytes DetectFaces accepts: JPEG and PNG as stored; others (GCompris'
    WebP) re-encoded as JPEG at quality 95."""
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
        if im.format not in ("JPEG", "PNG"):
            out = io.BytesIO()
            im.convert("RGB").save(out, "JPEG", quality=95)
            data = out.getvalue()
    return Photo(f"{path.parent.name}/{path.name}", data, width, height)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--repeats", type=int, default=3, help="timed passes for the cost part")
    ap.add_argument("--iou", type=float, default=0.4)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args(argv)
    labels = load_labels(args.labels)
    if labels is None:
        sys.exit(f"no labels at {args.labels}")

    turned_photos, turned_labels = [], {}
    for key, boxes in sorted(labels.items()):
        if boxes:
            for turns in TURNS:
                photo, moved = turned_copy(args.data / key, turns, boxes)
                turned_photos.append(photo)
                turned_labels[photo.key] = moved
    upright = [load(args.data / key) for key, boxes in sorted(labels.items()) if boxes]
    faceless = [load(args.data / key) for key, boxes in sorted(labels.items()) if not boxes]
    faceless += [load(p) for p in sorted((args.data / FACELESS_FOLDER).glob("*.webp"))]

    load_before = os.getloadavg()[0]
    systems = {BEFORE: openrek_system(False), AFTER: openrek_system(True)}
    if not args.no_peer:
        systems[PEER] = peer_system()
    print(f"recall: {len(turned_photos)} turned copies", flush=True)
    _, found = timed(systems, turned_photos, 1)
    tallies = {name: score(found[name], turned_labels, args.iou) for name in systems}

    cost_systems = {BEFORE: systems[BEFORE], AFTER: systems[AFTER]}
    print(f"cost: {len(upright)} upright photos with faces, {len(faceless)} without", flush=True)
    up_seconds, _ = timed(cost_systems, upright, args.repeats)
    none_seconds, none_found = timed(cost_systems, faceless, args.repeats)
    extra = sum(len(v) for v in none_found[AFTER].values()) - sum(len(v) for v in none_found[BEFORE].values())
    load_after = os.getloadavg()[0]

    out = ["# DetectFaces on photos stored turned (`bench/detect_faces_turned.py`)", ""]
    out.append(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU cores, load average "
        f"{load_before:.1f} before and {load_after:.1f} after (the machine is shared)."
    )
    out += [
        "",
        f"## Recall on {len(turned_photos)} turned copies of the {len(upright)} labelled photos with faces",
        "",
        f"A detection matches a label at IoU >= {args.iou}, each once; FP = detections matching no label.",
        "",
        "| system | faces | matched | recall | FP |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, tally in tallies.items():
        out.append(
            f"| {name} | {tally.labels} | {tally.matched} | {tally.recall * 100:.1f}% | {tally.false_positives} |"
        )
    out += ["", f"Missed by {AFTER}: " + (", ".join(tallies[AFTER].missed) or "none") + "."]
    out += ["", "Per photo, faces matched in its three turned copies:", ""]
    out += ["| photo | faces | " + " | ".join(systems) + " |", "|---|---:|" + "---:|" * len(systems)]
    for key, boxes in sorted(labels.items()):
        if not boxes:
            continue
        copies = [photo.key for photo in turned_photos if photo.key.rsplit(" turned ", 1)[0] == key]
        counts = [
            sum(len(match(turned_labels[c], found[name][c], args.iou)) for c in copies) for name in systems
        ]
        out.append(f"| {key} | {len(boxes) * len(copies)} | " + " | ".join(map(str, counts)) + " |")
    up_before, up_after = total_ms(up_seconds[BEFORE]), total_ms(up_seconds[AFTER])
    no_before, no_after = total_ms(none_seconds[BEFORE]), total_ms(none_seconds[AFTER])
    common = (up_after - up_before) / up_before
    out += [
        "",
        f"## Cost (decode + analysis in-process, DEFAULT, median of {args.repeats} interleaved passes per photo)",
        "",
        "| photos | count | upright pass only, ms | with turned search, ms | added |",
        "|---|---:|---:|---:|---:|",
        f"| upright, with faces | {len(upright)} | {up_before:.0f} | {up_after:.0f} | {common * 100:+.1f}% |",
        f"| without a face | {len(faceless)} | {no_before:.0f} | {no_after:.0f} | "
        f"{(no_after - no_before) / no_before * 100:+.1f}% |",
        "",
        f"Bound on the common case (upright photos with faces): +{COMMON_CASE_BOUND:.0%}: "
        f"{'met' if common <= COMMON_CASE_BOUND else 'MISSED'}.",
        f"Faces the turned search added on the {len(faceless)} photos without a face (false positives): {extra}.",
    ]
    report = "\n".join(out) + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
