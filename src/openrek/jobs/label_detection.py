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
    labels: list[dict[str, Any]], interval_millis: int, duration_millis: int
) -> list[dict[str, Any]]:
    """Consecutive sampled frames showing the same label, as one segment each: from the
    first frame's time to one sampling interval past the last (within the video). The
    segment's Label is the most confident sighting's, without per-frame Instances."""
    open_segments: dict[str, dict[str, Any]] = {}
    segments: list[dict[str, Any]] = []
    for sighting in sorted(labels, key=lambda s: s["Timestamp"]):
        name, stamp = sighting["Label"]["Name"], sighting["Timestamp"]
        current = open_segments.get(name)
        if current is not None and stamp - current["last"] <= interval_millis:
            current["last"] = stamp
            if sighting["Label"]["Confidence"] > current["label"]["Confidence"]:
                current["label"] = sighting["Label"]
            continue
        current = {"first": stamp, "last": stamp, "label": sighting["Label"]}
        open_segments[name] = current
        segments.append(current)
    result = []
    for segment in segments:
        end = min(segment["last"] + interval_millis, max(duration_millis, segment["last"]))
        label = {k: v for k, v in segment["label"].items() if k != "Instances"}
        result.append(
            {
                "Timestamp": segment["first"],
                "Label": label,
                "StartTimestampMillis": segment["first"],
                "EndTimestampMillis": end,
                "DurationMillis": end - segment["first"],
            }
        )
    return sorted(result, key=lambda s: (s["Timestamp"], s["Label"]["Name"]))
