"""Content-moderation adapters: held-out precision and recall of the adapter against the
base moderation model, training time, and DetectModerationLabels' time with and without
ProjectVersion.

Images (tests/custom_labels/moderation_sets.py, sorted by hand): clip art of alcoholic
drinks (9) against drinks without alcohol (18), weapons (11, v7 "Violence") against
everyday tools (18), the six face-api party photos (the base model's one false positive
on the eval photos, sample2, is always held out) and other safe eval photos. For each
of --seeds random draws, two thirds of each group train one adapter (both categories at
once, ConfidenceThreshold 50) through the in-process Client; the rest are held out and
never in a manifest (the TEST dataset is those held-out images). A held-out image's
answer is DetectModerationLabels' top-level labels at MinConfidence 50 (the default).

    python bench/moderation_adapters.py     # a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek import Client
from openrek.custom_labels.manifest import moderation_line
from tests.custom_labels.moderation_sets import (
    ALCOHOL,
    DRESSED,
    OTHER_SAFE,
    SOFT_DRINKS,
    TOOLS,
    WEAPONS,
    image_bytes,
)
from tools.eval_data import eval_data_dir, fetch

BUCKET = "bench"
SWIMWEAR = "Swimwear or Underwear"
GROUPS: list[tuple[list[str], list[str]]] = [
    (ALCOHOL, ["Alcohol"]),
    (SOFT_DRINKS, []),
    (WEAPONS, ["Violence"]),
    (TOOLS, []),
    (DRESSED[1:], []),
    (OTHER_SAFE, []),
]
CATEGORIES = ("Alcohol", "Violence", SWIMWEAR)


def split(seed: int) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    rng = random.Random(seed)
    train: list[tuple[str, list[str]]] = []
    held: list[tuple[str, list[str]]] = [(DRESSED[0], [])]
    for names, labels in GROUPS:
        order = rng.sample(names, len(names))
        cut = round(len(order) * 2 / 3)
        train += [(n, labels) for n in order[:cut]]
        held += [(n, labels) for n in order[cut:]]
    return train, held


def manifest(data_dir: Path, photos: Path, key: str, rows: list[tuple[str, list[str]]]) -> dict[str, Any]:
    lines = []
    for name, labels in rows:
        image_key = f"images/{name}"
        (data_dir / "s3" / BUCKET / image_key).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / "s3" / BUCKET / image_key).write_bytes(image_bytes(photos, name))
        lines.append(moderation_line(f"s3://{BUCKET}/{image_key}", labels))
    (data_dir / "s3" / BUCKET / key).write_text("\n".join(lines) + "\n")
    return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}


def run_once(client: Any, data_dir: Path, photos: Path, seed: int) -> dict[str, Any]:
    train, held = split(seed)
    project = client.create_project(
        ProjectName=f"bench-{seed}", Feature="CONTENT_MODERATION", AutoUpdate="DISABLED"
    )["ProjectArn"]
    started = time.perf_counter()
    arn = client.create_project_version(
        ProjectArn=project,
        VersionName="v1",
        OutputConfig={"S3Bucket": BUCKET, "S3KeyPrefix": f"eval-{seed}/"},
        TrainingData={"Assets": [manifest(data_dir, photos, f"train-{seed}", train)]},
        TestingData={"Assets": [manifest(data_dir, photos, f"test-{seed}", held)]},
        FeatureConfig={"ContentModeration": {"ConfidenceThreshold": 50.0}},
    )["ProjectVersionArn"]
    while True:
        described = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
        if described["Status"] != "TRAINING_IN_PROGRESS":
            break
        time.sleep(0.05)
    training = time.perf_counter() - started
    assert described["Status"] == "TRAINING_COMPLETED", described["StatusMessage"]
    counts = {(who, c, k): 0 for who in ("adapter", "base") for c in CATEGORIES for k in ("tp", "fp", "fn")}
    times: dict[str, list[float]] = {"adapter": [], "base": []}
    changed_photos = 0
    for name, labels in held:
        body = image_bytes(photos, name)
        answers = {}
        for who, extra in (("base", {}), ("adapter", {"ProjectVersion": arn})):
            begun = time.perf_counter()
            answer = client.detect_moderation_labels(Image={"Bytes": body}, **extra)
            times[who].append(time.perf_counter() - begun)
            answers[who] = {x["Name"] for x in answer["ModerationLabels"] if x["TaxonomyLevel"] == 1}
        for who, shown in answers.items():
            for category in CATEGORIES:
                truth, said = category in labels, category in shown
                counts[(who, category, "tp")] += truth and said
                counts[(who, category, "fp")] += said and not truth
                counts[(who, category, "fn")] += truth and not said
        if not name.startswith("openclipart/") and name != DRESSED[0]:
            changed_photos += answers["adapter"] != answers["base"]
    return {
        "training": training,
        "train_images": len(train),
        "held_images": len(held),
        "counts": counts,
        "times": times,
        "changed_photos": changed_photos,
        "photos": sum(1 for n, _ in held if not n.startswith("openclipart/") and n != DRESSED[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "moderation_adapters.md"
    )
    args = parser.parse_args()
    photos = fetch(eval_data_dir(), progress=lambda _m: None)
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        client = Client(data_dir=scratch)
        for seed in range(args.seeds):
            runs.append(run_once(client, Path(scratch), photos, seed))
            print(f"seed {seed}: trained in {runs[-1]['training']:.1f} s", file=sys.stderr)
    total = {key: sum(r["counts"][key] for r in runs) for key in runs[0]["counts"]}

    def cell(who: str, category: str) -> str:
        tp, fp, fn = (total[(who, category, k)] for k in ("tp", "fp", "fn"))
        return f"{tp}/{tp + fn} found, {fp} false"

    times = {who: [t for r in runs for t in r["times"][who]] for who in ("adapter", "base")}
    base_ms = statistics.median(times["base"]) * 1000
    adapter_ms = statistics.median(times["adapter"]) * 1000
    lines = [
        "# Content-moderation adapters: held-out answers against the base model",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, 2 cores; "
        f"{args.seeds} random draws; reproduce: `python bench/moderation_adapters.py --seeds {args.seeds}`.",
        f"Each draw: {runs[0]['train_images']} training images, {runs[0]['held_images']} held out "
        "(never in the training manifest; they are the TEST dataset). Answers are the top-level labels "
        "of DetectModerationLabels at the default MinConfidence 50; the adapter's ConfidenceThreshold is 50.",
        "",
        "## Held-out images, all draws together",
        "",
        "| category | held-out images showing it (per draw) | base model | adapter |",
        "|---|---|---|---|",
    ]
    shown = {"Alcohol": len(ALCOHOL) - round(len(ALCOHOL) * 2 / 3), SWIMWEAR: 0}
    shown["Violence"] = len(WEAPONS) - round(len(WEAPONS) * 2 / 3)
    for category in CATEGORIES:
        lines.append(
            f"| {category} | {shown[category]} | {cell('base', category)} | {cell('adapter', category)} |"
        )
    changed = sum(r["changed_photos"] for r in runs)
    photos_held = sum(r["photos"] for r in runs)
    lines += [
        "",
        "Swimwear or Underwear: no held-out image shows it; the false positive is face-api/sample2.jpg "
        "(held out in every draw), which the adapter learns from the other party photos, labelled safe.",
        f"Held-out safe photos other than sample2 whose top-level answer the adapter changed: {changed} of {photos_held}.",
        "",
        "## Time",
        "",
        "| what | value |",
        "|---|---|",
        f"| training, CreateProjectVersion to TRAINING_COMPLETED (mean) | {statistics.mean(r['training'] for r in runs):.1f} s |",
        f"| DetectModerationLabels, base model, median | {base_ms:.0f} ms |",
        f"| DetectModerationLabels with ProjectVersion, median | {adapter_ms:.0f} ms ({adapter_ms / base_ms:.2f}x) |",
        "",
        "Training reads every training and test image once through the base moderation models "
        "and twice (the image and its mirror) through EfficientNet-Lite0; the adapter's extra inference is one "
        "EfficientNet-Lite0 pass and a matrix product.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
