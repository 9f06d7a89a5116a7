"""CreateFaceLivenessSession and GetFaceLivenessSessionResults (liveness/service.py)."""

from __future__ import annotations

from typing import Any

from openrek.services import Services


def create_face_liveness_session(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return services.liveness.create(params)


def get_face_liveness_session_results(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return services.liveness.results(params["SessionId"])


HANDLERS = {
    "CreateFaceLivenessSession": create_face_liveness_session,
    "GetFaceLivenessSessionResults": get_face_liveness_session_results,
}
