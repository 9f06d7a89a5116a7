"""The HTTP front: AWS JSON 1.1 over `POST /`, as Rekognition's endpoint speaks it."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openrek.operations import HANDLERS
from openrek.protocol.auth import verify_sigv4
from openrek.protocol.dispatch import Dispatcher
from openrek.protocol.errors import (
    RekognitionError,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from openrek.protocol.service_model import TARGET_PREFIX, to_wire
from openrek.services import Services

log = logging.getLogger("openrek")

# A 5 MiB image is about 7 MiB once base64-encoded and CompareFaces carries two;
# anything larger is refused while it is being read, before it is held in memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
CONTENT_TYPE = "application/x-amz-json-1.1"


async def _read_body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ValidationException(
                f"Request body exceeds the limit of {MAX_BODY_BYTES} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise SerializationException("Request body is not valid JSON") from None


def _error_response(error: RekognitionError, request_id: str) -> Response:
    return Response(
        json.dumps(error.body(request_id)).encode(),
        status_code=error.status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code},
    )


def create_app(services: Services) -> Starlette:
    settings = services.settings
    dispatcher = Dispatcher(HANDLERS, services)
    executor = ThreadPoolExecutor(settings.inference_workers, thread_name_prefix="openrek-op")

    async def rekognition(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            body = await _read_body(request)
            if settings.access_keys:
                verify_sigv4(
                    request.method,
                    request.scope["raw_path"].decode("latin-1"),
                    request.url.query,
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    settings.access_keys,
                )
            target = request.headers.get("x-amz-target", "")
            if not target.startswith(TARGET_PREFIX):
                raise UnknownOperationException(f"Operation {target!r} is not recognised.")
            payload = _decode_json(body)
            loop = asyncio.get_running_loop()
            # Decoding, validation and inference block: keep them off the event loop.
            result = await loop.run_in_executor(
                executor, dispatcher.call, target[len(TARGET_PREFIX):], payload
            )
            return Response(
                to_wire(result),
                media_type=CONTENT_TYPE,
                headers={"x-amzn-RequestId": request_id},
            )
        except RekognitionError as error:
            return _error_response(error, request_id)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    return Starlette(
        routes=[Route("/", rekognition, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )
