"""Image.S3Object read from a real S3-compatible server (moto_server) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]

S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_server(
    models: ModelStore, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("s3server") / "data",
        env={"OPENREK_S3_ENDPOINT_URL": moto_endpoint, **S3_KEYS},
    )
    yield process
    process.stop()


def test_detect_faces_from_s3_compatible_endpoint(
    moto_endpoint: str, s3_server: ServerProcess, photos: Path
) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="family")
    s3.put_object(Bucket="family", Key="2024/group.jpg", Body=(photos / "insightface/t1.jpg").read_bytes())
    rekognition = rekognition_client(s3_server.url)
    response = rekognition.detect_faces(Image={"S3Object": {"Bucket": "family", "Name": "2024/group.jpg"}})
    assert len(response["FaceDetails"]) == 6
    with pytest.raises(ClientError) as caught:
        rekognition.detect_faces(Image={"S3Object": {"Bucket": "family", "Name": "missing.jpg"}})
    assert caught.value.response["Error"]["Code"] == "InvalidS3ObjectException"
    assert s3_server.alive()
