"""The capture page's endpoints, beside the API on the same port (docs/liveness.md):

    GET  /liveness/sessions/{SessionId}/challenge  -> the challenge to run
    POST /liveness/sessions/{SessionId}/frames     -> the capture; answers the status

Both go through the server's one door (app.py's `answer`): with access keys
configured, nothing answers without a valid SigV4 signature (service `rekognition`,
the server's region), exactly as for the API itself. Errors are AWS-shaped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openrek.liveness.service import Liveness
from openrek.protocol.errors import (
    InternalServerError,
    InvalidParameterException,
    RekognitionError,
    SerializationException,
)
from openrek.protocol.headers import WireHeaders
from openrek.protocol.responses import uncached_json_response

log = logging.getLogger("openrek")

T = TypeVar("T")
Responder = Callable[[Request, WireHeaders, bytes, str], Awaitable[Response]]
# app.py's door: signature checks, body read, AWS-shaped errors.
Answer = Callable[[Request, Responder], Awaitable[Response]]
# Runs blocking work on the server's worker threads.
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]

_SESSION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _session_id(request: Request) -> str:
    session_id = str(request.path_params["session_id"])
    if not _SESSION_ID.fullmatch(session_id):
        raise InvalidParameterException("SessionId must be a lowercase UUID (36 characters)")
    return session_id


def _guarded(work: Callable[[], T]) -> Callable[[], T]:
    """Never a traceback on the wire: an unexpected failure is logged and answered 500."""

    def run() -> T:
        try:
            return work()
        except RekognitionError:
            raise
        except Exception:
            log.exception("liveness request failed")
            raise InternalServerError("Internal server error") from None

    return run


def liveness_routes(
    liveness: Callable[[], Liveness], answer: Answer, run_blocking: RunBlocking
) -> list[Route]:
    async def challenge(request: Request, _headers: WireHeaders, _body: bytes, request_id: str) -> Response:
        session_id = _session_id(request)
        found = await run_blocking(_guarded(lambda: liveness().challenge(session_id)))
        return uncached_json_response(found, request_id)

    async def frames(request: Request, _headers: WireHeaders, body: bytes, request_id: str) -> Response:
        session_id = _session_id(request)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise SerializationException("Request body is not valid JSON") from None
        status = await run_blocking(_guarded(lambda: liveness().submit(session_id, payload)))
        return uncached_json_response(status, request_id)

    async def get_challenge(request: Request) -> Response:
        return await answer(request, challenge)

    async def post_frames(request: Request) -> Response:
        return await answer(request, frames)

    return [
        Route("/liveness/sessions/{session_id}/challenge", get_challenge, methods=["GET"]),
        Route("/liveness/sessions/{session_id}/frames", post_frames, methods=["POST"]),
    ]
