"""StartTextDetection's work: DetectText on frames sampled from the video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.jobs.rates import job_frames
from openrek.jobs.store import Job
from openrek.operations.text import TEXT_MODEL_VERSION, text_detections
from openrek.video.decode import probe

if TYPE_CHECKING:
    from openrek.services import Services


def detect_text_in_video(services: Services, job: Job) -> dict[str, Any]:
    request = job.request
    filters = request.get("Filters") or {}
    found: list[dict[str, Any]] = []
    with services.video_jobs.locator.local_path(request["Video"]) as path:
        metadata = probe(path)
        for frame in job_frames(services, job, path):
            found += [
                {"Timestamp": frame.timestamp_millis, "TextDetection": detection}
                for detection in text_detections(frame.rgb, filters, services)
            ]
    return {
        "VideoMetadata": metadata.as_aws(),
        "TextDetections": found,
        "TextModelVersion": TEXT_MODEL_VERSION,
    }
