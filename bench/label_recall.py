"""DetectLabels recall and precision on hand-labelled registry photos, with latency.

The set is `bench/data/label_photos.json` (fetched by `python tools/eval_data.py
--labels`): each photo lists the labels a person would search it by ("labels": they
must come back) and other labels that are also true ("also": returning them is not an
error). It is split once by SHA-256 into a tuning part and a held-out part; the
held-out part is never used to choose a threshold, a rule or a vocabulary entry.

Every photo is labelled once through the DetectLabels handler in-process at
MinConfidence 0; the thresholds 55 (AWS's default) and 90 are applied to that answer.
Reported per part: median labels per photo, precision (returned labels that are in
"labels" or "also"), recall (required labels returned) and per-label precision and
recall. `--scores` saves every photo's answer at MinConfidence 0, for a look
(tools/fit_labels.py labels the tuning part itself).

Latency: each photo's DetectLabels (decode, models, merging, shaping) and the bare COCO
object detector on the decoded photo, interleaved photo by photo so that other load on
the machine lands on both; one untimed warm-up photo first.

Run: OPENREK_THREADS=1 python bench/label_recall.py --tag after --before bench/results/label_recall_before.json \
    --round1 bench/results/label_recall_round1.json --round2 bench/results/label_recall_round2_completed.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from openrek.services import Services  # the handlers' type, which the stand-ins below fill in part

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "bench" / "data" / "label_photos.json"
RESULTS = REPO / "bench" / "results"
THRESHOLDS = (55.0, 90.0)


def load_set() -> dict[str, dict[str, Any]]:
    photos: dict[str, dict[str, Any]] = json.loads(SET.read_text())["photos"]
    return photos


def as_jpeg_or_png(path: Path) -> bytes:
    """The photo's bytes; the GCompris WebP photos re-encoded losslessly as PNG, as a
    caller has to (Rekognition takes JPEG and PNG only)."""
    data = path.read_bytes()
    if path.suffix.lower() != ".webp":
        return data
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, "PNG")
    return out.getvalue()


def label_all(
    data: Path, photos: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Every photo's labels at MinConfidence 0, and the per-photo timings."""
    from openrek.config import Settings
    from openrek.imaging.decode import decode_image
    from openrek.inference.labels.labeler import build_labeler
    from openrek.inference.labels.objects import build_object_detector
    from openrek.inference.labels.people import face_describer
    from openrek.models.store import ModelStore
    from openrek.operations.labels import detect_labels
    from openrek.services import build_face_analyzer

    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    faces = build_face_analyzer(store, settings)

    class InProcess:  # just enough of Services for the handler
        labeler = build_labeler(
            store, settings.runtime, faces.detector.detect, describe_face=face_describer(faces.age_gender)
        )

        def load_image(self, image: dict[str, Any]) -> Any:
            return decode_image(image["Bytes"])

    services = InProcess()
    detector = build_object_detector(store, settings.runtime)
    answers: dict[str, dict[str, float]] = {}
    timings: dict[str, list[float]] = {"DetectLabels": [], "object detector": []}
    names = sorted(photos)
    warm = as_jpeg_or_png(data / names[0])
    detect_labels({"Image": {"Bytes": warm}, "MinConfidence": 0}, cast("Services", services))
    detector.detect(decode_image(warm).rgb, min_score=0.2)
    for index, name in enumerate(names):
        blob = as_jpeg_or_png(data / name)
        # Alternate which runs first, so that neither always finds the caches warm.
        for system in ("DetectLabels", "object detector")[:: 1 if index % 2 else -1]:
            start = time.perf_counter()
            if system == "DetectLabels":
                response = detect_labels(
                    {"Image": {"Bytes": blob}, "MinConfidence": 0}, cast("Services", services)
                )
            else:
                detector.detect(decode_image(blob).rgb, min_score=0.2)
            timings[system].append(time.perf_counter() - start)
        answers[name] = {label["Name"]: label["Confidence"] for label in response["Labels"]}
    return answers, timings


def measure(
    answers: dict[str, dict[str, float]], photos: dict[str, dict[str, Any]], split: str, threshold: float
) -> dict[str, Any]:
    counts: list[int] = []
    returned = correct = required = found = 0
    per_label: dict[str, Counter[str]] = {}
    for name, photo in photos.items():
        if photo["split"] != split:
            continue
        wanted, also = set(photo["labels"]), set(photo["also"])
        got = {label for label, confidence in answers[name].items() if confidence >= threshold}
        counts.append(len(got))
        returned += len(got)
        correct += len(got & (wanted | also))
        required += len(wanted)
        found += len(got & wanted)
        for label in got | wanted:
            tally = per_label.setdefault(label, Counter())
            tally["returned"] += label in got
            tally["right"] += label in got and label in wanted | also
            tally["wanted"] += label in wanted
            tally["found"] += label in got and label in wanted
    return {
        "photos": len(counts),
        "median_labels": statistics.median(counts) if counts else 0,
        "returned": returned,
        "correct": correct,
        "precision": correct / returned if returned else 1.0,
        "required": required,
        "found": found,
        "recall": found / required if required else 0.0,
        "per_label": {label: dict(tally) for label, tally in sorted(per_label.items())},
    }


def summary(
    answers: dict[str, dict[str, float]], photos: dict[str, dict[str, Any]], timings: dict[str, Any]
) -> dict[str, Any]:
    p50 = {system: statistics.median(values) * 1000 for system, values in timings.items()}
    return {
        "measures": {
            f"{split} {threshold:.0f}": measure(answers, photos, split, threshold)
            for split in ("held-out", "tuning")
            for threshold in THRESHOLDS
        },
        "p50_ms": p50,
        "ratio": p50["DetectLabels"] / p50["object detector"],
    }


def _row(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {m['photos']} | {m['median_labels']:.1f} | {m['correct']}/{m['returned']} "
        f"({m['precision']:.1%}) | {m['found']}/{m['required']} ({m['recall']:.1%}) |"
    )


def report(
    tag: str,
    result: dict[str, Any],
    before: dict[str, Any] | None,
    round1: dict[str, Any] | None = None,
    round2: dict[str, Any] | None = None,
) -> str:
    lines = [
        f"# DetectLabels recall and precision ({tag})",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"OPENREK_THREADS={os.environ.get('OPENREK_THREADS', 'unset')}. `python bench/label_recall.py`; "
        "set: bench/data/label_photos.json.",
        "",
        "| run, part, MinConfidence | photos | median labels | precision | recall |",
        "|---|---|---|---|---|",
    ]
    for key in result["measures"]:
        if before is not None:
            lines.append(_row(f"before, {key}", before["measures"][key]))
        if round1 is not None:
            lines.append(_row(f"round 1, {key}", round1["measures"][key]))
        if round2 is not None:
            lines.append(_row(f"round 2, {key}", round2["measures"][key]))
        lines.append(_row(f"{tag}, {key}", result["measures"][key]))
    lines += ["", "## Latency (every photo once, interleaved with the bare object detector)", ""]
    lines += ["| run | DetectLabels p50 ms | object detector p50 ms | ratio |", "|---|---|---|---|"]
    for name, run in (("before", before), ("round 1", round1), ("round 2", round2), (tag, result)):
        if run is not None:
            p50 = run["p50_ms"]
            lines.append(
                f"| {name} | {p50['DetectLabels']:.0f} | {p50['object detector']:.0f} | {run['ratio']:.2f}x |"
            )
    lines += ["", "## Per label, held-out part, MinConfidence 55", ""]
    lines += [
        "| label | returned | right | precision | wanted | found | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, t in result["measures"]["held-out 55"]["per_label"].items():
        precision = f"{t['right'] / t['returned']:.0%}" if t["returned"] else "-"
        recall = f"{t['found'] / t['wanted']:.0%}" if t["wanted"] else "-"
        lines.append(
            f"| {label} | {t['returned']} | {t['right']} | {precision} | {t['wanted']} | {t['found']} | {recall} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
    )
    parser.add_argument("--tag", default="after")
    parser.add_argument("--before", type=Path, help="the JSON of an earlier run, shown side by side")
    parser.add_argument("--round1", type=Path, help="the JSON of issue 15's first round, shown too")
    parser.add_argument("--round2", type=Path, help="the JSON of issue 15's second round, shown too")
    parser.add_argument("--scores", type=Path, help="save every photo's labels at MinConfidence 0 here")
    args = parser.parse_args()
    photos = load_set()
    answers, timings = label_all(args.data, photos)
    result = summary(answers, photos, timings)
    if args.scores:
        args.scores.write_text(json.dumps(answers, indent=0, sort_keys=True))
    (RESULTS / f"label_recall_{args.tag}.json").write_text(json.dumps(result, indent=1) + "\n")
    before = json.loads(args.before.read_text()) if args.before else None
    round1 = json.loads(args.round1.read_text()) if args.round1 else None
    round2 = json.loads(args.round2.read_text()) if args.round2 else None
    text = report(args.tag, result, before, round1, round2)
    (RESULTS / f"label_recall_{args.tag}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
