"""StartContentModeration / GetContentModeration: DetectModerationLabels on a stored video."""

from __future__ import annotations

from typing import Any

from openrek.jobs.label_detection import label_segments
from openrek.jobs.store import SUCCEEDED
from openrek.operations.video import get_job, start_job
from openrek.protocol.dispatch import Handler
from openrek.services import Services

API = "StartContentModeration"
ITEMS = "ModerationLabels"


def start_content_moderation(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return start_job(API, params, services)


def _segments(results: dict[str, Any]) -> list[dict[str, Any]]:
    duration = int(results["VideoMetadata"]["DurationMillis"])
    interval = int(results["FrameIntervalMillis"])
    return label_segments(results[ITEMS], interval, duration, key="ModerationLabel")


def _by_name(item: dict[str, Any]) -> tuple[str, int]:
    return item["ModerationLabel"]["Name"], item["Timestamp"]


def get_content_moderation(params: dict[str, Any], services: Services) -> dict[str, Any]:
    sort_by = params.get("SortBy", "TIMESTAMP")
    aggregate_by = params.get("AggregateBy", "TIMESTAMPS")
    response = get_job(
        API,
        ITEMS,
        params,
        services,
        order=_by_name if sort_by == "NAME" else None,
        aggregate=_segments if aggregate_by == "SEGMENTS" else None,
    )
    if response["JobStatus"] == SUCCEEDED:  # the answer echoes how it was asked, as AWS's does
        response["GetRequestMetadata"] = {"SortBy": sort_by, "AggregateBy": aggregate_by}
    return response


HANDLERS: dict[str, Handler[Services]] = {
    "StartContentModeration": start_content_moderation,
    "GetContentModeration": get_content_moderation,
}
