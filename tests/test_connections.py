"""What a client may hold: header and body deadlines, a connection cap, quiet disconnects."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, read_http_response, rekognition_client
from tests.test_image_door import huge_flat_png

pytestmark = pytest.mark.needs_server  # its own server, with short deadlines


@pytest.fixture(scope="module")
def strict_server(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("strict") / "data",
        env={"OPENREK_HEADER_TIMEOUT_S": "1", "OPENREK_BODY_TIMEOUT_S": "2", "OPENREK_MAX_CONNECTIONS": "6"},
    )
    yield process
    process.stop()


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed the connection (reads until EOF)."""
    start = time.monotonic()
    sock.settimeout(seconds)
    while sock.recv(4096):
        pass
    return time.monotonic() - start


def test_a_kept_alive_connection_is_not_held_by_delayed_acknowledgements(
    strict_server: ServerProcess,
) -> None:
    """A response is two writes (headers, body). Without TCP_NODELAY on the server's
    socket the body waited for the client's acknowledgement of the headers, which a
    kept-alive client delays by 40 ms: every boto3 call after a connection's first
    took at least 40 ms more. Each request here is a small GET on one connection."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", strict_server.port, timeout=10)
    try:
        took = []
        for _ in range(15):
            started = time.monotonic()
            connection.request("GET", "/health")
            assert connection.getresponse().read()
            took.append(time.monotonic() - started)
    finally:
        connection.close()
    took.sort()
    assert took[len(took) // 2] < 0.035, took  # the stall alone is 40 ms a request


def test_a_silent_connection_is_closed(strict_server: ServerProcess) -> None:
    with connect(strict_server) as sock:
        assert closed_within(sock, 5) < 3


def test_headers_that_trickle_are_cut_off(strict_server: ServerProcess) -> None:
    request = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: RekognitionService.ListCollections\r\n"
    with connect(strict_server) as sock:
        start = time.monotonic()
        try:
            for byte in request:
                sock.send(bytes([byte]))
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed_within(sock, 5)
        assert time.monotonic() - start < 3.5  # well before the whole trickle (5 s) is sent


def test_a_body_that_stalls_gets_a_timeout(strict_server: ServerProcess) -> None:
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: RekognitionService.ListCollections\r\n"
        b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\n\r\n{"
    )
    with connect(strict_server) as sock:
        sock.sendall(head)
        sock.settimeout(10)
        answer = read_http_response(sock)
    assert answer.startswith("HTTP/1.1 408")
    assert '"__type": "RequestTimeoutException"' in answer


def test_a_client_gone_mid_body_is_one_log_line(strict_server: ServerProcess) -> None:
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: RekognitionService.ListCollections\r\n"
        b'Content-Length: 5000\r\n\r\n{"MaxResults": '
    )
    for _ in range(3):
        with connect(strict_server) as sock:
            sock.sendall(head)
            time.sleep(0.2)
    time.sleep(0.5)
    assert strict_server.alive()
    log = strict_server.log.read_text()
    assert "Traceback" not in log
    assert log.count("client went away before sending the whole request") == 3


def test_idle_connections_make_room_for_requests(strict_server: ServerProcess) -> None:
    """At the cap, the longest-idle connection is dropped: sockets that never send a
    byte cannot lock real clients out."""
    held = [connect(strict_server) for _ in range(8)]
    try:
        time.sleep(0.2)
        for _ in range(3):
            assert requests.get(strict_server.url + "/health", timeout=10).status_code == 200
        closed = 0
        for sock in held:
            sock.settimeout(0.5)
            with contextlib.suppress(TimeoutError):
                closed += sock.recv(1) == b""
        assert closed >= 4  # 8 idle + each request, against a cap of 6
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/nope"),
        ("GET", "/console/nope"),
        ("PUT", "/"),
        ("POST", "/a/b"),
        ("TRACE", "/"),
        ("FOO", "/health"),
    ],
)
def test_paths_that_are_not_the_api_get_aws_shaped_errors(
    strict_server: ServerProcess, method: str, path: str
) -> None:
    response = requests.request(method, strict_server.url + path, timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/x-amz-json-1.1")
    body = response.json()
    assert body["__type"] == "UnknownOperationException"
    assert "POST / with an X-Amz-Target header" in body["Message"]


def test_requests_beyond_the_queue_are_told_to_back_off(models: ModelStore, tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "data", env={"OPENREK_WORKERS": "1", "OPENREK_MAX_QUEUED_REQUESTS": "1"}
    )
    try:
        client = rekognition_client(server.url)
        image = huge_flat_png()
        go = threading.Barrier(8)

        def label() -> str:
            go.wait()  # all eight at once: one runs, one waits, the rest are over the bound
            try:
                client.detect_labels(Image={"Bytes": image}, Features=["IMAGE_PROPERTIES"])
                return "ok"
            except ClientError as error:
                return str(error.response["Error"]["Code"])

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda _i: label(), range(8)))
        assert set(outcomes) == {"ok", "ThrottlingException"}, outcomes
        # Requests that arrive after an earlier one finished may pass too; never all.
        assert outcomes.count("ok") < 8
        go = threading.Barrier(1)
        assert label() == "ok"  # and it serves again once the burst has passed
    finally:
        server.stop()
