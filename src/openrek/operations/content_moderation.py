"""StartContentModeration / GetContentModeration: DetectModerationLabels on a stored video."""

from __future__ import annotations

from typing import Any

from openrek.operations.video import get_labelled_job, start_job
from openrek.protocol.dispatch import Handler
from openrek.services import Services

API = "StartContentModeration"


def start_content_moderation(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return start_job(API, params, services)


def get_content_moderation(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return get_labelled_job(API, "ModerationLabels", "ModerationLabel", params, services)


HANDLERS: dict[str, Handler[Services]] = {
    "StartContentModeration": start_content_moderation,
    "GetContentModeration": get_content_moderation,
}
