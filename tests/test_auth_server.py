"""SigV4 enforced once access keys are configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, rekognition_client

pytestmark = pytest.mark.needs_server  # its own server, started with keys


@pytest.fixture(scope="module")
def locked_server(models, tmp_path_factory) -> Iterator[ServerProcess]:  # type: ignore[no-untyped-def]
    process = ServerProcess(
        tmp_path_factory.mktemp("locked") / "data",
        env={"OPENREK_ACCESS_KEYS": "AKIDOPENREKTEST:s3cr3t-key,AKIDSECOND:other"},
    )
    yield process
    process.stop()


def code_of(client, photo: bytes) -> str:  # type: ignore[no-untyped-def]
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
        headers={"X-Amz-Target": "RekognitionService.DetectFaces",
                 "Content-Type": "application/x-amz-json-1.1"},
        timeout=10,
    )
    assert unsigned.status_code == 400
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
