"""Operation handlers: validated request + Services -> Rekognition response dict.

This is the only layer that knows both the models' results and AWS's shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from openrek.operations import (
    celebrities,
    collection_faces,
    collections,
    compare_faces,
    content_moderation,
    custom_labels_projects,
    custom_labels_versions,
    faces,
    labels,
    liveness,
    media_analysis,
    moderation,
    protective_equipment,
    stream_processors,
    tags,
    text,
    users,
    video,
)
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import ResourceNotFoundException
from openrek.services import Services
from openrek.storage.base import CollectionMissing, UserMissing


def _gone_is_not_found(handler: Handler[Services]) -> Handler[Services]:
    """A collection or user deleted by another request while this one runs: 404, not 500."""

    @functools.wraps(handler)
    def run(params: dict[str, Any], services: Services) -> dict[str, Any]:
        try:
            return handler(params, services)
        except CollectionMissing as gone:
            raise ResourceNotFoundException(f"The collection id: {gone} does not exist") from None
        except UserMissing as gone:
            raise ResourceNotFoundException(f"The user id: {gone} does not exist") from None

    return run


HANDLERS: Mapping[str, Handler[Services]] = {
    name: _gone_is_not_found(handler)
    for module in (
        faces,
        collections,
        collection_faces,
        compare_faces,
        users,
        labels,
        text,
        moderation,
        protective_equipment,
        video,
        stream_processors,
        tags,
        content_moderation,
        media_analysis,
        celebrities,
        custom_labels_projects,
        custom_labels_versions,
        liveness,
    )
    for name, handler in module.HANDLERS.items()
}
