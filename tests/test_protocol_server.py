"""The wire protocol as a client sees it: targets, errors, headers, hostile bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from openrek.protocol.dispatch import Dispatcher, UnsupportedOperationException
from openrek.protocol.service_model import service_model
from tests.conftest import ServerProcess

HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def post(url: str, target: str | None, body: bytes | str) -> requests.Response:
    headers = dict(HEADERS)
    if target is not None:
        headers["X-Amz-Target"] = target
    return requests.post(url + "/", data=body, headers=headers, timeout=60)


def assert_aws_error(response: requests.Response, code: str, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-amzn-ErrorType"] == code
    assert response.headers["x-amzn-RequestId"]
    body: dict[str, Any] = response.json()
    assert body["__type"] == code and body["Message"]
    return body


def test_unknown_operation(server: ServerProcess) -> None:
    assert_aws_error(post(server.url, "RekognitionService.MakeCoffee", "{}"), "UnknownOperationException")
    assert_aws_error(post(server.url, None, "{}"), "UnknownOperationException")
    assert_aws_error(post(server.url, "OtherService.DetectFaces", "{}"), "UnknownOperationException")


def test_operation_not_implemented_names_itself() -> None:
    # Every operation of the model has a handler now: a dispatcher without one stands in.
    with pytest.raises(UnsupportedOperationException) as refused:
        Dispatcher({}, None).call("CreateFaceLivenessSession", {})
    assert "CreateFaceLivenessSession" in refused.value.message


def test_every_model_operation_answers_aws_shaped(server: ServerProcess) -> None:
    """An empty body: a result where nothing is required, else an AWS-shaped error."""
    for operation in service_model().operation_names:
        response = post(server.url, f"RekognitionService.{operation}", "{}")
        assert response.headers["x-amzn-RequestId"]
        # the implemented operations with no required member
        if operation in (
            "CreateFaceLivenessSession",
            "ListCollections",
            "ListMediaAnalysisJobs",
            "ListStreamProcessors",
            "DescribeProjects",
        ):
            assert response.status_code == 200, response.text
            continue
        assert response.status_code == 400, (operation, response.text)
        assert response.json()["__type"] in {
            "ValidationException",
            "UnsupportedOperationException",
            "InvalidParameterException",
        }, operation


def test_body_that_is_not_json(server: ServerProcess) -> None:
    assert_aws_error(
        post(server.url, "RekognitionService.DetectFaces", b"\xff{not json"), "SerializationException"
    )
    assert_aws_error(post(server.url, "RekognitionService.DetectFaces", "[1, 2]"), "SerializationException")


@pytest.mark.parametrize(
    "body",
    [
        {"Image": {"Bytes": 123}},
        {"Image": "photo.jpg"},
        {"Image": {"Bytes": "not base64!"}},
        {"Image": {"S3Object": {"Bucket": ["b"], "Name": "k"}}},
        {"Image": {"Bytes": "AAAA"}, "Attributes": "ALL"},
    ],
)
def test_wrong_member_types(server: ServerProcess, body: dict[str, Any]) -> None:
    assert_aws_error(
        post(server.url, "RekognitionService.DetectFaces", json.dumps(body)), "SerializationException"
    )


def test_constraint_violations(server: ServerProcess) -> None:
    body = assert_aws_error(post(server.url, "RekognitionService.DetectFaces", "{}"), "ValidationException")
    assert "at 'image' failed to satisfy constraint: Member must not be null" in body["Message"]
    body = assert_aws_error(
        post(
            server.url,
            "RekognitionService.DetectFaces",
            json.dumps({"Image": {"Bytes": "AAAA"}, "Attributes": ["HAIR"]}),
        ),
        "ValidationException",
    )
    assert "enum value set" in body["Message"]


def test_boto3_sees_aws_error_codes(unvalidated: Any) -> None:
    with pytest.raises(ClientError) as caught:
        unvalidated.detect_faces(Image={"Bytes": b""})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_success_carries_request_id(server: ServerProcess, photos: Path) -> None:
    import base64

    body = json.dumps(
        {"Image": {"Bytes": base64.b64encode((photos / "face_recognition/obama.jpg").read_bytes()).decode()}}
    )
    response = post(server.url, "RekognitionService.DetectFaces", body)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert len(response.headers["x-amzn-RequestId"]) == 36
