"""A stream processor reading over HTTP, a source that drops and comes back, and the
limit on processors running at once."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from openrek.streams.sqlite_store import SqliteStreamStore
from tests.conftest import ServerProcess, free_port, rekognition_client
from tests.streams.test_face_search_processor import kinesis, read_records
from tests.streams.test_processor_failures import definition, wait_for
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip, pattern

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class FileServer:
    """A folder served over HTTP on loopback, that can go away and come back on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self._server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        handler = functools.partial(_Quiet, directory=str(self.folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[FileServer]:
    folder = tmp_path / "www"
    folder.mkdir()
    # moov first, so the file plays as it downloads, as a streamed recording does.
    make_clip(folder / "cam.mp4", [(pattern(), 4 * 10)], fps=10, faststart=True)
    server = FileServer(folder)
    server.up()
    yield server
    server.down()


def test_http_source_drop_and_reconnect_and_running_limit(
    models: ModelStore,
    moto_endpoint: str,
    served: FileServer,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = SqliteStreamStore(data)
    store.put_source("web", f"http://127.0.0.1:{served.port}/cam.mp4")
    store.put_source("web2", f"http://127.0.0.1:{served.port}/cam.mp4")
    store.close()
    kinesis(moto_endpoint).create_stream(StreamName="web-records", ShardCount=1)
    env = {
        "OPENREK_KINESIS_ENDPOINT_URL": moto_endpoint,
        "OPENREK_MAX_RUNNING_STREAM_PROCESSORS": "1",
        **S3_KEYS,
    }
    server = ServerProcess(data, env=env)
    try:
        client = rekognition_client(server.url)
        client.create_collection(CollectionId="staff")
        client.create_stream_processor(Name="web", **definition("web", "web-records"))
        client.create_stream_processor(Name="web2", **definition("web2", "web-records"))
        client.start_stream_processor(Name="web")
        with pytest.raises(ClientError) as refused:
            client.start_stream_processor(Name="web2")  # one may run at once here
        assert refused.value.response["Error"]["Code"] == "ResourceInUseException"

        assert wait_for(client, "web", {"RUNNING"}) == "RUNNING"
        began = time.monotonic()
        while not read_records(moto_endpoint, "web-records") and time.monotonic() - began < 20:
            time.sleep(0.3)
        assert read_records(moto_endpoint, "web-records")

        served.down()  # the camera goes away: the processor keeps RUNNING and retries
        time.sleep(6)
        assert client.describe_stream_processor(Name="web")["Status"] == "RUNNING"
        count = len(read_records(moto_endpoint, "web-records"))
        served.up()  # and comes back on the same address
        deadline = time.monotonic() + 60
        while len(read_records(moto_endpoint, "web-records")) <= count and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(read_records(moto_endpoint, "web-records")) > count

        client.stop_stream_processor(Name="web")
        assert wait_for(client, "web", {"STOPPED"}) == "STOPPED"
        client.start_stream_processor(Name="web2")  # room again
        client.stop_stream_processor(Name="web2")
    finally:
        server.stop()
