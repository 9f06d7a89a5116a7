"""StartContentModeration's work: DetectModerationLabels' models on frames sampled from the video.

Each sampled frame's labels are kept; GetContentModeration aggregates them by
TIMESTAMPS or SEGMENTS when asked, as GetLabelDetection does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.inference.moderation.taxonomy import MODEL_VERSION
from openrek.jobs.rates import frames_per_second, results_per_frame
from openrek.jobs.store import Job
from openrek.operations.moderation import DEFAULT_MIN_CONFIDENCE, content_types, moderation_labels
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services


def moderate_video(services: Services, job: Job) -> dict[str, Any]:
    min_confidence = float(job.request.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))

    def labels_of(frame: SampledFrame) -> list[dict[str, Any]]:
        evidence = services.moderator.evidence(frame.rgb)
        # ContentTypes describe the whole frame (a drawing, an animation): every
        # label of the frame carries them, as each detection of AWS's answer does.
        kinds = content_types(evidence, min_confidence)
        return [
            {"Timestamp": frame.timestamp_millis, "ModerationLabel": label, "ContentTypes": kinds}
            for label in moderation_labels(evidence, min_confidence)
        ]

    metadata, found = results_per_frame(services, job, labels_of)
    return {
        "VideoMetadata": metadata,
        "ModerationLabels": found,
        "ModerationModelVersion": MODEL_VERSION,
        # What SEGMENTS needs to know how long a frame's label stands for.
        "FrameIntervalMillis": round(1000 / frames_per_second(services, job.api)),
    }
