"""Person tracking: identity stability and speed (StartPersonTracking at its default rate).

1. Known paths. No ground truth for the PETS09-S2L1 scene is carried by any registry
   package (motmetrics' wheel has TUD boxes without their frames), so a clip is built
   whose paths are known: the empty scene (the per-pixel median of vtest.avi's frames,
   which removes the walkers) with real walkers cut out of vtest.avi (NanoDet's most
   confident person boxes, padded) moved along straight paths that cross, at walking
   speeds, entering and leaving the frame; nearer walkers are drawn over farther ones.
   The ground-truth box of a walker is where its cut-out is drawn. MOTA, IDF1, ID
   switches and fragmentations come from motmetrics (IoU at least 0.5 to match).
   Caveat: each cut-out carries a little of its own background, and the detector that
   chose the cut-outs is the one tracked, so this measures the tracker's identity
   keeping more than the detector's recall.
2. The real clip, vtest.avi whole (79.5 s), re-encoded to H.264: with no ground truth,
   what can be counted is reported: tracks, their lengths, people per frame.
3. Speed at 720p: vtest.avi re-encoded at 1280x720; the job in-process through
   `openrek.Client` (Start until SUCCEEDED) against the bare loop on the same sampled
   frames (detector + tracker; and detector + tracker + face analysis, which the job
   also runs).

    pip install --no-deps -r bench/requirements.txt   # motmetrics
    python bench/person_tracking.py
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek import Client
from openrek.config import Settings
from openrek.jobs.person_tracking import MAX_FACES_PER_FRAME
from openrek.jobs.person_tracks import PersonTracks
from openrek.jobs.rates import DEFAULT_FRAMES_PER_SECOND
from openrek.operations.face_detail import needs_for, requested_attributes
from openrek.services import Services
from openrek.video.decode import probe, sample
from tests.video.reencode import h264_excerpt
from tools.eval_data import eval_data_dir

CLIP = "opencv-doc/vtest.avi"
RATE = DEFAULT_FRAMES_PER_SECOND["StartPersonTracking"]
SYNTHETIC_SECONDS = 40
SYNTHETIC_FPS = 10


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as reader:
        return [frame.to_ndarray(format="rgb24") for frame in reader.decode(video=0)]


@dataclass
class Walker:
    sprite: np.ndarray
    start: tuple[float, float]  # top-left at its first frame
    velocity: tuple[float, float]  # pixels per frame
    first: int  # first frame it is drawn in
    last: int


def cut_outs(services: Services, frames: list[np.ndarray], count: int) -> list[np.ndarray]:
    """The `count` most confident people of frames spread over the clip, at most one a
    frame, each box padded by 3 pixels."""
    detector = services.person_detector
    found = []
    for number in range(0, len(frames), 25):
        people = detector.detect(frames[number])
        tall = [(s, b) for s, b in zip(people.scores, people.boxes, strict=True) if b[3] - b[1] >= 70]
        if tall:
            score, box = max(tall, key=lambda pair: float(pair[0]))
            found.append((float(score), number, box))
    found.sort(key=lambda item: -item[0])
    sprites = []
    for _, number, box in found[:count]:
        x1, y1, x2, y2 = (int(v) for v in np.round(box))
        x1, y1, x2, y2 = max(0, x1 - 3), max(0, y1 - 3), min(767, x2 + 3), min(575, y2 + 3)
        sprites.append(frames[number][y1:y2, x1:x2].copy())
    return sprites


def synthetic_walk(
    services: Services, frames: list[np.ndarray], out: Path
) -> dict[int, list[tuple[int, np.ndarray]]]:
    """Writes the known-paths clip; returns frame -> [(walker id, x1 y1 x2 y2 box)]."""
    background = np.median(np.stack(frames[::20]), axis=0).astype(np.uint8)
    height, width = background.shape[:2]
    sprites = cut_outs(services, frames, 8)
    rng = np.random.default_rng(7)
    total = SYNTHETIC_SECONDS * SYNTHETIC_FPS
    walkers = []
    for number, sprite in enumerate(sprites * 2):  # each cut-out walks twice, at other times
        h, w = sprite.shape[:2]
        left_to_right = number % 2 == 0
        speed = rng.uniform(4, 9) * (1 if left_to_right else -1)  # 40-90 px a second
        y = rng.uniform(180, height - h - 40)
        x = -w if left_to_right else width
        first = int(rng.uniform(0, total - 120))
        frames_needed = int((width + w) / abs(speed))
        walkers.append(Walker(sprite, (x, y), (speed, rng.uniform(-0.6, 0.6)), first, first + frames_needed))
    truth: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    with av.open(str(out), "w") as writer:
        stream = writer.add_stream("libx264", rate=Fraction(SYNTHETIC_FPS))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame_number in range(total):
            picture = background.copy()
            placed = []
            for walker_id, walker in enumerate(walkers):
                if not walker.first <= frame_number < walker.last:
                    continue
                step = frame_number - walker.first
                x = walker.start[0] + walker.velocity[0] * step
                y = walker.start[1] + walker.velocity[1] * step
                placed.append((y + walker.sprite.shape[0], walker_id, x, y, walker.sprite))
            for _, walker_id, x, y, sprite in sorted(placed, key=lambda p: p[0]):  # far first
                h, w = sprite.shape[:2]
                x0, y0 = round(x), round(y)
                cx1, cy1, cx2, cy2 = max(0, x0), max(0, y0), min(width, x0 + w), min(height, y0 + h)
                if cx2 - cx1 < 8 or cy2 - cy1 < 8:
                    continue
                picture[cy1:cy2, cx1:cx2] = sprite[cy1 - y0 : cy2 - y0, cx1 - x0 : cx2 - x0]
                truth[frame_number].append((walker_id, np.array([cx1, cy1, cx2, cy2], np.float32)))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                writer.mux(packet)
        for packet in stream.encode():
            writer.mux(packet)
    return truth


def run_job(client: Client, name: str) -> tuple[float, dict[str, Any]]:
    began = time.perf_counter()
    job_id = client.start_person_tracking(Video={"S3Object": {"Bucket": "clips", "Name": name}})["JobId"]
    while client.get_person_tracking(JobId=job_id, MaxResults=1)["JobStatus"] == "IN_PROGRESS":
        time.sleep(0.05)
    took = time.perf_counter() - began
    persons: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = client.get_person_tracking(JobId=job_id, **token)
        assert page["JobStatus"] == "SUCCEEDED", page.get("StatusMessage")
        persons += page["Persons"]
        if "NextToken" not in page:
            return took, {"VideoMetadata": page["VideoMetadata"], "Persons": persons}
        token = {"NextToken": page["NextToken"]}


def pixel_box(box: dict[str, float], width: int, height: int) -> np.ndarray:
    return np.array(
        [
            box["Left"] * width,
            box["Top"] * height,
            (box["Left"] + box["Width"]) * width,
            (box["Top"] + box["Height"]) * height,
        ],
        np.float32,
    )


def iou_distances(truth: list[np.ndarray], found: list[np.ndarray]) -> np.ndarray:
    """1 - IoU of each pair, NaN (no match allowed) under IoU 0.5: motmetrics' convention.
    (motmetrics 1.4.0's own iou_matrix calls np.asfarray, gone in NumPy 2.)"""
    a = np.array(truth, np.float32).reshape(-1, 1, 4)
    b = np.array(found, np.float32).reshape(1, -1, 4)
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = width * height
    areas = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (
        b[..., 3] - b[..., 1]
    )
    iou = inter / np.maximum(areas - inter, 1e-9)
    return np.where(iou >= 0.5, 1 - iou, np.nan)


def identity_scores(
    truth: dict[int, list[tuple[int, np.ndarray]]], result: dict[str, Any]
) -> dict[str, float]:
    import motmetrics as mm

    meta = result["VideoMetadata"]
    width, height = meta["FrameWidth"], meta["FrameHeight"]
    by_stamp: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    for person in result["Persons"]:
        by_stamp[person["Timestamp"]].append(
            (person["Person"]["Index"], pixel_box(person["Person"]["BoundingBox"], width, height))
        )
    accumulator = mm.MOTAccumulator(auto_id=True)
    sampled = 0
    for number in range(SYNTHETIC_SECONDS * SYNTHETIC_FPS):
        stamp = round(number * 1000 / SYNTHETIC_FPS)
        if number % round(SYNTHETIC_FPS / RATE):
            continue  # not a sampled frame
        sampled += 1
        gt = truth.get(number, [])
        hyp = by_stamp.get(stamp, [])

        distances = iou_distances([b for _, b in gt], [b for _, b in hyp])
        accumulator.update([i for i, _ in gt], [i for i, _ in hyp], distances)
    summary = mm.metrics.create().compute(
        accumulator,
        metrics=[
            "mota",
            "idf1",
            "num_switches",
            "num_fragmentations",
            "recall",
            "precision",
            "num_unique_objects",
        ],
        name="walk",
    )
    row = summary.loc["walk"]
    return {key: float(row[key]) for key in summary.columns} | {
        "tracks": float(len({p["Person"]["Index"] for p in result["Persons"]})),
        "sampled": float(sampled),
    }


def track_stats(result: dict[str, Any]) -> dict[str, float]:
    stamps: dict[int, list[int]] = defaultdict(list)
    per_frame: dict[int, int] = defaultdict(int)
    for person in result["Persons"]:
        stamps[person["Person"]["Index"]].append(person["Timestamp"])
        per_frame[person["Timestamp"]] += 1
    durations = np.array([(max(s) - min(s)) / 1000 + 1 / RATE for s in stamps.values()])
    return {
        "tracks": float(len(stamps)),
        "median_s": float(np.median(durations)),
        "short": float((durations < 2).sum()),
        "long": float((durations >= 10).sum()),
        "people_mean": float(np.mean(list(per_frame.values()))),
        "people_max": float(max(per_frame.values())),
    }


def bare_loop(services: Services, path: Path, with_faces: bool) -> float:
    detector = services.person_detector
    needs = needs_for(requested_attributes(None))
    began = time.perf_counter()
    tracks = PersonTracks(RATE)
    for frame in sample(path, RATE):
        found = detector.detect(frame.rgb)
        if tracks.update(found.boxes, found.scores) and with_faces:
            services.faces.analyze(frame.rgb, needs, MAX_FACES_PER_FRAME)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "person_tracking.md")
    args = parser.parse_args()
    source = eval_data_dir() / CLIP
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        bucket = data / "s3" / "clips"
        bucket.mkdir(parents=True)
        services = Services.start(Settings.from_env(data_dir=data))
        client = Client(data_dir=data)
        frames = frames_of(source)

        truth = synthetic_walk(services, frames, bucket / "known_paths.mp4")
        _, known = run_job(client, "known_paths.mp4")
        scores = identity_scores(truth, known)
        print("known paths", scores, flush=True)

        h264_excerpt(source, bucket / "vtest.mp4")
        _, real = run_job(client, "vtest.mp4")
        stats = track_stats(real)
        print("vtest", stats, flush=True)

        h264_excerpt(source, bucket / "vtest_720p.mp4", size=(1280, 720))
        seconds = probe(bucket / "vtest_720p.mp4").duration_millis / 1000
        took, _ = run_job(client, "vtest_720p.mp4")
        bare = bare_loop(services, bucket / "vtest_720p.mp4", with_faces=False)
        bare_faces = bare_loop(services, bucket / "vtest_720p.mp4", with_faces=True)
        print("speed", seconds, took, bare, bare_faces, flush=True)
        client.close()
        services.close()
    minutes = SYNTHETIC_SECONDS / 60
    lines = [
        "# Person tracking (`bench/person_tracking.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores. "
        f"StartPersonTracking at its default {RATE:g} frames a second, in-process, one job at a time. "
        f"Load average at the end: {os.getloadavg()[0]:.1f} (other work shared the 2 cores: speed "
        "figures are upper bounds).",
        "",
        "## Identity on known paths (synthetic clip, exact ground truth)",
        "",
        f"{SYNTHETIC_SECONDS} s at 768x576, {int(scores['num_unique_objects'])} walks by real walkers "
        "cut out of vtest.avi over the empty scene, crossing each other; scored on the "
        f"{int(scores['sampled'])} sampled frames, IoU at least 0.5.",
        "",
        "| MOTA | IDF1 | ID switches | per minute | fragmentations | recall | precision | tracks / walks |",
        "|---|---|---|---|---|---|---|---|",
        f"| {scores['mota']:.3f} | {scores['idf1']:.3f} | {int(scores['num_switches'])} | "
        f"{scores['num_switches'] / minutes:.1f} | {int(scores['num_fragmentations'])} | "
        f"{scores['recall']:.3f} | {scores['precision']:.3f} | "
        f"{int(scores['tracks'])} / {int(scores['num_unique_objects'])} |",
        "",
        "## The real pedestrians clip (vtest.avi, 79.5 s, no ground truth)",
        "",
        "| tracks | median track s | tracks under 2 s | tracks of 10 s or more | people per sampled frame (mean / max) |",
        "|---|---|---|---|---|",
        f"| {int(stats['tracks'])} | {stats['median_s']:.1f} | {int(stats['short'])} | {int(stats['long'])} | "
        f"{stats['people_mean']:.1f} / {int(stats['people_max'])} |",
        "",
        "## Speed at 720p (vtest.avi re-encoded at 1280x720)",
        "",
        "| video s | job s per video s | bare detector+tracker | bare + faces | job / bare+faces |",
        "|---|---|---|---|---|",
        f"| {seconds:.1f} | {took / seconds:.2f} | {bare / seconds:.2f} | {bare_faces / seconds:.2f} | "
        f"{took / bare_faces:.2f} |",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
