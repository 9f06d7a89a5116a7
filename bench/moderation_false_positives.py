"""DetectModerationLabels on safe photos: false positives, and speed against open_nsfw alone.

Every photo under `.cache/eval-data/` (faces, group photos, animals, food, text, streets,
paintings; fetched by `python tools/eval_data.py`) is safe for work, so any moderation
label at MinConfidence 50 is a false positive. We have no unsafe photos and fetch none:
recall is not measured here (tests/test_detect_moderation_labels.py checks the mapping on
given model outputs instead).

- false positives: photos with at least one label at 50, with the default models and
  with the opt-in NudeNet detector when it is installed; the highest confidence each
  label reaches on any photo (how close the safe set comes to the threshold);
  ContentTypes "Illustrated" per photo.
- speed: the DetectModerationLabels handler in-process (decode, open_nsfw, nsfwjs,
  taxonomy) against the peer, the raw open_nsfw ONNX model run directly with its
  reference preprocessing (decode, resize, JPEG round trip, crop, one session run).
  Both get the file bytes; passes are interleaved photo by photo in shuffled order.

Run: OPENREK_THREADS=1 python bench/moderation_false_positives.py   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PIL import Image

from openrek.config import Settings
from openrek.imaging.decode import decode_image
from openrek.inference.moderation.moderator import Moderator, build_moderator, open_nsfw_input
from openrek.inference.session import open_session
from openrek.models.store import ModelStore
from openrek.operations.moderation import detect_moderation_labels
from openrek.protocol.errors import RekognitionError

if TYPE_CHECKING:
    from openrek.services import Services  # the handlers' type, which the stand-ins below fill in part

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
DEFAULT_OUT = REPO / "bench" / "results" / "moderation_false_positives.md"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
THRESHOLD = 50.0


class HandlerServices:
    """What the handler uses from Services: image loading and one analyser."""

    def __init__(self, moderator: Moderator) -> None:
        self.moderator = moderator

    def load_image(self, image: dict[str, Any]) -> Any:
        return decode_image(image["Bytes"])


def false_positives(photos: dict[str, bytes], services: HandlerServices) -> dict[str, Any]:
    flagged: dict[str, list[str]] = {}
    label_max: dict[str, tuple[float, str]] = {}
    illustrated: dict[str, float] = {}
    for name, data in photos.items():
        response = detect_moderation_labels(
            {"Image": {"Bytes": data}, "MinConfidence": 0}, cast("Services", services)
        )
        for label in response["ModerationLabels"]:
            if label["Confidence"] > label_max.get(label["Name"], (-1.0, ""))[0]:
                label_max[label["Name"]] = (label["Confidence"], name)
            if label["Confidence"] >= THRESHOLD:
                flagged.setdefault(name, []).append(f"{label['Name']} {label['Confidence']:.1f}")
        for content in response["ContentTypes"]:
            if content["Confidence"] >= THRESHOLD:
                illustrated[name] = content["Confidence"]
    return {"flagged": flagged, "label_max": label_max, "illustrated": illustrated}


def single_models(photos: dict[str, bytes], moderator: Moderator) -> dict[str, list[str]]:
    """What each model alone would flag, to show what combining them buys."""
    rules: dict[str, list[str]] = {
        "nsfwjs alone: its top class is Porn, Hentai or Sexy": [],
        "nsfwjs alone: Porn + Hentai >= 0.5": [],
        "open_nsfw alone: P(NSFW) >= 0.5": [],
        "average instead of pool: (Porn + Hentai + P(NSFW)) / 2 >= 0.5": [],
    }
    names = list(rules)
    for name, data in photos.items():
        evidence = moderator.evidence(decode_image(data).rgb)
        p = evidence.nsfwjs
        if max(p, key=p.__getitem__) in ("Porn", "Hentai", "Sexy"):
            rules[names[0]].append(name)
        if p["Porn"] + p["Hentai"] >= 0.5:
            rules[names[1]].append(name)
        if evidence.open_nsfw >= 0.5:
            rules[names[2]].append(name)
        if (p["Porn"] + p["Hentai"] + evidence.open_nsfw) / 2 >= 0.5:
            rules[names[3]].append(name)
    return rules


def latencies(
    photos: dict[str, bytes], runs: dict[str, Callable[[bytes], object]], repeats: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for data in photos.values():  # untimed warm-up
        for run in runs.values():
            run(data)
    order = list(photos.items())
    for _ in range(repeats):
        random.shuffle(order)
        for _, data in order:
            systems = list(runs.items())
            random.shuffle(systems)
            for name, run in systems:
                start = time.perf_counter()
                run(data)
                times[name].append(time.perf_counter() - start)
    return times


def report(
    photos: dict[str, bytes],
    results: dict[str, dict[str, Any]],
    times: dict[str, list[float]],
    settings: Settings,
    repeats: int,
    singles: dict[str, list[str]],
) -> str:
    count = len(photos)
    lines = [
        "# DetectModerationLabels on safe photos",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, intra-op threads {settings.runtime.intra_op_threads or 'auto'}; "
        f"{count} photos from `.cache/eval-data/` (all safe for work). "
        "Reproduce: `OPENREK_THREADS=1 python bench/moderation_false_positives.py`.",
        "",
        "## False positives at MinConfidence 50",
        "",
        "| models | photos with any label | rate | photos with ContentTypes Illustrated |",
        "|---|---|---|---|",
    ]
    for setup, found in results.items():
        flagged = len(found["flagged"])
        lines.append(
            f"| {setup} | {flagged} / {count} | {flagged / count:.1%} | {len(found['illustrated'])} / {count} |"
        )
    lines += [
        "",
        "Single-model rules on the same photos (what the pooled mapping avoids):",
        "",
        "| rule | photos flagged | which |",
        "|---|---|---|",
    ]
    for rule, flagged_by in singles.items():
        lines.append(f"| {rule} | {len(flagged_by)} / {count} | {', '.join(flagged_by) or '-'} |")
    for setup, found in results.items():
        lines += [
            "",
            f"### {setup}",
            "",
            "| label | highest confidence on a safe photo | photo |",
            "|---|---|---|",
        ]
        for label, (confidence, photo) in sorted(found["label_max"].items(), key=lambda item: -item[1][0]):
            lines.append(f"| {label} | {confidence:.1f} | {photo} |")
        lines += [
            "",
            "Flagged at 50: "
            + (
                ", ".join(
                    f"{photo} ({'; '.join(labels)})" for photo, labels in sorted(found["flagged"].items())
                )
                or "none"
            )
            + ".",
        ]
        lines += [
            "",
            "Illustrated at 50: "
            + (", ".join(f"{photo} ({c:.1f})" for photo, c in sorted(found["illustrated"].items())) or "none")
            + ".",
        ]
    p50 = {name: statistics.median(values) for name, values in times.items()}
    peer = p50["open_nsfw alone (peer)"]
    lines += [
        "",
        "## Latency",
        "",
        f"p50 over {count} photos x {repeats} interleaved passes, file bytes in, labels out.",
        "",
        "| system | p50 ms | p90 ms | ratio to peer p50 |",
        "|---|---|---|---|",
    ]
    for name, values in times.items():
        p90 = float(np.percentile(values, 90))
        lines.append(f"| {name} | {p50[name] * 1000:.1f} | {p90 * 1000:.1f} | {p50[name] / peer:.2f}x |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    random.seed(0)
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    photos, refused = {}, []
    for path in sorted(args.data.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            try:  # Rekognition's own limits (80 px a side...) refuse a few eval images
                decode_image(path.read_bytes())
            except RekognitionError:
                refused.append(str(path.relative_to(args.data)))
                continue
            photos[str(path.relative_to(args.data))] = path.read_bytes()
    with_nudenet = build_moderator(store, settings.runtime)
    default = replace_nudenet(with_nudenet, None)
    results = {"default (open_nsfw + nsfwjs)": false_positives(photos, HandlerServices(default))}
    if with_nudenet.nudenet is not None:
        results["with opt-in NudeNet"] = false_positives(photos, HandlerServices(with_nudenet))

    peer_session = open_session(store.path("moderation-open-nsfw"), settings.runtime)
    peer_input = peer_session.input_names[0]

    def peer(data: bytes) -> float:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        return float(peer_session.run({peer_input: open_nsfw_input(rgb)})[0][0, 1])

    runs: dict[str, Callable[[bytes], object]] = {
        "open_nsfw alone (peer)": peer,
        "DetectModerationLabels (default)": lambda data: detect_moderation_labels(
            {"Image": {"Bytes": data}}, cast("Services", HandlerServices(default))
        ),
    }
    if with_nudenet.nudenet is not None:
        runs["DetectModerationLabels (with NudeNet)"] = lambda data: detect_moderation_labels(
            {"Image": {"Bytes": data}}, cast("Services", HandlerServices(with_nudenet))
        )
    times = latencies(photos, runs, args.repeats)
    text = report(photos, results, times, settings, args.repeats, single_models(photos, default))
    text += f"\nNot counted (refused by DetectModerationLabels's image limits, as AWS does): {', '.join(refused) or 'none'}.\n"
    args.out.write_text(text)
    print(text)
    return 0


def replace_nudenet(moderator: Moderator, nudenet: Any) -> Moderator:
    return Moderator(
        moderator.open_nsfw, moderator.nsfwjs, nudenet, moderator.nudenet_classes if nudenet else None
    )


if __name__ == "__main__":
    sys.exit(main())
