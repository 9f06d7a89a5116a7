"""SigV4 enforced once access keys are configured."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, read_http_response, rekognition_client

pytestmark = pytest.mark.needs_server  # its own server, started with keys


@pytest.fixture(scope="module")
def locked_server(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("locked") / "data",
        env={"OPENREK_ACCESS_KEYS": "AKIDOPENREKTEST:s3cr3t-key,AKIDSECOND:other"},
    )
    yield process
    process.stop()


def code_of(client: Any, photo: bytes) -> str:
    with pytest.raises(ClientError) as caught:
        client.detect_faces(Image={"Bytes": photo})
    return str(caught.value.response["Error"]["Code"])


def test_signed_requests_pass_and_bad_ones_fail(locked_server: ServerProcess, photos: Path) -> None:
    photo = (photos / "face_recognition/obama.jpg").read_bytes()
    good = rekognition_client(locked_server.url, key_id="AKIDOPENREKTEST", secret="s3cr3t-key")
    assert len(good.detect_faces(Image={"Bytes": photo})["FaceDetails"]) == 1
    second = rekognition_client(locked_server.url, key_id="AKIDSECOND", secret="other")
    assert len(second.detect_faces(Image={"Bytes": photo})["FaceDetails"]) == 1
    wrong_secret = rekognition_client(locked_server.url, key_id="AKIDOPENREKTEST", secret="nope")
    assert code_of(wrong_secret, photo) == "InvalidSignatureException"
    unknown = rekognition_client(locked_server.url, key_id="AKIDUNKNOWN", secret="s3cr3t-key")
    assert code_of(unknown, photo) == "UnrecognizedClientException"
    unsigned = requests.post(
        locked_server.url + "/",
        data="{}",
        headers={
            "X-Amz-Target": "RekognitionService.DetectFaces",
            "Content-Type": "application/x-amz-json-1.1",
        },
        timeout=10,
    )
    assert unsigned.status_code == 400
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"


def signed_request(
    url: str, target: str, body: dict[str, Any], *, region: str = "us-east-1"
) -> tuple[list[tuple[str, str]], bytes]:
    """A request signed by botocore as boto3 would send it: (path, headers, body bytes)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=data,
        headers={
            "X-Amz-Target": f"RekognitionService.{target}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials("AKIDOPENREKTEST", "s3cr3t-key"), "rekognition", region).add_auth(request)
    return list(request.headers.items()), data


def send_raw(url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, dict[str, Any]]:
    """POST with the headers exactly as given, repeats and order kept."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/", skip_host=False, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    answer: dict[str, Any] = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, answer


def test_a_repeated_target_cannot_ride_on_a_signature(locked_server: ServerProcess) -> None:
    """A captured signed DescribeCollection, resent with an unsigned DeleteCollection
    target placed before the signed one, must not delete anything."""
    good = rekognition_client(locked_server.url, key_id="AKIDOPENREKTEST", secret="s3cr3t-key")
    good.create_collection(CollectionId="kept")
    headers, body = signed_request(locked_server.url, "DescribeCollection", {"CollectionId": "kept"})
    assert send_raw(locked_server.url, headers, body)[0] == 200  # the capture itself is valid
    for placement in ("before", "after"):
        extra = ("X-Amz-Target", "RekognitionService.DeleteCollection")
        replayed = [extra, *headers] if placement == "before" else [*headers, extra]
        status, answer = send_raw(locked_server.url, replayed, body)
        assert status == 400, placement
        assert answer["__type"] == "InvalidSignatureException", placement
    assert good.describe_collection(CollectionId="kept")["FaceCount"] == 0


def test_a_signature_for_another_region_is_refused(locked_server: ServerProcess, photos: Path) -> None:
    elsewhere = boto3.client(
        "rekognition",
        endpoint_url=locked_server.url,
        region_name="eu-west-1",
        aws_access_key_id="AKIDOPENREKTEST",
        aws_secret_access_key="s3cr3t-key",
        config=Config(retries={"max_attempts": 1}),
    )
    photo = (photos / "face_recognition/obama.jpg").read_bytes()
    assert code_of(elsewhere, photo) == "InvalidSignatureException"


@pytest.mark.parametrize(
    "method,path",
    [
        # GET / (a redirect to /console) and the console's own files are the only
        # unsigned answers: tests/console/test_console_keys.py checks them.
        ("GET", "/health"),
        ("GET", "/console/nothing.js"),
        ("GET", "/console/static/nothing.js"),
        ("DELETE", "/"),
        ("POST", "/x/y"),
        ("TRACE", "/"),
        ("FOO", "/health"),
    ],
)
def test_nothing_answers_without_a_signature(locked_server: ServerProcess, method: str, path: str) -> None:
    response = requests.request(method, locked_server.url + path, timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/x-amz-json-1.1")
    assert response.json()["__type"] == "MissingAuthenticationTokenException"


def test_an_unsigned_request_is_refused_before_its_body_is_read(locked_server: ServerProcess) -> None:
    """Checks that need no body run first: an unsigned client cannot make the server
    wait for, or hold, 16 MiB."""
    host, port = locked_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: RekognitionService.ListCollections\r\n"
            b"Content-Length: 16000000\r\n\r\n{"
        )
        start = time.monotonic()
        answer = read_http_response(sock)
    assert time.monotonic() - start < 5
    assert answer.startswith("HTTP/1.1 400")
    assert "MissingAuthenticationTokenException" in answer
