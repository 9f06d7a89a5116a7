"""StartLabelDetection's work: DetectLabels' general labels on frames sampled from the video.

Results are kept per sampled frame; GetLabelDetection aggregates them (TIMESTAMPS or
SEGMENTS) when it is asked, so one job answers both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.jobs.rates import frames_per_second, results_per_frame
from openrek.jobs.store import Job
from openrek.operations.labels import (
    DEFAULT_MIN_CONFIDENCE,
    LABEL_MODEL_VERSION,
    general_labels,
    label_filter_of,
)
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services


def detect_labels_in_video(services: Services, job: Job) -> dict[str, Any]:
    request = job.request
    label_filter = label_filter_of(request, services)
    min_confidence = float(request.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))

    def labels_of(frame: SampledFrame) -> list[dict[str, Any]]:
        return [
            {"Timestamp": frame.timestamp_millis, "Label": label}
            for label in general_labels(frame.rgb, label_filter, min_confidence, services)
        ]

    metadata, found = results_per_frame(services, job, labels_of)
    return {
        "VideoMetadata": metadata,
        "Labels": found,
        "LabelModelVersion": LABEL_MODEL_VERSION,
        # What SEGMENTS needs to know how long a frame's label stands for.
        "FrameIntervalMillis": round(1000 / frames_per_second(services, job.api)),
    }


def label_segments(
    labels: list[dict[str, Any]], interval_millis: int, duration_millis: int, key: str = "Label"
) -> list[dict[str, Any]]:
    """Consecutive sampled frames showing the same label, as one segment each: from the
    first frame's time to one sampling interval past the last (within the video). The
    segment carries the most confident sighting (its label under `key`, without
    per-frame Instances, and any other member such as moderation's ContentTypes)."""
    open_segments: dict[str, dict[str, Any]] = {}
    segments: list[dict[str, Any]] = []
    for sighting in sorted(labels, key=lambda s: s["Timestamp"]):
        name, stamp = sighting[key]["Name"], sighting["Timestamp"]
        current = open_segments.get(name)
        if current is not None and stamp - current["last"] <= interval_millis:
            current["last"] = stamp
            if sighting[key]["Confidence"] > current["best"][key]["Confidence"]:
                current["best"] = sighting
            continue
        current = {"first": stamp, "last": stamp, "best": sighting}
        open_segments[name] = current
        segments.append(current)
    result = []
    for segment in segments:
        end = min(segment["last"] + interval_millis, max(duration_millis, segment["last"]))
        best = segment["best"]
        label = {k: v for k, v in best[key].items() if k != "Instances"}
        result.append(
            {
                **best,
                "Timestamp": segment["first"],
                key: label,
                "StartTimestampMillis": segment["first"],
                "EndTimestampMillis": end,
                "DurationMillis": end - segment["first"],
            }
        )
    return sorted(result, key=lambda s: (s["Timestamp"], s[key]["Name"]))
