"""PUT /console/uploads/<bucket>/<key>: the console's upload into the local bucket
folders, over plain HTTP (http.client sends paths as written, `..` included)."""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openrek.protocol.errors import InvalidSignatureException, MissingAuthenticationTokenException
from tests.conftest import ServerProcess

pytestmark = pytest.mark.needs_server  # its own servers: with keys, and with an S3 endpoint

KEY_ID, SECRET = "AKIDUPLOADS", "upload-secret"
LIMIT = 4096


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("uploads-locked") / "data",
        env={"OPENREK_ACCESS_KEYS": f"{KEY_ID}:{SECRET}", "OPENREK_MAX_UPLOAD_BYTES": str(LIMIT)},
    )
    yield process
    process.stop()


def signed_headers(
    server: ServerProcess, path: str, body: bytes, payload: str, secret: str = SECRET
) -> dict[str, str]:
    request = AWSRequest(
        method="PUT", url=server.url + path, data=body, headers={"X-Amz-Content-SHA256": payload}
    )
    SigV4Auth(Credentials(KEY_ID, secret), "rekognition", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def put(
    server: ServerProcess, path: str, body: bytes | Iterator[bytes], headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "PUT", path, body=body, headers=headers or {}, encode_chunked=not isinstance(body, bytes)
        )
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def signed_put(
    server: ServerProcess, path: str, body: bytes, payload: str = "UNSIGNED-PAYLOAD"
) -> tuple[int, http.client.HTTPMessage, dict[str, object]]:
    return put(server, path, body, signed_headers(server, path, body, payload))


def s3_folder(server: ServerProcess) -> Path:
    return server.data_dir / "s3"


def serving(server: ServerProcess) -> bool:
    """Still up and answering (with keys on, /health answers an unsigned GET with an AWS error)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/health")
        return server.process.poll() is None and connection.getresponse().status < 500
    finally:
        connection.close()


def leftovers(server: ServerProcess) -> list[Path]:
    parts = s3_folder(server) / ".uploads"
    return sorted(parts.iterdir()) if parts.exists() else []


def test_a_signed_upload_lands_whole_in_its_bucket_folder(locked: ServerProcess) -> None:
    body = bytes(range(256)) * 10
    status, headers, answer = signed_put(
        locked, "/console/uploads/openrek-console/videos/clip%20one.mp4", body
    )
    assert status == 200, answer
    assert answer == {"Bucket": "openrek-console", "Name": "videos/clip one.mp4", "Size": len(body)}
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert (s3_folder(locked) / "openrek-console" / "videos" / "clip one.mp4").read_bytes() == body
    assert leftovers(locked) == []

    # A declared SHA-256 is held to: the same object, replaced, with its hash signed.
    body = b"second version"
    status, _, answer = signed_put(
        locked,
        "/console/uploads/openrek-console/videos/clip%20one.mp4",
        body,
        hashlib.sha256(body).hexdigest(),
    )
    assert status == 200, answer
    assert (s3_folder(locked) / "openrek-console" / "videos" / "clip one.mp4").read_bytes() == body


def test_nothing_is_written_without_a_valid_signature(locked: ServerProcess) -> None:
    path = "/console/uploads/openrek-console/unsigned.bin"
    target = s3_folder(locked) / "openrek-console" / "unsigned.bin"
    status, headers, answer = put(locked, path, b"data")
    assert (status, headers["x-amzn-ErrorType"]) == (
        MissingAuthenticationTokenException.status,
        "MissingAuthenticationTokenException",
    ), answer

    status, headers, _ = put(
        locked, path, b"data", signed_headers(locked, path, b"data", "UNSIGNED-PAYLOAD", "wrong")
    )
    assert (status, headers["x-amzn-ErrorType"]) == (
        InvalidSignatureException.status,
        "InvalidSignatureException",
    )

    # Signed for one body, sent with another.
    signed = signed_headers(locked, path, b"data", hashlib.sha256(b"data").hexdigest())
    status, headers, _ = put(locked, path, b"evil", signed)
    assert (status, headers["x-amzn-ErrorType"]) == (
        InvalidSignatureException.status,
        "InvalidSignatureException",
    )

    # Signed for another object: the path is part of the signature.
    signed = signed_headers(locked, "/console/uploads/openrek-console/other.bin", b"data", "UNSIGNED-PAYLOAD")
    status, headers, _ = put(locked, path, b"data", signed)
    assert (status, headers["x-amzn-ErrorType"]) == (
        InvalidSignatureException.status,
        "InvalidSignatureException",
    )

    # Signed the way the API is (no declared body hash): this endpoint asks for one.
    request = AWSRequest(method="PUT", url=locked.url + path, data=b"data")
    SigV4Auth(Credentials(KEY_ID, SECRET), "rekognition", "us-east-1").add_auth(request)
    status, headers, answer = put(locked, path, b"data", dict(request.headers.items()))
    assert (status, headers["x-amzn-ErrorType"]) == (
        InvalidSignatureException.status,
        "InvalidSignatureException",
    )
    assert "X-Amz-Content-SHA256" in str(answer["Message"])

    assert not target.exists()
    assert leftovers(locked) == []


@pytest.mark.parametrize(
    ("path", "complaint"),
    [
        ("/console/uploads/openrek-console/../escaped.bin", "key"),
        ("/console/uploads/openrek-console/videos/../../escaped.bin", "key"),
        ("/console/uploads/openrek-console/%2e%2e/escaped.bin", "key"),
        ("/console/uploads/openrek-console/videos%2F..%2F..%2Fescaped.bin", "key"),
        ("/console/uploads/openrek-console/a//b.bin", "key"),
        ("/console/uploads/openrek-console/videos/", "key"),
        ("/console/uploads/openrek-console/a%00b", "key"),
        ("/console/uploads/Upper-Case/x.bin", "bucket"),
        ("/console/uploads/ab/x.bin", "bucket"),
        ("/console/uploads/192.168.1.1/x.bin", "bucket"),
        ("/console/uploads/%2e%2e/escaped.bin", "bucket"),
        ("/console/uploads/.uploads/x.bin", "bucket"),
    ],
)
def test_a_key_or_bucket_that_is_not_a_file_in_its_folder_is_refused(
    locked: ServerProcess, path: str, complaint: str
) -> None:
    status, headers, answer = signed_put(locked, path, b"escape")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidParameterException"), answer
    assert complaint in str(answer["Message"])
    assert not (locked.data_dir / "escaped.bin").exists()
    assert not (s3_folder(locked) / "escaped.bin").exists()
    assert leftovers(locked) == []
    assert serving(locked)


def test_a_link_out_of_the_bucket_folder_is_not_followed(locked: ServerProcess, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (s3_folder(locked) / "linked-bucket").mkdir(parents=True, exist_ok=True)
    (s3_folder(locked) / "linked-bucket" / "out").symlink_to(outside)
    status, headers, _ = signed_put(locked, "/console/uploads/linked-bucket/out/x.bin", b"escape")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidParameterException")
    assert list(outside.iterdir()) == []


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(locked: ServerProcess) -> None:
    path = "/console/uploads/openrek-console/big.bin"
    status, headers, answer = signed_put(locked, path, b"x" * (LIMIT + 1))
    assert (status, headers["x-amzn-ErrorType"]) == (413, "EntityTooLarge"), answer
    assert str(LIMIT) in str(answer["Message"])

    # Chunked, with no Content-Length to refuse up front: stopped while it streams.
    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"y" * 1000

    status, headers, answer = put(
        locked, path, chunks(), signed_headers(locked, path, b"", "UNSIGNED-PAYLOAD")
    )
    assert (status, headers["x-amzn-ErrorType"]) == (413, "EntityTooLarge"), answer

    # Exactly at the limit is fine.
    status, _, answer = signed_put(locked, path, b"z" * LIMIT)
    assert status == 200, answer
    assert (s3_folder(locked) / "openrek-console" / "big.bin").stat().st_size == LIMIT
    assert leftovers(locked) == []
    assert serving(locked)


def test_with_an_s3_endpoint_the_upload_is_refused_and_says_where_videos_go(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Nothing listens there: the refusal must not depend on reaching it.
    process = ServerProcess(
        tmp_path_factory.mktemp("uploads-s3") / "data", env={"OPENREK_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    )
    try:
        status, headers, answer = put(process, "/console/uploads/openrek-console/videos/a.mp4", b"video")
        assert (status, headers["x-amzn-ErrorType"]) == (409, "LocalUploadsUnavailableException"), answer
        assert "aws s3 cp" in str(answer["Message"])
        assert not (s3_folder(process) / "openrek-console").exists()
        assert process.alive()
    finally:
        process.stop()
