"""COCO object boxes (NanoDet) and body poses (MoveNet MultiPose): accuracy and speed.

Accuracy, on real photos with hand labels:
- cars: `sahi/terrain2.png` and its COCO annotation (5 cars): recall and precision of
  the detector's "car" boxes at IoU 0.5, at several score thresholds;
- people: the photos of `tests/data/face_labels.json` (every person there has a
  hand-labelled face; the masked-face photos, whose faces are not labelled, are left
  out). A face counts as found when a "person" box holds its centre and at least half
  of it (each box matched once, best score first); a person box holding no face is a
  false positive or a duplicate.
- poses: the same faces; a face is found when a pose's nose lies inside it.

Speed: the detector end to end (resize, normalise, run, decode, NMS) through
onnxruntime, against the same converted ONNX file run by OpenCV's DNN module with the
same pre- and post-processing: one thread each, interleaved photo by photo so that
other load on the machine falls on both. Also the pose estimator's p50.

Run: python bench/object_boxes.py   (after `openrek models pull` and tools/eval_data.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from openrek.config import Settings
from openrek.inference.labels.objects import DetectedObject, ObjectDetector
from openrek.inference.people.pose import PoseEstimator
from openrek.inference.session import OnnxSession, RuntimeSettings
from openrek.models.store import ModelStore
from tools.face_labels import iou

DATA = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
LABELS = REPO / "tests" / "data" / "face_labels.json"
OUT = REPO / "bench" / "results" / "object_boxes.md"
THRESHOLDS = (0.2, 0.3, 0.4, 0.5)


class OpenCvSession:
    """The Session protocol over cv2.dnn, so ObjectDetector runs unchanged on it."""

    def __init__(self, path: Path) -> None:
        self._net = cv2.dnn.readNetFromONNX(str(path))
        self._outputs = list(self._net.getUnconnectedOutLayersNames())
        self.input_names: list[str] = ["input_1"]
        self.input_shapes: list[tuple[int | str | None, ...]] = [(1, 3, 416, 416)]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        (tensor,) = inputs.values()
        self._net.setInput(tensor)
        return list(self._net.forward(self._outputs))


def rgb_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@dataclass
class Tally:
    truths: int = 0
    found: int = 0
    boxes: int = 0
    matched_boxes: int = 0

    def line(self, threshold: float) -> str:
        recall = self.found / self.truths if self.truths else float("nan")
        precision = self.matched_boxes / self.boxes if self.boxes else float("nan")
        return (
            f"| {threshold:.1f} | {self.found}/{self.truths} = {recall:.2f} | "
            f"{self.matched_boxes}/{self.boxes} = {precision:.2f} |"
        )


def car_tally(detections: list[DetectedObject], cars: list[list[float]], threshold: float) -> Tally:
    boxes = [d for d in detections if d.name == "car" and d.score >= threshold]
    used: set[int] = set()
    tally = Tally(truths=len(cars), boxes=len(boxes))
    for car in cars:
        overlaps = [(iou(car, b.box), i) for i, b in enumerate(boxes) if i not in used]
        best = max(overlaps, default=(0.0, -1))
        if best[0] >= 0.5:
            used.add(best[1])
            tally.found += 1
    tally.matched_boxes = len(used)
    return tally


def holds_face(box: np.ndarray, face: list[float]) -> bool:
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    if not (box[0] <= cx <= box[2] and box[1] <= cy <= box[3]):
        return False
    inter = max(0.0, min(box[2], face[2]) - max(box[0], face[0])) * max(
        0.0, min(box[3], face[3]) - max(box[1], face[1])
    )
    return bool(inter >= 0.5 * (face[2] - face[0]) * (face[3] - face[1]))


def person_tally(boxes: list[np.ndarray], faces: list[list[float]]) -> Tally:
    used: set[int] = set()
    tally = Tally(truths=len(faces), boxes=len(boxes))
    for face in faces:
        for i, box in enumerate(boxes):  # boxes come best score first
            if i not in used and holds_face(box, face):
                used.add(i)
                tally.found += 1
                break
    tally.matched_boxes = len(used)
    return tally


def nose_tally(noses: list[np.ndarray], faces: list[list[float]]) -> Tally:
    used: set[int] = set()
    tally = Tally(truths=len(faces), boxes=len(noses))
    for face in faces:
        for i, (x, y) in enumerate(noses):
            if i not in used and face[0] <= x <= face[2] and face[1] <= y <= face[3]:
                used.add(i)
                tally.found += 1
                break
    tally.matched_boxes = len(used)
    return tally


def labelled_people() -> dict[str, list[list[float]]]:
    labels = json.loads(LABELS.read_text())
    return {
        photo: [face["box"] for face in faces]
        for photo, faces in labels.items()
        if "mask_" not in photo and (DATA / photo).exists()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the photos")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    store.verify(["object-detector", "body-pose"])
    one_thread = RuntimeSettings(intra_op_threads=1, use_cuda=False)
    detector = ObjectDetector(OnnxSession(store.path("object-detector"), one_thread))
    peer = ObjectDetector(OpenCvSession(store.path("object-detector")))
    poses = PoseEstimator(OnnxSession(store.path("body-pose"), one_thread))

    people = labelled_people()
    photos = {name: rgb_of(DATA / name) for name in sorted(people)}
    photos["sahi/terrain2.png"] = rgb_of(DATA / "sahi" / "terrain2.png")

    # accuracy (onnxruntime), and agreement of the two runtimes on every photo
    coco = json.loads((DATA / "sahi" / "terrain2_coco.json").read_text())
    cars = [
        [a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
        for a in coco["annotations"]
    ]
    found = {name: detector.detect(rgb, min_score=min(THRESHOLDS)) for name, rgb in photos.items()}
    disagreements = 0
    for name, rgb in photos.items():
        theirs = peer.detect(rgb, min_score=min(THRESHOLDS))
        ours = found[name]
        same = len(ours) == len(theirs) and all(
            a.name == b.name and abs(a.score - b.score) < 1e-3 and iou(a.box, b.box) > 0.99
            for a, b in zip(ours, theirs, strict=True)
        )
        disagreements += not same
    car_lines = [car_tally(found["sahi/terrain2.png"], cars, t).line(t) for t in THRESHOLDS]
    person_lines, pose_lines = [], []
    for threshold in THRESHOLDS:
        total = Tally()
        for name, faces in people.items():
            boxes = [d.box for d in found[name] if d.name == "person" and d.score >= threshold]
            part = person_tally(boxes, faces)
            total = Tally(
                total.truths + part.truths,
                total.found + part.found,
                total.boxes + part.boxes,
                total.matched_boxes + part.matched_boxes,
            )
        person_lines.append(total.line(threshold))
    pose_found = {name: poses.estimate(photos[name], min_score=0.0) for name in people}
    for threshold in THRESHOLDS:
        total = Tally()
        for name, faces in people.items():
            noses = [p.keypoints[0] for p in pose_found[name] if p.score >= threshold]
            part = nose_tally(noses, faces)
            total = Tally(
                total.truths + part.truths,
                total.found + part.found,
                total.boxes + part.boxes,
                total.matched_boxes + part.matched_boxes,
            )
        pose_lines.append(total.line(threshold))

    # speed, interleaved photo by photo
    timings: dict[str, list[float]] = {"openrek": [], "opencv": [], "pose": []}
    runs: dict[str, Callable[[np.ndarray], object]] = {
        "openrek": lambda rgb: detector.detect(rgb),
        "opencv": lambda rgb: peer.detect(rgb),
        "pose": lambda rgb: poses.estimate(rgb),
    }
    for rgb in photos.values():  # warm-up
        for run in runs.values():
            run(rgb)
    for _ in range(args.repeats):
        for rgb in photos.values():
            for name, run in runs.items():
                start = time.perf_counter()
                run(rgb)
                timings[name].append(time.perf_counter() - start)
    p50 = {name: 1000 * statistics.median(values) for name, values in timings.items()}

    n_faces = sum(len(f) for f in people.values())
    report = f"""# Object boxes (NanoDet) and body poses (MoveNet MultiPose)

Measured by `bench/object_boxes.py` on {time.strftime("%Y-%m-%d")}, {platform.machine()},
{os.cpu_count()} CPUs (shared with other work), one inference thread per runtime.

## Cars: `sahi/terrain2.png` against `terrain2_coco.json` ({len(cars)} cars), IoU 0.5

Only boxes named "car" count; the detector also names most of these jeeps "truck"
(class-aware NMS keeps both), which this table does not reward.

| min score | recall | precision |
|---|---|---|
{chr(10).join(car_lines)}

## People: {len(people)} photos, {n_faces} people (each with a hand-labelled face)

A person is found when a "person" box holds their labelled face (centre inside, at
least half of it covered); precision counts person boxes that hold a face.

| min score | recall | precision |
|---|---|---|
{chr(10).join(person_lines)}

## Poses: the same people, found when a pose's nose lies on their face

MoveNet MultiPose returns at most 6 people.

| min person score | recall | precision |
|---|---|---|
{chr(10).join(pose_lines)}

## Speed (p50 over {len(photos)} photos x {args.repeats} passes, one thread)

| what | p50 ms |
|---|---|
| object detector, onnxruntime (openrek) | {p50["openrek"]:.0f} |
| object detector, same ONNX in OpenCV DNN (peer) | {p50["opencv"]:.0f} |
| pose estimator, onnxruntime (openrek) | {p50["pose"]:.0f} |

openrek / OpenCV DNN latency ratio: {p50["openrek"] / p50["opencv"]:.2f}.
Runtimes agreeing on every detection (class, score within 1e-3, box IoU > 0.99):
{len(photos) - disagreements}/{len(photos)} photos.
"""
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
