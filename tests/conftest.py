"""Shared fixtures: real models, real photos, a real `openrek serve` on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.model import OperationModel

from openrek.config import Settings
from openrek.inference.session import OnnxSession, TfliteSession
from openrek.models.store import ModelStore
from openrek.protocol.service_model import operation_model
from tests.postgres_server import EmbeddedPostgres
from tools.eval_data import eval_data_dir, fetch


def models_dir() -> Path:
    return Settings.from_env().models_dir


@pytest.fixture(scope="session")
def models() -> ModelStore:
    store = ModelStore(models_dir())
    store.pull(progress=lambda _m: None)
    return store


@pytest.fixture(scope="session")
def photos() -> Path:
    return fetch(eval_data_dir(), progress=lambda _m: None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`openrek serve` in a child process, as a user starts it."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"server-{self.port}.log"
        full_env = {**os.environ, "OPENREK_MODELS_DIR": str(models_dir()), **(env or {})}
        self._log_handle = self.log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openrek",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
                *args,
            ],
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log_handle.close()
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                # Any HTTP answer means it serves: with access keys set, even /health
                # answers an unsigned request with an AWS error.
                requests.get(self.url + "/health", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("server did not start in 60 s")

    def alive(self) -> bool:
        return self.process.poll() is None and requests.get(self.url + "/health", timeout=5).ok

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._log_handle.close()


# Errors of the protocol, which AWS answers to any operation and the model lists for none:
# the request's wire shape, its signature, its size and how long it took to arrive.
PROTOCOL_ERRORS = {
    "ValidationException",
    "SerializationException",
    "IncompleteSignatureException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "RequestTimeoutException",
    "UnsupportedMediaTypeException",
}


def declared_errors(operation: str) -> set[str]:
    """The error codes the model declares for `operation` (SDKs generate their exception
    classes from those lists)."""
    model = operation_model(operation)
    assert model is not None, f"{operation} is not an operation of the model"
    return {shape.name for shape in model.error_shapes}


def answers_with(operation: str, code: str) -> bool:
    """Whether `operation` may answer the error `code`: one it declares, or an error of
    the protocol."""
    return code in PROTOCOL_ERRORS or code in declared_errors(operation)


def _refuse_undeclared_errors(parsed: dict[str, Any], model: OperationModel, **_: Any) -> None:
    """Checked on every call any test makes through `rekognition_client`."""
    code = parsed.get("Error", {}).get("Code")
    if code is not None and not answers_with(model.name, code):
        raise AssertionError(
            f"{model.name} answered {code}, which it does not declare: {parsed['Error'].get('Message')}"
        )


def rekognition_client(url: str, validate: bool = True, **keys: str) -> Any:
    client = boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys.get("key_id", "anything"),
        aws_secret_access_key=keys.get("secret", "anything"),
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )
    client.meta.events.register("after-call.rekognition", _refuse_undeclared_errors)
    return client


@pytest.fixture(scope="session")
def server(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("server") / "data")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def rekognition(server: ServerProcess) -> Any:
    return rekognition_client(server.url)


@pytest.fixture(scope="session")
def unvalidated(server: ServerProcess) -> Any:
    """A boto3 client that lets bad parameters through, to test the server's checks."""
    return rekognition_client(server.url, validate=False)


# --------------------------------------------------------------------------- test tiers
# `pytest -m "not needs_models"` is the offline inner loop: protocol, storage and the
# pure-Python parts of inference. The markers are registered in pyproject.toml.

# A test that uses one of these fixtures, directly or through another fixture, gets the mark.
FIXTURE_MARKS = {
    "models": "needs_models",
    "photos": "needs_photos",
    "server": "needs_server",
    "moto_endpoint": "needs_moto",
    "postgres": "needs_postgres",
    "browser": "needs_browser",
    "node": "needs_node",
}
# A server loads the models at start-up.
IMPLIED_MARKS = {"needs_server": "needs_models"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        have = {mark.name for mark in item.iter_markers()}
        fixtures = getattr(item, "fixturenames", ())
        wanted = have | {mark for fixture, mark in FIXTURE_MARKS.items() if fixture in fixtures}
        wanted |= {IMPLIED_MARKS[name] for name in wanted if name in IMPLIED_MARKS}
        for name in sorted(wanted - have):
            item.add_marker(name)


def _refuse(item: pytest.Item, what: str, mark: str, fixture: str) -> Callable[..., None]:
    def refuse(*_args: object, **_kwargs: object) -> None:
        pytest.fail(
            f"{item.nodeid} {what} but is not marked {mark}: use the `{fixture}` fixture "
            f"or add @pytest.mark.{mark}",
            pytrace=False,
        )

    return refuse


@contextlib.contextmanager
def _guarded(item: pytest.Item) -> Iterator[None]:
    """Keeps the marks honest: no model loaded without needs_models, no server without needs_server.

    Catches what runs in this process; `pytest -m "not needs_models"` with OPENREK_MODELS_DIR
    set to an empty folder catches the rest.
    """
    with pytest.MonkeyPatch.context() as patch:
        if item.get_closest_marker("needs_models") is None:
            refuse = _refuse(item, "loads a model", "needs_models", "models")
            for owner, method in (
                (ModelStore, "pull"),
                (ModelStore, "verify"),
                (OnnxSession, "__init__"),
                (TfliteSession, "__init__"),
            ):
                patch.setattr(owner, method, refuse)
        if item.get_closest_marker("needs_server") is None:
            refuse = _refuse(item, "starts `openrek serve`", "needs_server", "server")
            patch.setattr(ServerProcess, "__init__", refuse)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        return (yield)


def read_http_response(sock: socket.socket) -> str:
    """One whole HTTP/1.1 response from a raw socket (headers, then Content-Length bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data.decode("latin-1")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode("latin-1")


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL with pgvector on a free loopback port, for the whole session.
    Tests take a database of their own from it (`postgres.create_database`)."""
    server = EmbeddedPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres: EmbeddedPostgres) -> str:
    """A fresh, empty database on the session's PostgreSQL."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:16]}")


def moto_client(service: str, endpoint: str) -> Any:
    """A boto3 client for moto_server's `service` (moto takes any keys; boto3 needs some)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto_server on a free loopback port: a real S3-, SNS- and SQS-compatible HTTP server."""
    port = free_port()
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)
