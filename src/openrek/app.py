"""The HTTP front: AWS JSON 1.1 over `POST /`, as Rekognition's endpoint speaks it."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from openrek.console import CONSOLE_PATH, console_routes
from openrek.heap import QuietTrim
from openrek.liveness.http import liveness_routes
from openrek.operations import HANDLERS
from openrek.protocol.dispatch import Dispatcher
from openrek.protocol.errors import (
    RekognitionError,
    RequestTimeoutException,
    SerializationException,
    ThrottlingException,
    UnknownOperationException,
    ValidationException,
)
from openrek.protocol.headers import WireHeaders
from openrek.protocol.request_signature import signed_headers_of
from openrek.protocol.responses import CONTENT_TYPE, error_response
from openrek.protocol.service_model import TARGET_PREFIX, to_wire
from openrek.services import Services

log = logging.getLogger("openrek")

# A 5 MiB image is about 7 MiB once base64-encoded and CompareFaces carries two;
# anything larger is refused while it is being read, before it is held in memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
API_HINT = "Rekognition's API is POST / with an X-Amz-Target header"


# What answers a request once its signature holds: (request, headers, body, request id).
Responder = Callable[[Request, WireHeaders, bytes, str], Awaitable[Response]]


class NotFound(UnknownOperationException):
    status = 404


async def _read_body(request: Request, timeout_s: float) -> bytes:
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ValidationException(f"Request body exceeds the limit of {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeoutException(
            f"The request body was not received within {timeout_s:.0f} seconds"
        ) from None
    return b"".join(chunks)


def _decode_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise SerializationException("Request body is not valid JSON") from None


def _operation(headers: WireHeaders) -> str:
    targets = headers.get_all("x-amz-target")
    if len(targets) > 1:
        # Read as SigV4 joins it this would name no operation anyway; say why.
        raise UnknownOperationException("X-Amz-Target must be sent exactly once.")
    target = targets[0] if targets else ""
    if not target.startswith(TARGET_PREFIX):
        raise UnknownOperationException(f"Operation {target!r} is not recognised.")
    return target[len(TARGET_PREFIX) :]


def create_app(services: Services) -> Starlette:
    settings = services.settings
    dispatcher = Dispatcher(HANDLERS, services)
    executor = ThreadPoolExecutor(settings.inference_workers, thread_name_prefix="openrek-op")
    # Requests waiting for or holding a worker; beyond the bound a client is told to
    # back off (as AWS does) rather than queued without end.
    max_pending = settings.inference_workers + settings.max_queued_requests
    pending = 0
    quiet = QuietTrim(executor)

    async def answer(request: Request, respond: Responder) -> Response:
        request_id = str(uuid.uuid4())
        try:
            # Signature checks and dispatch read this one view of the headers.
            headers = WireHeaders.from_asgi(request.scope["headers"])
            signed = signed_headers_of(request, headers, settings)
            body = await _read_body(request, settings.body_timeout_s)
            if signed is not None:
                signed.verify(body)
            return await respond(request, headers, body, request_id)
        except RekognitionError as error:
            return error_response(error, request_id)
        except ClientDisconnect:
            log.info("client went away before sending the whole request (%s)", request_id)
            return Response(status_code=400)

    async def run_operation(
        _request: Request, headers: WireHeaders, body: bytes, request_id: str
    ) -> Response:
        nonlocal pending
        operation = _operation(headers)
        payload = _decode_json(body)
        if pending >= max_pending:
            raise ThrottlingException("Rate exceeded")
        quiet.cancel()
        pending += 1
        try:
            # Decoding, validation and inference block: keep them off the event loop.
            result = await asyncio.get_running_loop().run_in_executor(
                executor, dispatcher.call, operation, payload
            )
        finally:
            pending -= 1
            if pending == 0:
                quiet.start(asyncio.get_running_loop())
        return Response(to_wire(result), media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})

    async def run_blocking(work: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor, work)

    async def say_healthy(_request: Request, _headers: WireHeaders, _body: bytes, _id: str) -> Response:
        return JSONResponse({"status": "ok"})

    async def nothing_here(request: Request, _headers: WireHeaders, _body: bytes, _id: str) -> Response:
        raise NotFound(f"No operation at {request.method} {request.url.path}; {API_HINT}.")

    async def rekognition(request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            # A browser opened the endpoint: show it the console (no data in a redirect).
            return RedirectResponse(CONSOLE_PATH, status_code=302)
        if request.method != "POST":
            return await answer(request, nothing_here)
        return await answer(request, run_operation)

    async def health(request: Request) -> Response:
        return await answer(request, say_healthy)

    async def anything_else(request: Request, _error: Exception | None = None) -> Response:
        return await answer(request, nothing_here)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=False, cancel_futures=True)
        # Running video jobs stop between two frames; they re-run at the next start.
        services.close()

    return Starlette(
        routes=[
            Route("/", rekognition, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
            Route("/health", health, methods=["GET", "HEAD"]),
            *console_routes(settings),
            # Face Liveness's capture endpoints (liveness/http.py), behind the same signature check.
            *liveness_routes(lambda: services.liveness, answer, run_blocking),
        ],
        # Every other path and method (TRACE, made-up ones) gets the same AWS-shaped
        # answer, after the same signature check, never Starlette's plain text.
        exception_handlers={404: anything_else, 405: anything_else},
        lifespan=lifespan,
    )
