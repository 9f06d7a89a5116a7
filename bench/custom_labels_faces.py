"""Custom Labels detection on real, varied objects: faces boxed in registry photos
(tests/custom_labels/faces.py: 24 training photos with 29 faces, 12 held-out photos with
19 faces; each split has photos without a face). mAP@0.5 on the held-out photos against
the number of training photos showing a face, for the detector DetectCustomLabels runs
(two-scale window pyramid, hard negatives, box regression) and, on the same photos and
features, the detector before it (one 14x14 grid, no hard negatives, no regression);
training time; inference time side by side with the bare decode + backbone loop.

- n face photos are drawn from the 16 training photos with faces (3 draws; 16 is all of
  them, one draw); the 8 training photos without a face are always added. Each photo is
  also mirrored, as training does. The head is trained directly (train_detector), not
  through the Client, so the service's 20% hold-out does not shrink small draws; the
  held-out photos are never used for anything but scoring.
- AP: VOC all-point, IoU >= 0.5, every box the head reports (score >= its 5% floor),
  ranked by score over all 12 held-out photos.
- Photos are read as the tests send them: longer side at most 960 pixels.

    python bench/custom_labels_faces.py   # a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek.config import Settings
from openrek.custom_labels.backbone import Backbone, build_backbone
from openrek.custom_labels.detection import SIDE, SIDES, BoxedImage, DetectionHead, train_detector
from openrek.custom_labels.evaluation import average_precision
from openrek.custom_labels.training import match_detections
from openrek.imaging.decode import decode_image
from openrek.models.store import ModelStore
from tests.custom_labels.faces import TEST, TRAIN, manifest_lines, photo_bytes, photo_name, true_boxes
from tools.eval_data import eval_data_dir, fetch

SIZES = (4, 8, 16)
DRAWS = 3
Truth = list[tuple[str, tuple[float, float, float, float]]]


@dataclass
class Photo:
    name: str
    body: bytes
    truth: Truth
    maps: list[np.ndarray]  # per SIDES
    mirrored: list[np.ndarray]
    seconds: float  # decode + both feature maps, both orientations


def _read(backbone: Backbone, photos: Path, line: dict[str, object]) -> Photo:
    name = photo_name(line)
    body = photo_bytes(photos, name)
    begun = time.perf_counter()
    rgb = decode_image(body).rgb
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    maps = [backbone.feature_map(rgb, side) for side in SIDES]
    mirrored = [backbone.feature_map(flipped, side) for side in SIDES]
    seconds = time.perf_counter() - begun
    return Photo(name, body, [("face", box) for box in true_boxes(line)], maps, mirrored, seconds)


def _boxed(photo: Photo, sides: tuple[int, ...]) -> list[BoxedImage]:
    pick = [SIDES.index(side) for side in sides]
    flipped = [(label, (1 - x1, y0, 1 - x0, y1)) for label, (x0, y0, x1, y1) in photo.truth]
    return [
        BoxedImage([photo.maps[i] for i in pick], photo.truth),
        BoxedImage([photo.mirrored[i] for i in pick], flipped),
    ]


def _ap(head: DetectionHead, test: list[Photo], sides: tuple[int, ...]) -> tuple[float, float]:
    pick = [SIDES.index(side) for side in sides]
    found = [head.detect([photo.maps[i] for i in pick]) for photo in test]
    scores, correct, positives = match_detections(found, [photo.truth for photo in test], "face")
    return average_precision(scores, correct, positives), len(scores) / len(test)


@dataclass
class Run:
    detector: str
    size: int
    draw: int
    faces: int
    ap: float
    boxes_per_photo: float
    training_s: float  # reading the photos' features + fitting the head


class DetectorOptions(TypedDict, total=False):
    """train_detector's options that tell the detectors apart."""

    sides: tuple[int, ...]
    hard_negatives: int
    box_regression: bool


DETECTORS: dict[str, DetectorOptions] = {
    "pyramid + hard negatives + box regression (now)": {"sides": SIDES},
    "14x14 grid only (before)": {"sides": (SIDE,), "hard_negatives": 0, "box_regression": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "custom_labels_faces.md"
    )
    args = parser.parse_args()
    photos = fetch(eval_data_dir(), progress=lambda _m: None)
    with tempfile.TemporaryDirectory() as temp:
        settings = Settings.from_env(data_dir=Path(temp))
        backbone = build_backbone(ModelStore(settings.models_dir), settings.runtime)
    train = [_read(backbone, photos, line) for line in manifest_lines(TRAIN)]
    test = [_read(backbone, photos, line) for line in manifest_lines(TEST)]
    with_faces = [photo for photo in train if photo.truth]
    without = [photo for photo in train if not photo.truth]
    runs: list[Run] = []
    for size in SIZES:
        for draw in range(1 if size >= len(with_faces) else DRAWS):
            rng = np.random.default_rng(draw)
            chosen = [with_faces[i] for i in rng.choice(len(with_faces), size, replace=False)] + without
            for detector, options in DETECTORS.items():
                sides = tuple(options["sides"])
                begun = time.perf_counter()
                images = [image for photo in chosen for image in _boxed(photo, sides)]
                head = train_detector(images, ["face"], **options)
                fit = time.perf_counter() - begun
                # Reading features: each photo's measured time, scaled to the sides this detector reads.
                reading = sum(photo.seconds for photo in chosen) * (1.0 if len(sides) == 2 else 0.25)
                ap, boxes = _ap(head, test, sides)
                faces = sum(len(photo.truth) for photo in chosen)
                runs.append(Run(detector, size, draw, faces, ap, boxes, reading + fit))
                print(detector, size, draw, round(ap, 3), round(reading + fit, 1), file=sys.stderr)
    timing = _timing(backbone, head_now=_final_head(train), photos=test)
    _write(args.out, runs, timing, train, test)


def _final_head(train: list[Photo]) -> DetectionHead:
    return train_detector([image for photo in train for image in _boxed(photo, SIDES)], ["face"])


def _timing(backbone: Backbone, head_now: DetectionHead, photos: list[Photo]) -> dict[str, list[float]]:
    loops: dict[str, Callable[[np.ndarray], object]] = {
        f"bare loop: decode + feature map {SIDE}x{SIDE}": lambda rgb: backbone.feature_map(rgb, SIDE),
        "bare loop: decode + feature maps 448x448 and 896x896": lambda rgb: [
            backbone.feature_map(rgb, side) for side in SIDES
        ],
        "decode + detector now (both maps, windows, regression, NMS)": lambda rgb: head_now.detect_image(
            backbone.feature_map, rgb
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _round in range(2):
        for photo in photos:
            for name, loop in loops.items():
                begun = time.perf_counter()
                loop(decode_image(photo.body).rgb)
                times[name].append(time.perf_counter() - begun)
    return {name: values[len(photos) :] for name, values in times.items()}  # first round warms up


def _write(
    out: Path, runs: list[Run], timing: dict[str, list[float]], train: list[Photo], test: list[Photo]
) -> None:
    faces_train = sum(len(photo.truth) for photo in train)
    faces_test = sum(len(photo.truth) for photo in test)
    lines = [
        "# Custom Labels detection on real faces (bench/custom_labels_faces.py)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.processor() or platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores (shared with other work while it ran), "
        f"Python {platform.python_version()}.",
        "",
        f"Training pool: {len(train)} photos ({sum(1 for p in train if p.truth)} with {faces_train} faces, "
        f"{sum(1 for p in train if not p.truth)} without). Held out: {len(test)} photos "
        f"({sum(1 for p in test if p.truth)} with {faces_test} faces, {sum(1 for p in test if not p.truth)} without),",
        "never used to choose a setting. Boxes: tests/custom_labels/faces.py (proposed by DetectFaces,",
        "checked and corrected by eye). n = training photos showing a face (3 random draws; 16 is all),",
        "plus the 8 training photos without a face. AP: VOC all-point at IoU >= 0.5.",
        "",
        "| detector | n face photos | faces in training | mAP@0.5 mean (min-max) | boxes per held-out photo | "
        "training s mean |",
        "|---|---|---|---|---|---|",
    ]
    for detector in DETECTORS:
        for size in SIZES:
            group = [run for run in runs if run.detector == detector and run.size == size]
            aps = [run.ap for run in group]
            lines.append(
                f"| {detector} | {size} | {'/'.join(str(run.faces) for run in group)} | {statistics.mean(aps):.3f} ({min(aps):.3f}-{max(aps):.3f}) | "
                f"{statistics.mean(run.boxes_per_photo for run in group):.1f} | "
                f"{statistics.mean(run.training_s for run in group):.1f} |"
            )
    bare = statistics.median(timing[f"bare loop: decode + feature map {SIDE}x{SIDE}"])
    lines += [
        "",
        "| inference, one held-out photo (decode included) | median ms | ratio to the 448 bare loop |",
    ]
    lines += ["|---|---|---|"]
    for name, values in timing.items():
        lines.append(
            f"| {name} | {1000 * statistics.median(values):.1f} | {statistics.median(values) / bare:.2f} |"
        )
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
