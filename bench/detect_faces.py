"""DetectFaces, side by side: openrek against the `face_recognition` library (dlib).

One run measures both systems on the same real photos (`.cache/eval-data/`, fetched by
`python tools/eval_data.py`) and scores them against the same hand labels
(`tests/data/face_labels.json`):

- the peer: `face_recognition.face_locations(img, model="hog")` then
  `face_recognition.face_landmarks(img, locations)` (dlib HOG detector + 68 points);
- openrek in-process: `openrek.Client(...).detect_faces(Image={"Bytes": ...})`, with the
  DEFAULT attributes and with `Attributes=["ALL"]`;
- openrek through a real `openrek serve` on loopback, called with boto3, both ways again;
  its overhead over in-process and its resident memory after the ALL pass;
- with `--baseline-src OTHER_CHECKOUT/src`, a second server running that checkout's code,
  DEFAULT, in the same interleaved rounds: before and after a change, on one machine state.

Two groups of photos, scored and timed apart: the stored photos as they are (most are
large: 1-5 Mpx), and "VGA many-face" copies of every labelled photo with 3 or more faces,
scaled so the longer side is 640 px and saved as JPEG (quality 90), labels scaled alike.
Small photos with many faces are where the per-face work weighs most against the peer,
whose cost follows the pixel count.

Every system is handed the encoded file bytes, so decoding is inside every timing: that is
the work a caller actually waits for. Passes are sequential (one image at a time), each
system gets one untimed warm-up pass, and the timed passes of all systems are interleaved
photo by photo so that load from anything else on the machine is spread over all of them
rather than landing on one.

Run: python bench/detect_faces.py   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

# bench/ is sys.path[0] when this runs as `python bench/detect_faces.py`.
from served import Server, descendants, running_server, tree_status_kib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from tools.face_labels import iou

DEFAULT_DATA = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
DEFAULT_LABELS = REPO / "tests" / "data" / "face_labels.json"
DEFAULT_OUT = REPO / "bench" / "results" / "detect_faces.md"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Targets from the project brief; printed beside the measurements so a miss is visible.
OVERHEAD_TARGET = 0.20
RSS_TARGET_BYTES = 1 << 30

# Row names in the report.
PEER = "face_recognition HOG + 68 landmarks"
INPROC_DEFAULT = "openrek in-process DEFAULT"
INPROC_ALL = "openrek in-process ALL"
SERVER_DEFAULT = "openrek server (boto3) DEFAULT"
SERVER_ALL = "openrek server (boto3) ALL"
BASELINE_DEFAULT = "baseline server (boto3) DEFAULT"
# The small many-face group: copies of labelled photos with at least this many faces,
# longer side scaled to VGA's 640 px.
VGA_PREFIX = "vga:"
VGA_SIDE = 640
VGA_MIN_FACES = 3

# (x1, y1, x2, y2) in pixels of the stored (un-rotated) image.
Box = tuple[float, float, float, float]
Detector = Callable[["Photo"], list[Box]]


@dataclass(frozen=True)
class Photo:
    key: str  # "<folder>/<file>", the key used by the labels file
    data: bytes
    width: int
    height: int


@dataclass
class Run:
    """Timed passes of one system over all photos."""

    name: str
    detect: Detector
    # Seconds, by photo key, one entry per timed pass.
    per_photo: dict[str, list[float]] = field(default_factory=dict)
    # Detections from the first timed pass, by photo key, for the accuracy score.
    boxes: dict[str, list[Box]] = field(default_factory=dict)
    # CPU seconds, by photo key, one entry per timed pass: this process's (all its
    # threads) plus, for a server, the server process tree's. On a machine others load,
    # wall time swells with their work; CPU time mostly counts the system's own.
    cpu_per_photo: dict[str, list[float]] = field(default_factory=dict)
    # The server's process id, whose CPU time counts too.
    server_pid: int | None = None

    def typical_cpu(self, key: str) -> float:
        return float(np.median(self.cpu_per_photo[key]))

    @property
    def latencies(self) -> list[float]:
        return [t for times in self.per_photo.values() for t in times]

    def typical(self, key: str) -> float:
        """A photo's median latency over the passes: one slow outlier pass does not count."""
        return float(np.median(self.per_photo[key]))

    def p(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000.0

    @property
    def images_per_second(self) -> float:
        return len(self.latencies) / sum(self.latencies)

    @property
    def mean_ms(self) -> float:
        return sum(self.latencies) / len(self.latencies) * 1000.0


@dataclass
class Score:
    labels: int = 0
    matched: int = 0
    false_positives: int = 0
    ious: list[float] = field(default_factory=list)  # of matched pairs
    per_photo: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # labels, hit, fp

    @property
    def recall(self) -> float:
        return self.matched / self.labels if self.labels else float("nan")


# --------------------------------------------------------------------------- photos, labels


def load_photos(root: Path) -> list[Photo]:
    photos = []
    for path in sorted(root.glob("*/*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        data = path.read_bytes()
        # Size of the pixels as stored: boxes from both systems and the labels are in
        # that frame (none of these photos carries a rotating EXIF orientation).
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
        photos.append(Photo(f"{path.parent.name}/{path.name}", data, width, height))
    if not photos:
        sys.exit(f"no photos under {root}: run `python tools/eval_data.py` first")
    return photos


def vga_copies(
    photos: Sequence[Photo], labels: dict[str, list[Box]]
) -> tuple[list[Photo], dict[str, list[Box]]]:
    """VGA copies of the labelled photos with VGA_MIN_FACES faces or more, and their labels."""
    copies, copy_labels = [], {}
    for photo in photos:
        boxes = labels.get(photo.key, [])
        if len(boxes) < VGA_MIN_FACES:
            continue
        scale = VGA_SIDE / max(photo.width, photo.height)
        with Image.open(io.BytesIO(photo.data)) as im:
            small = im.convert("RGB").resize(
                (round(photo.width * scale), round(photo.height * scale)), Image.Resampling.LANCZOS
            )
        out = io.BytesIO()
        small.save(out, "JPEG", quality=90)
        key = VGA_PREFIX + photo.key
        copies.append(Photo(key, out.getvalue(), small.width, small.height))
        copy_labels[key] = [(x1 * scale, y1 * scale, x2 * scale, y2 * scale) for x1, y1, x2, y2 in boxes]
    return copies, copy_labels


def load_labels(path: Path) -> dict[str, list[Box]] | None:
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    labels: dict[str, list[Box]] = {}
    for key, faces in raw.items():
        if key.startswith("_"):  # room for a comment / metadata entry in the file
            continue
        boxes = []
        for face in faces:
            x1, y1, x2, y2 = (float(v) for v in face["box"])
            boxes.append((x1, y1, x2, y2))
        labels[key] = boxes
    return labels


# --------------------------------------------------------------------------- scoring


def match(labels: Sequence[Box], found: Sequence[Box], threshold: float) -> list[float]:
    """IoUs of the matched pairs, each label and each detection used at most once.

    Greedy on IoU over all pairs, best first: the peer gives no scores to order
    detections by, so both systems are matched the same score-free way.
    """
    pairs = sorted(
        ((iou(lab, det), li, di) for li, lab in enumerate(labels) for di, det in enumerate(found)),
        reverse=True,
    )
    used_l: set[int] = set()
    used_d: set[int] = set()
    matched = []
    for overlap, li, di in pairs:
        if overlap < threshold:
            break
        if li not in used_l and di not in used_d:
            used_l.add(li)
            used_d.add(di)
            matched.append(overlap)
    return matched


def score(run: Run, labels: dict[str, list[Box]], threshold: float) -> Score:
    result = Score()
    for key, truth in labels.items():
        if key not in run.boxes:
            continue  # a labelled photo that is not in the data folder
        found = run.boxes[key]
        ious = match(truth, found, threshold)
        hit = len(ious)
        result.ious += ious
        fp = len(found) - hit
        result.labels += len(truth)
        result.matched += hit
        result.false_positives += fp
        result.per_photo[key] = (len(truth), hit, fp)
    return result


# --------------------------------------------------------------------------- systems


def peer_detector() -> Detector:
    import face_recognition

    def detect(photo: Photo) -> list[Box]:
        # load_image_file is the peer's own door for pixels (PIL decode -> RGB array).
        img = face_recognition.load_image_file(io.BytesIO(photo.data))
        locations = face_recognition.face_locations(img, model="hog")
        # Landmarks are part of the measured work: DetectFaces returns landmarks too.
        face_recognition.face_landmarks(img, locations)
        return [
            (float(left), float(top), float(right), float(bottom)) for top, right, bottom, left in locations
        ]

    return detect


def rekognition_boxes(response: dict[str, Any], photo: Photo) -> list[Box]:
    boxes = []
    for face in response.get("FaceDetails", []):
        bb = face["BoundingBox"]
        x1 = bb["Left"] * photo.width
        y1 = bb["Top"] * photo.height
        boxes.append((x1, y1, x1 + bb["Width"] * photo.width, y1 + bb["Height"] * photo.height))
    return boxes


def rekognition_detector(call: Callable[..., dict[str, Any]], attributes: list[str]) -> Detector:
    def detect(photo: Photo) -> list[Box]:
        kwargs: dict[str, Any] = {"Image": {"Bytes": photo.data}}
        if attributes:
            kwargs["Attributes"] = attributes
        return rekognition_boxes(call(**kwargs), photo)

    return detect


def boto3_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        # No retries: a failure must surface, not hide inside a slower timing.
        config=Config(retries={"total_max_attempts": 1}, read_timeout=300, connect_timeout=10),
    )


# --------------------------------------------------------------------------- timing


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants, from /proc."""
    ticks = 0
    for each in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(run: Run) -> float:
    return time.process_time() + (tree_cpu_seconds(run.server_pid) if run.server_pid else 0.0)


def timed_call(run: Run, photo: Photo) -> tuple[float, float, list[Box]]:
    """Wall seconds, CPU seconds and the detections of one call."""
    cpu = cpu_seconds(run)
    start = time.perf_counter()
    boxes = run.detect(photo)
    elapsed = time.perf_counter() - start
    return elapsed, cpu_seconds(run) - cpu, boxes


def measure(runs: Sequence[Run], photos: Sequence[Photo], repeats: int, settle: float, seed: int) -> None:
    for run in runs:
        print(f"  warm-up pass: {run.name}", flush=True)
        for photo in photos:
            timed_call(run, photo)
    # Interleaved photo by photo: every system meets the same photo within a second or
    # two of the others, so a burst of load from elsewhere on the machine lands on all
    # of them instead of on whichever pass happened to be running. The order of the
    # systems is shuffled for each photo: a fixed order bills whoever runs right after a
    # switch between processes (cold caches, pool threads asleep) for that switch.
    order = random.Random(seed)
    for round_no in range(repeats):
        print(f"  timed round {round_no + 1}/{repeats}", flush=True)
        for photo in photos:
            for run in order.sample(list(runs), len(runs)):
                # onnxruntime's pool threads spin-wait for a moment after a run; without a
                # pause they would still be burning a core when the next system (in this
                # process or in the server) starts, and bill it for their spin.
                time.sleep(settle)
                elapsed, cpu, boxes = timed_call(run, photo)
                run.per_photo.setdefault(photo.key, []).append(elapsed)
                run.cpu_per_photo.setdefault(photo.key, []).append(cpu)
                if round_no == 0:
                    run.boxes[photo.key] = boxes


# --------------------------------------------------------------------------- report


def shown(path: Path) -> str:
    """A path as the report shows it: relative to the repo when inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def fmt_pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 100:.1f}%"


def overhead(inproc: Run, server: Run, per_photo: Callable[[list[float]], float]) -> float:
    """Server over in-process latency on total time, paired photo by photo.

    Each photo contributes one latency per system (`per_photo` of its timed passes), so
    both sides sum the same photos; a pooled p50 is a single photo's latency and jumps
    when a different photo lands in the middle.
    """
    keys = [k for k in inproc.per_photo if k in server.per_photo]
    a = sum(per_photo(inproc.per_photo[k]) for k in keys)
    b = sum(per_photo(server.per_photo[k]) for k in keys)
    return (b - a) / a


# Issue 15: DetectFaces end to end over HTTP at least 3x the peer, on small many-face
# photos and on large ones alike.
SPEED_TARGET = 3.0


def is_vga(key: str) -> bool:
    return key.startswith(VGA_PREFIX)


GROUPS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("VGA many-face", is_vga),
    ("stored photos", lambda key: not is_vga(key)),
)


def group_speed_ratio(
    run: Run, peer: Run, in_group: Callable[[str], bool], cpu: bool = False
) -> float | None:
    """Peer time over `run` time, summed over the group's photos (median pass of each);
    wall time, or with `cpu` CPU time (a server's included)."""
    keys = [k for k in run.per_photo if in_group(k) and k in peer.per_photo]
    if not keys:
        return None
    if cpu:
        return sum(peer.typical_cpu(k) for k in keys) / sum(run.typical_cpu(k) for k in keys)
    return sum(peer.typical(k) for k in keys) / sum(run.typical(k) for k in keys)


def summary_rows(
    runs: Sequence[Run], scores: dict[str, Score] | None, extra: dict[str, Any]
) -> list[tuple[str, str, str]]:
    by_name = {r.name: r for r in runs}
    rows: list[tuple[str, str, str]] = []
    peer = by_name.get(PEER)
    for name in (INPROC_DEFAULT, INPROC_ALL):
        if peer and name in by_name:
            ratio = by_name[name].images_per_second / peer.images_per_second
            rows.append((f"speed, images/s: {name} / peer", f"{ratio:.2f}x", ""))
    if peer:
        for group, in_group in GROUPS:
            for name in (SERVER_DEFAULT, BASELINE_DEFAULT, INPROC_DEFAULT):
                if name not in by_name:
                    continue
                wall_ratio = group_speed_ratio(by_name[name], peer, in_group)
                cpu_ratio = group_speed_ratio(by_name[name], peer, in_group, cpu=True)
                if wall_ratio is None or cpu_ratio is None:
                    continue
                target = f">= {SPEED_TARGET:.0f}x: {'met' if wall_ratio >= SPEED_TARGET else 'MISSED'}"
                rows.append(
                    (
                        f"speed, {group}: {name} / peer (total wall time; CPU time), medians per photo",
                        f"{wall_ratio:.2f}x ({cpu_ratio:.2f}x)",
                        target if name == SERVER_DEFAULT else "",
                    )
                )
    if scores and peer and INPROC_DEFAULT in scores:
        rows.append(
            (
                "recall: openrek / peer",
                f"{fmt_pct(scores[INPROC_DEFAULT].recall)} / {fmt_pct(scores[PEER].recall)}",
                "",
            )
        )
    pairs = (("DEFAULT", INPROC_DEFAULT, SERVER_DEFAULT), ("ALL", INPROC_ALL, SERVER_ALL))
    for mode, inproc, server in pairs:
        if inproc in by_name and server in by_name:
            # Best of the passes per photo is the least disturbed by whatever else runs
            # on the machine (the cost of the work itself); medians are shown beside it.
            best = overhead(by_name[inproc], by_name[server], min)
            median = overhead(by_name[inproc], by_name[server], lambda t: float(np.median(t)))
            ok = "met" if best < OVERHEAD_TARGET else "MISSED"
            rows.append(
                (
                    f"server overhead, {mode} (best of passes; medians)",
                    f"{best * 100:+.1f}% ({median * 100:+.1f}%)",
                    f"< {OVERHEAD_TARGET:.0%}: {ok}",
                )
            )
    if "rss_kib" in extra:
        rss = extra["rss_kib"] * 1024
        ok = "met" if rss < RSS_TARGET_BYTES else "MISSED"
        rows.append(
            (
                "server RSS after the ALL pass (VmRSS; peak VmHWM)",
                f"{rss / 2**20:.0f} MiB ({extra['hwm_kib'] / 1024:.0f} MiB)",
                f"< 1 GiB: {ok}",
            )
        )
    return rows


def render(
    runs: Sequence[Run],
    scores: dict[str, Score] | None,
    extra: dict[str, Any],
    args: argparse.Namespace,
    photos: Sequence[Photo],
) -> str:
    out = ["# DetectFaces: openrek vs face_recognition (dlib HOG + 68 landmarks)", ""]
    out.append(
        f"{len(photos)} photos from `{shown(args.data)}`, decoded inside every timing; "
        f"{args.repeats} timed sequential passes per system after one warm-up pass, "
        f"interleaved; {os.cpu_count()} CPU cores, load average {extra['load'][0]:.1f} "
        f"before and {extra['load'][1]:.1f} after; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC."
    )
    vga = [p for p in photos if is_vga(p.key)]
    if vga:
        out.append(
            f"{len(vga)} of them are the VGA many-face copies (`{VGA_PREFIX}` keys: labelled photos "
            f"with {VGA_MIN_FACES}+ faces, longer side {VGA_SIDE} px, JPEG quality 90)."
        )
    if scores is None:
        out.append("No labels file: recall not scored.")
    else:
        first = next(iter(scores.values()))
        out.append(
            f"Recall over {first.labels} hand-labelled faces in {len(first.per_photo)} photos "
            f"(`{shown(args.labels)}`): a detection matches at IoU >= {args.iou}, each label "
            "once; FP = detections matching no label; IoU = mean over matched pairs."
        )
    out += [
        "",
        "| system | p50 ms | p95 ms | images/s | recall | FP | IoU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        sc = scores.get(run.name) if scores else None
        accuracy = (
            f"{fmt_pct(sc.recall)} | {sc.false_positives} | {np.mean(sc.ious):.2f}"
            if sc and sc.ious
            else "n/a | n/a | n/a"
        )
        out.append(
            f"| {run.name} | {run.p(50):.1f} | {run.p(95):.1f} | {run.images_per_second:.2f} | {accuracy} |"
        )
    rows = summary_rows(runs, scores, extra)
    if rows:
        out += ["", "| measure | value | target |", "|---|---:|---|"]
        out += [f"| {m} | {v} | {t} |" for m, v, t in rows]
    if "agree" in extra:
        out += ["", extra["agree"]]
    names = [r.name for r in runs if r.name in (PEER, INPROC_DEFAULT)]
    if scores and names:
        out += ["", "Per photo: matched / false positives, and median latency in ms.", ""]
        out.append("| photo | labels | " + " | ".join(names) + " |")
        out.append("|---|---:|" + "---:|" * len(names))
        by_name = {r.name: r for r in runs}
        first = scores[names[0]]
        for key in sorted(first.per_photo):
            cells = []
            for name in names:
                _, hit, fp = scores[name].per_photo[key]
                cells.append(f"{hit} / {fp}, {by_name[name].typical(key) * 1000:.0f} ms")
            out.append(f"| {key} | {first.per_photo[key][0]} | " + " | ".join(cells) + " |")
    out += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in extra.get("versions", {}).items())]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def versions(with_openrek: bool) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["face_recognition", "dlib-bin", "face-recognition-models", "onnxruntime", "boto3"]
    if with_openrek:
        names.insert(0, "openrek")
    found = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="eval photos folder")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown result file")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per system")
    ap.add_argument(
        "--settle",
        type=float,
        default=0.05,
        help="idle seconds before each timed call (lets spinning threads stop)",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the per-photo system order")
    ap.add_argument("--iou", type=float, default=0.4, help="IoU for a detection to match")
    ap.add_argument("--all-photos", action="store_true", help="time unlabelled photos too (not scored)")
    ap.add_argument("--no-peer", action="store_true", help="skip face_recognition")
    ap.add_argument("--no-openrek", action="store_true", help="peer only (openrek not ready)")
    ap.add_argument("--no-server", action="store_true", help="skip the openrek serve part")
    ap.add_argument("--server-start-timeout", type=float, default=180.0)
    ap.add_argument("--no-vga", action="store_true", help="skip the VGA many-face copies")
    ap.add_argument("--only-vga", action="store_true", help="time and score the VGA many-face copies only")
    ap.add_argument(
        "--baseline-src", type=Path, help="another checkout's src/ served side by side (DEFAULT only)"
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    photos = load_photos(args.data)
    labels = load_labels(args.labels)
    if labels is None:
        print(f"warning: {args.labels} not found; recall will not be scored", file=sys.stderr)
    elif not args.all_photos:
        # Speed and recall over the same photos; the data folder also grows with photos
        # for other operations (expressions, video), which would shift the speed mix.
        missing = sorted(set(labels) - {p.key for p in photos})
        if missing:
            print(f"warning: labelled but not in {args.data}: {missing}", file=sys.stderr)
        photos = [p for p in photos if p.key in labels]
    if labels is not None and not args.no_vga:
        copies, copy_labels = vga_copies(photos, labels)
        if args.only_vga:
            photos, labels = copies, copy_labels
        else:
            photos += copies
            labels.update(copy_labels)
    runs: list[Run] = []
    extra: dict[str, Any] = {"versions": versions(not args.no_openrek)}
    load_before = os.getloadavg()[0]
    if not args.no_peer:
        runs.append(Run(PEER, peer_detector()))

    with (
        tempfile.TemporaryDirectory(prefix="openrek-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        server: Server | None = None
        if not args.no_openrek:
            import openrek

            client = openrek.Client(data_dir=Path(tmp) / "inproc")
            runs.append(Run(INPROC_DEFAULT, rekognition_detector(client.detect_faces, [])))
            runs.append(Run(INPROC_ALL, rekognition_detector(client.detect_faces, ["ALL"])))
            if not args.no_server:
                print("starting openrek serve ...", flush=True)
                server = stack.enter_context(running_server(Path(tmp) / "server", args.server_start_timeout))
                remote = boto3_client(server.url)
                runs.append(
                    Run(
                        SERVER_DEFAULT,
                        rekognition_detector(remote.detect_faces, []),
                        server_pid=server.process.pid,
                    )
                )
                if args.baseline_src:
                    print(f"starting the baseline server from {args.baseline_src} ...", flush=True)
                    env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
                    (Path(tmp) / "baseline").mkdir()
                    baseline = stack.enter_context(
                        running_server(
                            Path(tmp) / "baseline" / "data",
                            args.server_start_timeout,
                            command=[sys.executable, "-m", "openrek"],
                            env=env,
                        )
                    )
                    old_remote = boto3_client(baseline.url)
                    runs.append(
                        Run(
                            BASELINE_DEFAULT,
                            rekognition_detector(old_remote.detect_faces, []),
                            server_pid=baseline.process.pid,
                        )
                    )
                # Last in each round, so the RSS read after it is "after the ALL pass".
                runs.append(
                    Run(
                        SERVER_ALL,
                        rekognition_detector(remote.detect_faces, ["ALL"]),
                        server_pid=server.process.pid,
                    )
                )
        print(f"{len(photos)} photos, {args.repeats} timed rounds", flush=True)
        try:
            measure(runs, photos, args.repeats, args.settle, args.seed)
        except Exception:
            if server is not None:
                print(f"server log tail:\n{server.log_tail()}", file=sys.stderr)
            raise
        if server is not None:
            extra["rss_kib"] = tree_status_kib(server.process.pid, "VmRSS")
            extra["hwm_kib"] = tree_status_kib(server.process.pid, "VmHWM")

    # Others may share the machine: the load shows how quiet it was for these numbers.
    extra["load"] = (load_before, os.getloadavg()[0])
    by_name = {r.name: r for r in runs}
    if INPROC_DEFAULT in by_name and SERVER_DEFAULT in by_name:
        # Sanity: the server must find what the in-process client finds on every photo.
        a, b = by_name[INPROC_DEFAULT].boxes, by_name[SERVER_DEFAULT].boxes
        same = sum(len(a[k]) == len(b[k]) for k in a)
        extra["agree"] = f"Server and in-process found the same number of faces on {same}/{len(a)} photos."
    scores = {r.name: score(r, labels, args.iou) for r in runs} if labels is not None else None
    report = render(runs, scores, extra, args, photos)
    print()
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"written to {shown(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
