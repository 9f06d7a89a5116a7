"""StartSegmentDetection's request as the job reads it, and GetSegmentDetection's
per-page metadata.

The service model already refuses what it can state (SegmentTypes missing, empty or
unknown; confidences outside 50..100; BlackFrame values out of range), so Start has
nothing more to refuse. A filter for a segment type that was not asked for is ignored.
"""

from __future__ import annotations

from typing import Any

from openrek.jobs.segment_detection import requested_types
from openrek.services import Services


def segment_request_checked(params: dict[str, Any]) -> dict[str, Any]:
    """The request with SegmentTypes each once, in the order first asked."""
    return {**params, "SegmentTypes": requested_types(params)}


def with_stream_metadata(response: dict[str, Any], services: Services) -> dict[str, Any]:
    """AudioMetadata and SelectedSegmentTypes on every page, as AWS returns them, once
    the job has results."""
    if "VideoMetadata" in response:
        results = services.video_jobs.store.results(response["JobId"])
        response["AudioMetadata"] = results["AudioMetadata"]
        response["SelectedSegmentTypes"] = results["SelectedSegmentTypes"]
    return response
