"""Polling and bucket helpers for Custom Labels tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.shapes import assert_valid_output


def put_object(data_dir: Path, bucket: str, key: str, body: bytes) -> str:
    path = data_dir / "s3" / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return f"s3://{bucket}/{key}"


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def dataset_status(client: Any, arn: str) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        response = client.describe_dataset(DatasetArn=arn)
        assert_valid_output("DescribeDataset", response)
        description: dict[str, Any] = response["DatasetDescription"]
        return description

    described: dict[str, Any] = wait_for(read, lambda d: d["Status"] != "CREATE_IN_PROGRESS")
    return described


def version_status(
    client: Any, project_arn: str, name: str, until: tuple[str, ...], timeout: float = 300.0
) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        response = client.describe_project_versions(ProjectArn=project_arn, VersionNames=[name])
        assert_valid_output("DescribeProjectVersions", response)
        description: dict[str, Any] = response["ProjectVersionDescriptions"][0]
        return description

    described: dict[str, Any] = wait_for(read, lambda d: d["Status"] in until, timeout)
    return described
