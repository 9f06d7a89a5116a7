"""The console's upload into the local bucket folders (docs/console.md, "Video"):

    PUT /console/uploads/<bucket>/<key...>   body = the object's bytes

openrek reads S3 objects from `<data-dir>/s3/<bucket>/<key>` unless an S3 endpoint is
configured (imaging/source.py); this writes one there, so that a video job can then
be started on `{"Bucket": bucket, "Name": key}`. It answers
`{"Bucket", "Name", "Size"}` as JSON, or an AWS-shaped error.

- With access keys configured it answers nothing without a valid SigV4 signature
  (service `rekognition`, the server's region), checked before a byte of the body is
  read. The body is not held in memory, so the signature covers the declared
  `X-Amz-Content-SHA256` (auth.py `verify_declared_payload`): a hex SHA-256 is checked
  against the streamed body before the object appears; `UNSIGNED-PAYLOAD` is taken as
  S3 takes it, because a browser cannot hash a 2 GiB file without reading it twice.
- The body streams to a temporary file beside the bucket folders, then is renamed into
  place: a reader never sees half an object, and a failed upload leaves nothing.
- With OPENREK_S3_ENDPOINT_URL set the server reads that S3, not these folders: the
  upload is refused, saying where the video belongs.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from openrek.config import Settings
from openrek.protocol.auth import UNSIGNED_PAYLOAD
from openrek.protocol.errors import (
    InternalServerError,
    InvalidParameterException,
    InvalidSignatureException,
    RekognitionError,
    RequestTimeoutException,
)
from openrek.protocol.headers import WireHeaders
from openrek.protocol.request_signature import signed_headers_of
from openrek.protocol.responses import error_response, uncached_json_response

log = logging.getLogger("openrek")

UPLOADS_PATH = "/console/uploads"
# Beside the bucket folders, never inside one: a bucket name cannot start with ".".
_PARTS_FOLDER = ".uploads"
# Writes go to disk in pieces this large, off the event loop.
_WRITE_BYTES = 1024 * 1024
_MAX_KEY_BYTES = 1024  # S3's limit on a key
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class EntityTooLarge(RekognitionError):
    code = "EntityTooLarge"  # S3's code for the same refusal
    status = 413


class LocalUploadsUnavailableException(RekognitionError):
    code = "LocalUploadsUnavailableException"
    status = 409


def check_bucket_name(bucket: str) -> None:
    """S3's general-purpose bucket naming rules: the name is a folder here too."""
    if (
        not _BUCKET.fullmatch(bucket)
        or ".." in bucket
        or ".-" in bucket
        or "-." in bucket
        or bucket.startswith(("xn--", "sthree-"))
        or bucket.endswith(("-s3alias", "--ol-s3"))
        or _looks_like_ip(bucket)
    ):
        raise InvalidParameterException(
            f"The bucket name {bucket!r} is not valid: 3-63 lowercase letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit (S3's bucket naming rules)."
        )


def _looks_like_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def object_path(s3_dir: Path, bucket: str, key: str) -> Path:
    """Where `s3://bucket/key` is written: the file imaging/source.py's
    local_object_path reads for it, and never a path outside the bucket folder."""
    check_bucket_name(bucket)
    if not key or len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise InvalidParameterException(f"The key must be 1 to {_MAX_KEY_BYTES} bytes long.")
    parts = key.split("/")
    # "a/../b" or "a//b" would name a file other than the key says, and a key ending in
    # "/" names a folder: each part must be a plain file or folder name.
    if any(part in ("", ".", "..") or "\0" in part or "\\" in part for part in parts):
        raise InvalidParameterException(
            f"The key {key!r} cannot be stored as a file: it must be names separated by single "
            "'/', none of them '.' or '..', without NUL or backslash, and not end with '/'."
        )
    try:
        bucket_folder = (s3_dir / bucket).resolve()
        path = (bucket_folder / key).resolve()
    except (OSError, ValueError, RuntimeError):
        raise InvalidParameterException(f"The key {key!r} cannot be stored as a file.") from None
    # A folder inside the bucket that links elsewhere must not carry the write out of it.
    if not path.is_relative_to(bucket_folder) or path == bucket_folder or path.is_dir():
        raise InvalidParameterException(f"The key {key!r} cannot be stored as a file in its bucket.")
    return path


def _declared_hash(headers: WireHeaders) -> str | None:
    """The body's SHA-256 the client declared, if it declared one."""
    declared = (headers.get("x-amz-content-sha256") or "").strip()
    if not declared or declared == UNSIGNED_PAYLOAD:
        return None
    if not _SHA256_HEX.fullmatch(declared):
        raise InvalidSignatureException(
            f"X-Amz-Content-SHA256 must be the body's hex SHA-256 or {UNSIGNED_PAYLOAD}."
        )
    return declared


def _declared_length(headers: WireHeaders, limit: int) -> None:
    text = headers.get("content-length")
    if text is None:
        return  # chunked: the limit is enforced while it streams
    if not text.strip().isdigit():
        raise InvalidParameterException("Content-Length must be a whole number of bytes.")
    if int(text) > limit:
        raise EntityTooLarge(f"The upload of {int(text)} bytes exceeds the limit of {limit} bytes.")


def _open_part(s3_dir: Path) -> tuple[Path, BinaryIO]:
    folder = s3_dir / _PARTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{uuid.uuid4().hex}.part"
    return part, part.open("xb")


def _place(part: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same file system (both under s3_dir): the object appears whole or not at all.
    os.replace(part, target)


async def _stream_to(request: Request, handle: BinaryIO, limit: int, idle_s: float) -> tuple[int, str]:
    """Writes the body; returns its size and SHA-256. A slow upload of a large video is
    fine; a client that sends nothing for `idle_s` is dropped."""
    size, digest, pending = 0, hashlib.sha256(), bytearray()
    chunks = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), idle_s)
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise RequestTimeoutException(
                f"No part of the upload arrived within {idle_s:.0f} seconds"
            ) from None
        size += len(chunk)
        if size > limit:
            raise EntityTooLarge(f"The upload exceeds the limit of {limit} bytes.")
        digest.update(chunk)
        pending += chunk
        if len(pending) >= _WRITE_BYTES:
            await run_in_threadpool(handle.write, bytes(pending))
            pending.clear()
    if pending:
        await run_in_threadpool(handle.write, bytes(pending))
    return size, digest.hexdigest()


def upload_routes(settings: Settings) -> list[Route]:
    s3_dir = settings.s3_dir

    async def upload(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            headers = WireHeaders.from_asgi(request.scope["headers"])
            signed = signed_headers_of(request, headers, settings)
            if signed is not None:
                signed.verify_declared_payload()
            if settings.s3_endpoint_url:
                raise LocalUploadsUnavailableException(
                    "This server reads S3 objects from the S3 endpoint it is configured with "
                    "(OPENREK_S3_ENDPOINT_URL), not from its local bucket folders: upload the "
                    "video to that S3 (e.g. `aws s3 cp video.mp4 s3://BUCKET/KEY`) and start "
                    "the job on it."
                )
            bucket = str(request.path_params["bucket"])
            key = str(request.path_params["key"])
            target = object_path(s3_dir, bucket, key)
            declared = _declared_hash(headers)
            _declared_length(headers, settings.max_upload_bytes)
            return await _receive(request, target, declared, request_id)
        except RekognitionError as error:
            return error_response(error, request_id)

    async def _receive(request: Request, target: Path, declared: str | None, request_id: str) -> Response:
        part, handle = await run_in_threadpool(_open_part, s3_dir)
        placed = False
        try:
            try:
                size, sha256 = await _stream_to(
                    request, handle, settings.max_upload_bytes, settings.body_timeout_s
                )
            finally:
                await run_in_threadpool(handle.close)
            if declared is not None and declared != sha256:
                raise InvalidSignatureException(
                    "The body's SHA-256 is not the X-Amz-Content-SHA256 that was sent."
                )
            await run_in_threadpool(_place, part, target)
            placed = True
        except ClientDisconnect:
            log.info("client went away during an upload (%s)", request_id)
            return Response(status_code=400)
        except OSError as error:
            log.warning("upload to %s failed: %s", target, error)
            raise InternalServerError("The object could not be written to its bucket folder.") from None
        finally:
            if not placed:
                part.unlink(missing_ok=True)
        bucket, key = request.path_params["bucket"], request.path_params["key"]
        return uncached_json_response({"Bucket": bucket, "Name": key, "Size": size}, request_id)

    return [Route(f"{UPLOADS_PATH}/{{bucket:str}}/{{key:path}}", upload, methods=["PUT"])]


__all__ = ["UPLOADS_PATH", "check_bucket_name", "object_path", "upload_routes"]
