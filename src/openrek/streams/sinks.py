"""Where stream processors send results: a Kinesis data stream, through the
Kinesis-compatible endpoint in OPENREK_KINESIS_ENDPOINT_URL (credentials from the
usual AWS_* variables). The processor's RoleArn names the role AWS would assume;
a local server writes as itself."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("openrek.streams")

# A sink that fails this many writes in a row ends the session FAILED.
MAX_FAILED_WRITES = 30


class SinkFailed(Exception):
    """Writing results keeps failing; str(error) is the processor's StatusMessage."""


def kinesis_stream_name(arn: str) -> str | None:
    """`arn:aws:kinesis:<region>:<account>:stream/<name>` -> name."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
        return None
    name = parts[5][len("stream/") :]
    return name or None


class KinesisSink:
    def __init__(self, endpoint_url: str, region: str, stream_arn: str, partition_key: str) -> None:
        import boto3

        name = kinesis_stream_name(stream_arn)
        if name is None:
            raise SinkFailed(f"Not a Kinesis data stream ARN: {stream_arn}")
        self._stream = name
        self._partition_key = partition_key
        self._client: Any = boto3.session.Session().client(
            "kinesis", endpoint_url=endpoint_url, region_name=region
        )
        self._failures = 0

    def put(self, record: dict[str, Any]) -> None:
        try:
            self._client.put_record(
                StreamName=self._stream, Data=json.dumps(record).encode(), PartitionKey=self._partition_key
            )
        except Exception as error:
            self._failures += 1
            log.warning("could not write a record to Kinesis stream %s: %s", self._stream, error)
            if self._failures >= MAX_FAILED_WRITES:
                raise SinkFailed(
                    f"Writing to the Kinesis data stream {self._stream} failed {self._failures} times "
                    f"in a row: {error}"
                ) from None
            return
        self._failures = 0
