"""From dataset entries to a trained, evaluated model file set.

Images are read from their buckets as training reads them (the store keeps only the
manifest lines). Without a test dataset, 20% of the training images are held out, as
AWS does, taken per label so every label is tested. A run past its time limit stops
between two images and fails, saying so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openrek.atomic_files import write_atomically
from openrek.custom_labels.backbone import Backbone
from openrek.custom_labels.classification import CannotTrain, ClassificationHead, train_classifier
from openrek.custom_labels.detection import SIDES, BoxedImage, Detection, DetectionHead, iou, train_detector
from openrek.custom_labels.evaluation import LabelResult, average_precision, best_threshold
from openrek.custom_labels.manifest import Entry
from openrek.models.registry import sha256_of

CLASSIFICATION, DETECTION = "classification", "detection"
HOLD_OUT = 0.2
MATCH_IOU = 0.5
HEAD_ARRAYS, HEAD_META = "head.npz", "head.json"

ReadImage = Callable[[Entry], np.ndarray]
Progress = Callable[[float, str], None]


class TrainingTooLong(CannotTrain):
    pass


@dataclass
class TrainedModel:
    kind: str
    head: ClassificationHead | DetectionHead
    thresholds: dict[str, float]  # label -> percent
    results: list[LabelResult]
    training_images: int
    testing_images: int

    @property
    def labels(self) -> list[str]:
        return self.head.labels


def model_kind(entries: list[Entry]) -> str:
    return DETECTION if any(e.has_box_attribute for e in entries) else CLASSIFICATION


def hold_out(
    entries: list[Entry], fraction: float = HOLD_OUT, seed: int = 0
) -> tuple[list[Entry], list[Entry]]:
    """(train, test): `fraction` of each label's images, at least one where a label has 2 or more."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.all_labels[0] if entry.all_labels else "", []).append(entry)
    train, test = [], []
    for group in groups.values():
        order = [group[i] for i in rng.permutation(len(group))]
        count = max(1, round(len(group) * fraction)) if len(group) >= 2 else 0
        test += order[:count]
        train += order[count:]
    return train, test


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise TrainingTooLong("Training took longer than the maximum training time and was stopped")


def train(
    train_entries: list[Entry],
    test_entries: list[Entry],
    read_image: ReadImage,
    backbone: Backbone,
    deadline: float,
    progress: Progress | None = None,
) -> TrainedModel:
    report = progress or (lambda _fraction, _text: None)
    train_entries = [e for e in train_entries if e.usable and e.labeled]
    test_entries = [e for e in test_entries if e.usable and e.labeled]
    if not train_entries:
        raise CannotTrain("The training dataset has no labeled entries without errors")
    if not test_entries:
        train_entries, test_entries = hold_out(train_entries)
        if not test_entries:
            raise CannotTrain("Too few labeled images to hold out a test set; add images or a TEST dataset")
    kind = model_kind(train_entries)
    total = len(train_entries) + len(test_entries)
    done = 0

    def step(text: str) -> None:
        nonlocal done
        done += 1
        _check_deadline(deadline)
        report(done / (total + 1), text)

    if kind == CLASSIFICATION:
        return _train_classification(train_entries, test_entries, read_image, backbone, step, report)
    return _train_detection(train_entries, test_entries, read_image, backbone, step, report)


def _train_classification(
    train_entries: list[Entry],
    test_entries: list[Entry],
    read_image: ReadImage,
    backbone: Backbone,
    step: Callable[[str], None],
    report: Progress,
) -> TrainedModel:
    multi_label = any(len(e.labels) > 1 for e in train_entries + test_entries)
    rows, label_sets = [], []
    for entry in train_entries:
        rgb = read_image(entry)
        rows.append(backbone.features([rgb, rgb[:, ::-1]]))  # mirrored too: twice the examples
        label_sets += [entry.labels, entry.labels]
        step(f"features of {entry.source_ref}")
    head = train_classifier(np.concatenate(rows), label_sets, multi_label)
    scores = []
    for entry in test_entries:
        rgb = read_image(entry)
        features = backbone.features([rgb, rgb[:, ::-1]])
        scores.append(head.probabilities(features[:1])[0])
        rows.append(features)
        label_sets += [entry.labels, entry.labels]
        step(f"testing on {entry.source_ref}")
    probabilities = np.array(scores) * 100
    results = []
    for k, label in enumerate(head.labels):
        truth = np.array([label in e.labels for e in test_entries])
        threshold, precision, recall, f1 = best_threshold(probabilities[:, k], truth, int(truth.sum()))
        results.append(LabelResult(label, threshold, precision, recall, f1, int(truth.sum())))
    # Evaluated, the head is trained again on the test images too: with a dozen
    # images a label, every image counts (measured: held-out street scenes that a
    # head on 7 scenes called portraits, a head on 9 called scenes). The reported
    # metrics are those of the smaller head, so they understate the model slightly.
    final = train_classifier(np.concatenate(rows), label_sets, multi_label)
    report(1.0, "evaluated")
    return TrainedModel(
        CLASSIFICATION,
        final,
        {r.label: r.threshold for r in results},
        results,
        len(train_entries),
        len(test_entries),
    )


def _fraction_boxes(
    entry: Entry, width: int, height: int
) -> list[tuple[str, tuple[float, float, float, float]]]:
    # Boxes are in pixels of the image the annotator saw (image_size); the image read may differ.
    seen_width, seen_height = entry.image_size or (width, height)
    return [
        (
            box.label,
            (
                box.left / seen_width,
                box.top / seen_height,
                (box.left + box.width) / seen_width,
                (box.top + box.height) / seen_height,
            ),
        )
        for box in entry.boxes
    ]


def _train_detection(
    train_entries: list[Entry],
    test_entries: list[Entry],
    read_image: ReadImage,
    backbone: Backbone,
    step: Callable[[str], None],
    report: Progress,
) -> TrainedModel:
    labels = sorted({box.label for e in train_entries for box in e.boxes})
    if not labels:
        raise CannotTrain("The training dataset has no bounding boxes")
    images = []
    for entry in train_entries:
        rgb = read_image(entry)
        boxes = _fraction_boxes(entry, rgb.shape[1], rgb.shape[0])
        mirrored = [(label, (1 - x1, y0, 1 - x0, y1)) for label, (x0, y0, x1, y1) in boxes]
        flipped = np.ascontiguousarray(rgb[:, ::-1])
        images.append(BoxedImage([backbone.feature_map(rgb, side) for side in SIDES], boxes))
        images.append(BoxedImage([backbone.feature_map(flipped, side) for side in SIDES], mirrored))
        step(f"features of {entry.source_ref}")
    head = train_detector(images, labels)
    found: list[list[Detection]] = []
    truths = []
    for entry in test_entries:
        rgb = read_image(entry)
        found.append(head.detect_image(backbone.feature_map, rgb))
        truths.append(_fraction_boxes(entry, rgb.shape[1], rgb.shape[0]))
        step(f"testing on {entry.source_ref}")
    results = []
    for label in labels:
        scores, correct, positives = match_detections(found, truths, label)
        threshold, precision, recall, f1 = best_threshold(scores, correct, positives)
        shown = sum(1 for t in truths if any(name == label for name, _ in t))
        results.append(
            LabelResult(
                label, threshold, precision, recall, f1, shown, average_precision(scores, correct, positives)
            )
        )
    report(1.0, "evaluated")
    return TrainedModel(
        DETECTION,
        head,
        {r.label: r.threshold for r in results},
        results,
        len(train_entries),
        len(test_entries),
    )


def match_detections(
    found: list[list[Detection]],
    truths: list[list[tuple[str, tuple[float, float, float, float]]]],
    label: str,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores (percent) of every detection of `label`, whether each matched an unmatched
    true box at IoU >= 0.5 (surest first, per image), and how many true boxes there are."""
    scores, correct, positives = [], [], 0
    for detections, truth in zip(found, truths, strict=True):
        boxes = np.array([box for name, box in truth if name == label]).reshape(-1, 4)
        positives += len(boxes)
        taken = np.zeros(len(boxes), dtype=bool)
        for detection in (d for d in detections if d.label == label):
            hit = False
            if len(boxes):
                overlap = np.where(taken, 0.0, iou(boxes, np.array(detection.box)))
                best = int(np.argmax(overlap))
                if overlap[best] >= MATCH_IOU:
                    taken[best] = hit = True
            scores.append(detection.confidence * 100)
            correct.append(hit)
    return np.array(scores), np.array(correct, dtype=bool), positives


# The version's file set: arrays without pickles, and a JSON description.
def save_model(model: TrainedModel, folder: Path) -> dict[str, str]:
    """Write the file set; return file name -> SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "kind": model.kind,
        "labels": model.labels,
        "multi_label": isinstance(model.head, ClassificationHead) and model.head.multi_label,
        "thresholds": model.thresholds,
        "backbone": "image-classifier",
    }
    arrays = folder / HEAD_ARRAYS
    with arrays.open("wb") as out:
        np.savez(out, **model.head.arrays())  # type: ignore[arg-type]  # numpy's stub reads **arrays as its allow_pickle flag
    write_atomically(folder / HEAD_META, json.dumps(meta, indent=1).encode())
    return {name: sha256_of(folder / name) for name in (HEAD_ARRAYS, HEAD_META)}


class ModelFilesAltered(RuntimeError):
    pass


@dataclass
class LoadedModel:
    kind: str
    head: ClassificationHead | DetectionHead
    thresholds: dict[str, float]


def check_pins(folder: Path, pins: dict[str, str]) -> None:
    """Every pinned file is in `folder` with its SHA-256: what loads is what was trained."""
    for name, digest in pins.items():
        path = folder / name
        if not path.is_file() or sha256_of(path) != digest:
            raise ModelFilesAltered(f"{path} is missing or does not match its SHA-256 pin")


def load_model(folder: Path, pins: dict[str, str]) -> LoadedModel:
    check_pins(folder, pins)
    meta = json.loads((folder / HEAD_META).read_text())
    with np.load(folder / HEAD_ARRAYS, allow_pickle=False) as data:
        arrays = {name: np.asarray(data[name]) for name in data.files}
    head: ClassificationHead | DetectionHead
    if meta["kind"] == CLASSIFICATION:
        head = ClassificationHead(meta["labels"], meta["multi_label"], **arrays)
    else:
        head = DetectionHead(meta["labels"], **arrays)
    return LoadedModel(meta["kind"], head, {k: float(v) for k, v in meta["thresholds"].items()})
