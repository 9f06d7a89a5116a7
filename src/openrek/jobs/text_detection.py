"""StartTextDetection's work: DetectText on frames sampled from the video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.jobs.rates import results_per_frame
from openrek.jobs.store import Job
from openrek.operations.text import TEXT_MODEL_VERSION, text_detections
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services


def detect_text_in_video(services: Services, job: Job) -> dict[str, Any]:
    filters = job.request.get("Filters") or {}

    def text_of(frame: SampledFrame) -> list[dict[str, Any]]:
        return [
            {"Timestamp": frame.timestamp_millis, "TextDetection": detection}
            for detection in text_detections(frame.rgb, filters, services)
        ]

    metadata, found = results_per_frame(services, job, text_of)
    return {"VideoMetadata": metadata, "TextDetections": found, "TextModelVersion": TEXT_MODEL_VERSION}
