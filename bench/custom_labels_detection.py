"""Custom Labels detection: mAP@0.5 on held-out boxed scenes against the number of
training images per label, training time, and inference time per image side by side
with the bare decode + backbone feature-map loop.

Data: the boxed scenes of tests/custom_labels/scenes.py (OpenCV's orange and apple
photos cut out with an ellipse, pasted 1-2 a scene at known places and sizes, mirrored,
brighter or darker, on real background photos; 480x360). Labels `orange` and `apple`.

- Held-out set, fixed before any run: `boxed_scenes(TEST_BACKGROUNDS, TEST_SCENES,
  seed=TEST_SEED)`, on the 5 TEST_BACKGROUNDS, none of which is ever a training
  background. The same scenes score every size and draw.
- Training: for draw d a pool `boxed_scenes(TRAIN_BACKGROUNDS, POOL, seed=POOL_SEED + d)`
  on the 10 TRAIN_BACKGROUNDS; scenes are taken in pool order, a scene only when every
  label in it still has fewer than n images, until each label has exactly n images
  containing it. So "n training images per label" means n scenes showing that label
  (a two-fruit scene counts for both of its labels).

Everything goes through the in-process `openrek.Client` (the path `openrek custom-labels
train` takes): CreateProject, CreateDataset from a Ground Truth detection manifest in the
data dir's bucket folder, CreateProjectVersion, StartProjectVersion, DetectCustomLabels
with MinConfidence 0 (so every box the head reports, score >= its floor, after NMS).

mAP@0.5: per label, VOC-style (all-point interpolated) average precision over the whole
held-out set: that label's boxes of all scenes ranked by Confidence, each matched to the
highest-IoU not yet matched true box of that label in its scene when IoU >= 0.5, else a
false positive; mAP is the mean over the two labels. Training time is wall time from
CreateProjectVersion to TRAINING_COMPLETED (polled every 0.05 s); inference is
DetectCustomLabels' wall time with the PNG bytes in hand.

    python bench/custom_labels_detection.py --draws 5   # about 5 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek import Client
from openrek.config import Settings
from openrek.custom_labels.backbone import build_backbone
from openrek.custom_labels.detection import SIDES
from openrek.custom_labels.manifest import Box, detection_line
from openrek.imaging.decode import decode_image
from openrek.models.store import ModelStore
from tests.custom_labels.scenes import OBJECTS, TEST_BACKGROUNDS, TRAIN_BACKGROUNDS, BoxedScene, boxed_scenes
from tools.eval_data import eval_data_dir, fetch

SIZES = (5, 10, 25)
TEST_SCENES = 40
TEST_SEED = 7  # the seed tests/custom_labels/test_training.py uses for its 8 held-out scenes
POOL = 120  # enough that 25 images a label are always reached
POOL_SEED = 100
IOU_MATCH = 0.5
BUCKET = "bench"
LABELS = sorted(OBJECTS)


@dataclass
class Run:
    size: int
    draw: int
    scenes: int
    training_s: float
    ap: dict[str, float]
    detect_s: list[float]
    boxes_per_scene: float
    head_loop_s: list[float]

    @property
    def map50(self) -> float:
        return statistics.mean(self.ap.values())


def _png(scene: BoxedScene) -> bytes:
    out = io.BytesIO()
    scene.image.save(out, format="PNG")
    return out.getvalue()


def _wait(client: Any, project: str, version: str, until: tuple[str, ...]) -> dict[str, Any]:
    while True:
        described: dict[str, Any] = client.describe_project_versions(
            ProjectArn=project, VersionNames=[version]
        )["ProjectVersionDescriptions"][0]
        if described["Status"] in until:
            return described
        time.sleep(0.05)


def training_scenes(photos: Path, size: int, draw: int) -> list[BoxedScene]:
    """Scenes in pool order until each label shows in exactly `size` of them."""
    counts: Counter[str] = Counter()
    chosen = []
    for scene in boxed_scenes(photos, TRAIN_BACKGROUNDS, POOL, seed=POOL_SEED + draw):
        present = {label for label, _box in scene.boxes}
        if all(counts[label] < size for label in present):
            chosen.append(scene)
            counts.update(present)
        if all(counts[label] == size for label in LABELS):
            return chosen
    raise RuntimeError(f"pool of {POOL} scenes has too few for {size} a label: {counts}")


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two (x0, y0, x1, y1) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    overlap = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap
    return overlap / union if union > 0 else 0.0


def average_precision(
    found: list[tuple[int, float, tuple[float, float, float, float]]],
    truth: dict[int, list[tuple[float, float, float, float]]],
) -> float:
    """VOC all-point AP of one label: `found` is (scene, confidence, box), `truth` the true
    boxes of that label by scene; boxes are (x0, y0, x1, y1) fractions."""
    total = sum(len(boxes) for boxes in truth.values())
    if total == 0:
        return float("nan")
    used = {scene: [False] * len(boxes) for scene, boxes in truth.items()}
    hits = []
    for scene, _confidence, box in sorted(found, key=lambda item: -item[1]):
        candidates = [
            (_iou(box, true), index)
            for index, true in enumerate(truth.get(scene, []))
            if not used[scene][index]
        ]
        best = max(candidates, default=(0.0, -1))
        if best[0] >= IOU_MATCH:
            used[scene][best[1]] = True
            hits.append(True)
        else:
            hits.append(False)
    precisions, recalls, tp = [], [], 0
    for rank, hit in enumerate(hits, start=1):
        tp += hit
        precisions.append(tp / rank)
        recalls.append(tp / total)
    # Precision envelope (monotone from the right), then area under the recall steps.
    for index in range(len(precisions) - 2, -1, -1):
        precisions[index] = max(precisions[index], precisions[index + 1])
    ap, previous = 0.0, 0.0
    for precision, recall in zip(precisions, recalls, strict=True):
        ap += (recall - previous) * precision
        previous = recall
    return ap


def _fractions(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[float, float, float, float]:
    left, top, w, h = box
    return (left / size[0], top / size[1], (left + w) / size[0], (top + h) / size[1])


def run_once(client: Any, data_dir: Path, photos: Path, size: int, draw: int, test: list[BoxedScene]) -> Run:
    scenes = training_scenes(photos, size, draw)
    lines = []
    for index, scene in enumerate(scenes):
        key = f"{size}-{draw}/train-{index}.png"
        (data_dir / "s3" / BUCKET / key).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / "s3" / BUCKET / key).write_bytes(_png(scene))
        boxes = [Box(label, *box) for label, box in scene.boxes]
        lines.append(detection_line(f"s3://{BUCKET}/{key}", scene.image.size, boxes))
    manifest = f"{size}-{draw}.manifest"
    (data_dir / "s3" / BUCKET / manifest).write_text("\n".join(lines) + "\n")
    project = client.create_project(ProjectName=f"bench-det-{size}-{draw}")["ProjectArn"]
    dataset = client.create_dataset(
        ProjectArn=project,
        DatasetType="TRAIN",
        DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": manifest}}},
    )["DatasetArn"]
    while client.describe_dataset(DatasetArn=dataset)["DatasetDescription"]["Status"] == "CREATE_IN_PROGRESS":
        time.sleep(0.05)
    started = time.perf_counter()
    arn = client.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": BUCKET, "S3KeyPrefix": "eval/"}
    )["ProjectVersionArn"]
    trained = _wait(client, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
    training = time.perf_counter() - started
    assert trained["Status"] == "TRAINING_COMPLETED", trained["StatusMessage"]
    client.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    _wait(client, project, "v1", ("RUNNING",))
    found: dict[str, list[tuple[int, float, tuple[float, float, float, float]]]] = {
        label: [] for label in LABELS
    }
    truth: dict[str, dict[int, list[tuple[float, float, float, float]]]] = {label: {} for label in LABELS}
    times, reported = [], 0
    for index, scene in enumerate(test):
        for label, box in scene.boxes:
            truth[label].setdefault(index, []).append(_fractions(box, scene.image.size))
        body = _png(scene)
        begun = time.perf_counter()
        answer = client.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": body}, MinConfidence=0)
        times.append(time.perf_counter() - begun)
        for item in answer["CustomLabels"]:
            geometry = item.get("Geometry")
            if geometry is None:
                continue
            b = geometry["BoundingBox"]
            box_xy = (b["Left"], b["Top"], b["Left"] + b["Width"], b["Top"] + b["Height"])
            found[item["Name"]].append((index, item["Confidence"], box_xy))
            reported += 1
    head_loop = _head_loop(client, arn, [_png(scene) for scene in test])
    client.stop_project_version(ProjectVersionArn=arn)
    ap = {label: average_precision(found[label], truth[label]) for label in LABELS}
    return Run(size, draw, len(scenes), training, ap, times, reported / len(test), head_loop)


def _head_loop(client: Any, arn: str, bodies: list[bytes]) -> list[float]:
    """decode + feature map + the trained window head, called directly on the running
    model: DetectCustomLabels without the Client's request/response round trip. Reaches
    into the in-process Client's services on purpose (a bench, not an API)."""
    service = client._services.custom_labels
    model = service.running_model(arn)
    assert model is not None
    times = []
    for body in bodies:
        begun = time.perf_counter()
        model.head.detect_image(service.backbone.feature_map, decode_image(body).rgb)
        times.append(time.perf_counter() - begun)
    return times


def bare_loop(settings: Settings, bodies: list[bytes]) -> list[float]:
    """openrek's decoder + the backbone's feature maps at the detector's sides, one image at
    a time: what DetectCustomLabels wraps (the window head on top is not included)."""
    backbone = build_backbone(ModelStore(settings.models_dir), settings.runtime)
    for side in SIDES:  # warm
        backbone.feature_map(decode_image(bodies[0]).rgb, side)
    times = []
    for body in bodies:
        begun = time.perf_counter()
        rgb = decode_image(body).rgb
        for side in SIDES:
            backbone.feature_map(rgb, side)
        times.append(time.perf_counter() - begun)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--draws", type=int, default=3, help="training-scene draws per size (default 3)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "custom_labels_detection.md"
    )
    args = parser.parse_args()
    photos = fetch(eval_data_dir(), progress=lambda _m: None)
    test = boxed_scenes(photos, TEST_BACKGROUNDS, TEST_SCENES, seed=TEST_SEED)
    test_counts = Counter(label for scene in test for label, _box in scene.boxes)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as temp:
        settings = Settings.from_env(data_dir=Path(temp))
        with Client(settings=settings) as client:
            for size in SIZES:
                for draw in range(args.draws):
                    run = run_once(client, Path(temp), photos, size, draw, test)
                    runs.append(run)
                    print(
                        size,
                        draw,
                        run.scenes,
                        round(run.map50, 3),
                        run.ap,
                        round(run.training_s, 1),
                        file=sys.stderr,
                    )
        bare = bare_loop(settings, [_png(scene) for scene in test])
    detect = [seconds for run in runs for seconds in run.detect_s]
    head_loop = [seconds for run in runs for seconds in run.head_loop_s]

    lines = [
        "# Custom Labels detection (bench/custom_labels_detection.py)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.processor() or platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}, "
        f"{args.draws} training draws per size.",
        "",
        "Boxed scenes of `tests/custom_labels/scenes.py`: OpenCV's orange.jpg and apple.jpg cut out",
        "with an ellipse and pasted (1-2 a scene, 25-50% of the scene height, mirrored, brightness",
        "0.75-1.25) on real background photos, 480x360. Labels `orange`, `apple`.",
        "",
        f"- Held out, fixed before any run: {TEST_SCENES} scenes, `boxed_scenes(TEST_BACKGROUNDS, "
        f"{TEST_SCENES}, seed={TEST_SEED})`,",
        f"  {test_counts['orange']} oranges and {test_counts['apple']} apples, on the backgrounds "
        f"{', '.join(TEST_BACKGROUNDS)}",
        "  (never a training background). The same scenes score every run.",
        f"- Training: draw d takes scenes from `boxed_scenes(TRAIN_BACKGROUNDS, {POOL}, seed={POOL_SEED}+d)`",
        f"  on {', '.join(TRAIN_BACKGROUNDS)},",
        "  in order, a scene only while each of its labels has fewer than n, until each label",
        "  shows in exactly n scenes (a two-fruit scene counts for both labels).",
        "- Score: VOC all-point AP at IoU >= 0.5 per label over the whole held-out set, boxes of",
        "  DetectCustomLabels with MinConfidence 0, ranked by Confidence; mAP = mean of the two.",
        "",
        "| training images per label | training scenes | mAP@0.5 mean (min-max) | AP orange mean | "
        "AP apple mean | boxes reported per held-out scene | training s mean (max) |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in SIZES:
        group = [run for run in runs if run.size == size]
        maps = [run.map50 for run in group]
        lines.append(
            f"| {size} | {'/'.join(str(run.scenes) for run in group)} | {statistics.mean(maps):.3f} "
            f"({min(maps):.3f}-{max(maps):.3f}) | {statistics.mean(run.ap['orange'] for run in group):.3f} | "
            f"{statistics.mean(run.ap['apple'] for run in group):.3f} | "
            f"{statistics.mean(run.boxes_per_scene for run in group):.1f} | "
            f"{statistics.mean(run.training_s for run in group):.1f} "
            f"({max(run.training_s for run in group):.1f}) |"
        )
    lines += ["", "Every run:", "", "| n | draw | scenes | mAP@0.5 | AP orange | AP apple | training s |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for run in runs:
        lines.append(
            f"| {run.size} | {run.draw} | {run.scenes} | {run.map50:.3f} | {run.ap['orange']:.3f} | "
            f"{run.ap['apple']:.3f} | {run.training_s:.1f} |"
        )
    lines += [
        "",
        "| inference, one 480x360 PNG (decode included) | median ms | mean ms |",
        "|---|---|---|",
        f"| DetectCustomLabels, in-process Client | {1000 * statistics.median(detect):.1f} | "
        f"{1000 * statistics.mean(detect):.1f} |",
        f"| bare loop: decode + backbone feature maps ({' and '.join(f'{x}x{x}' for x in SIDES)}) | {1000 * statistics.median(bare):.1f} | "
        f"{1000 * statistics.mean(bare):.1f} |",
        f"| decode + feature map + trained window head, no Client | "
        f"{1000 * statistics.median(head_loop):.1f} | {1000 * statistics.mean(head_loop):.1f} |",
        f"| ratio DetectCustomLabels / bare loop | {statistics.median(detect) / statistics.median(bare):.2f} | "
        f"{statistics.mean(detect) / statistics.mean(bare):.2f} |",
    ]
    lines += [
        "",
        "Notes:",
        "",
        "- This script chooses no setting. C=0.05 and the 5% score floor were chosen when the",
        "  first detector was written, on held-out scenes from these same TEST_BACKGROUNDS",
        '  (docs/custom_labels.md: C=0.05 "ranked held-out windows best when it was chosen"), so',
        "  the held-out set is not independent of that earlier choice. The two-scale pyramid, the",
        "  hard negatives and the box regression's strength were chosen by cross-validation on",
        "  the training photos of the face set (bench/custom_labels_faces.py), not on these scenes.",
        "- n images per label are the manifest. Without a TEST dataset the service holds out 20%",
        "  of them (grouped by each image's first label) for its own evaluation and the detection",
        "  head never trains on those: at n=5 the head sees about 6-8 scenes. This is the path a",
        "  user without a TEST dataset takes, so it is kept.",
        "- Every orange is the same orange photo (and every apple the same apple), resized,",
        "  mirrored and brightened or darkened: this measures finding new copies of one object",
        "  on unseen backgrounds, not recognising new instances of a kind, so it flatters the",
        "  detector against real data. Two labels only.",
        "- The held-out set is small: one orange is 1/31 of recall, one apple 1/21, so single",
        "  AP values move in steps; the spread between draws is the honest error bar.",
        "- MinConfidence 0 still returns only boxes scored at least 5%, after NMS and after",
        "  dropping boxes that overlap a surer box of the other label (at most 50 a label, 100 an",
        "  answer): a true box never reported counts as missed, so AP is, if anything, slightly",
        "  under what an unlimited ranking would give.",
        "- Training time is wall time on a shared 2-core machine and includes reading the PNGs,",
        "  two backbone runs per image (mirrored too), the logistic regression and scoring the",
        "  service's held-out split; the first run also loads the backbone.",
        "- Inference includes PNG decode. DetectCustomLabels adds, over the no-Client row, the",
        "  in-process Client's base64/JSON round trip of the image and building the answer.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
