"""DetectLabels: label precision on photos of known content, and latency against the
raw object detector it builds on, side by side in one process.

- Precision: every photo of `tests/data/label_truth.json` is labelled with the
  defaults (MinConfidence 55); a returned label is correct when the photo's truth
  lists it or one of its descendants (a parent of a true label is true). Key recall:
  the share of the labels a user would search each photo by that come back.
- Latency: DetectLabels (the operation handler in-process: decode, classifier, object
  detector, face detector, merging, response shaping) against the raw COCO object
  detector alone (`ObjectDetector.detect` on the decoded photo), each photo in turn,
  the two interleaved photo by photo in shuffled order so that other load on the
  machine lands on both. One untimed warm-up pass first. Reported: p50 of each and the
  ratio of the p50s.

Run: OPENREK_THREADS=1 python bench/detect_labels.py   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from openrek.config import Settings
from openrek.imaging.decode import decode_image
from openrek.inference.labels.labeler import build_labeler
from openrek.inference.labels.objects import build_object_detector
from openrek.inference.labels.people import face_describer
from openrek.models.store import ModelStore
from openrek.operations.labels import detect_labels
from openrek.services import build_face_analyzer

if TYPE_CHECKING:
    from openrek.services import Services  # the handlers' type, which the stand-ins below fill in part

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
TRUTH = REPO / "tests" / "data" / "label_truth.json"
DEFAULT_OUT = REPO / "bench" / "results" / "detect_labels.md"


class InProcess:
    """Just enough of Services for the DetectLabels handler."""

    def __init__(self, labeler: Any) -> None:
        self.labeler = labeler

    def load_image(self, image: dict[str, Any]) -> Any:
        return decode_image(image["Bytes"])


def precision(services: InProcess, data: Path, truth: dict[str, Any]) -> dict[str, Any]:
    taxonomy = services.labeler.taxonomy
    returned = correct = keys = keys_found = 0
    held = {"returned": 0, "correct": 0, "keys": 0, "keys_found": 0, "photos": 0}
    rows = []
    for name, expected in sorted(truth.items(), key=lambda item: (item[1].get("held_out", False), item[0])):
        allowed = set(expected["present"]) | set(expected["key"])
        allowed |= {
            a for label in list(allowed) if label in taxonomy.ancestors for a in taxonomy.ancestors[label]
        }
        response = detect_labels({"Image": {"Bytes": (data / name).read_bytes()}}, cast("Services", services))
        names = [label["Name"] for label in response["Labels"]]
        wrong = sorted(set(names) - allowed)
        missed = sorted(set(expected["key"]) - set(names))
        returned += len(names)
        correct += len(set(names) & allowed)
        keys += len(expected["key"])
        keys_found += len(set(expected["key"]) & set(names))
        top = ", ".join(f"{label['Name']} {label['Confidence']:.0f}" for label in response["Labels"][:6])
        rows.append((name, top, wrong, missed))
        if expected.get("held_out"):
            held["returned"] += len(names)
            held["correct"] += len(set(names) & allowed)
            held["keys"] += len(expected["key"])
            held["keys_found"] += len(set(expected["key"]) & set(names))
            held["photos"] += 1
    return {
        "returned": returned,
        "correct": correct,
        "keys": keys,
        "keys_found": keys_found,
        "rows": rows,
        "held_out": held,
    }


def latency(
    services: InProcess, detector: Any, data: Path, names: list[str], passes: int
) -> dict[str, list[float]]:
    blobs = {name: (data / name).read_bytes() for name in names}
    timings: dict[str, list[float]] = {"DetectLabels": [], "object detector": []}

    def run_labels(blob: bytes) -> None:
        detect_labels({"Image": {"Bytes": blob}}, cast("Services", services))

    def run_detector(blob: bytes) -> None:
        detector.detect(decode_image(blob).rgb, min_score=0.2)

    systems = {"DetectLabels": run_labels, "object detector": run_detector}
    for blob in blobs.values():  # warm-up, untimed
        for run in systems.values():
            run(blob)
    order = random.Random(4)
    for _ in range(passes):
        shuffled = list(names)
        order.shuffle(shuffled)
        for name in shuffled:
            pair = list(systems.items())
            order.shuffle(pair)
            for system, run in pair:
                start = time.perf_counter()
                run(blobs[name])
                timings[system].append(time.perf_counter() - start)
    return timings


def report(result: dict[str, Any], timings: dict[str, list[float]], photos: int, passes: int) -> str:
    p50 = {system: statistics.median(values) * 1000 for system, values in timings.items()}
    held = result["held_out"]
    lines = [
        "# DetectLabels: precision and latency",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"OPENREK_THREADS={os.environ.get('OPENREK_THREADS', 'unset')}. `python bench/detect_labels.py`.",
        "",
        "## Label precision (MinConfidence 55, tests/data/label_truth.json)",
        "",
        f"- precision: {result['correct']}/{result['returned']} returned labels correct "
        f"({result['correct'] / result['returned']:.1%}) over {len(result['rows'])} photos",
        f"- key-label recall: {result['keys_found']}/{result['keys']} "
        f"({result['keys_found'] / result['keys']:.1%})",
        f"- of which held out ({held['photos']} photos written down after tuning, never tuned on): "
        f"precision {held['correct']}/{held['returned']} ({held['correct'] / max(held['returned'], 1):.1%}), "
        f"key labels {held['keys_found']}/{held['keys']} ({held['keys_found'] / max(held['keys'], 1):.1%})",
        "",
        "Held-out photos are listed last.",
        "",
        "| photo | top labels | wrong | key labels missed |",
        "|---|---|---|---|",
    ]
    for name, top, wrong, missed in result["rows"]:
        lines.append(f"| {name} | {top} | {', '.join(wrong)} | {', '.join(missed)} |")
    lines += [
        "",
        f"## Latency ({photos} photos x {passes} passes, interleaved, in one process)",
        "",
        "| system | p50 ms | p90 ms |",
        "|---|---|---|",
    ]
    for system, values in timings.items():
        p90 = sorted(values)[int(0.9 * (len(values) - 1))] * 1000
        lines.append(f"| {system} | {p50[system]:.0f} | {p90:.0f} |")
    ratio = p50["DetectLabels"] / p50["object detector"]
    lines += ["", f"DetectLabels p50 / raw object detector p50 = **{ratio:.2f}x**", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    faces = build_face_analyzer(store, settings)
    # As the server builds it (services.py): faces' age and gender name the people.
    labeler = build_labeler(
        store, settings.runtime, faces.detector.detect, describe_face=face_describer(faces.age_gender)
    )
    services = InProcess(labeler)
    detector = build_object_detector(store, settings.runtime)
    truth = json.loads(TRUTH.read_text())["photos"]
    result = precision(services, args.data, truth)
    timings = latency(services, detector, args.data, sorted(truth), args.passes)
    text = report(result, timings, len(truth), args.passes)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
