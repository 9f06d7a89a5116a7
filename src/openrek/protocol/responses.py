"""AWS JSON 1.1 responses, as every HTTP door of the server (the API, the console's
uploads, the liveness capture endpoints) writes them."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from openrek.protocol.errors import RekognitionError

CONTENT_TYPE = "application/x-amz-json-1.1"


def error_response(error: RekognitionError, request_id: str) -> Response:
    return Response(
        json.dumps(error.body(request_id)).encode(),
        status_code=error.status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code},
    )


def uncached_json_response(value: dict[str, Any], request_id: str) -> Response:
    """A JSON answer that is the state of one moment (a session, an upload): never cached."""
    return Response(
        json.dumps(value, separators=(",", ":")).encode(),
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id, "Cache-Control": "no-store"},
    )
