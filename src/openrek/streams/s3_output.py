"""Objects a stream processor writes to its Output.S3Destination: files under
`<data-dir>/s3/<bucket>/<key>`, or objects at the S3-compatible endpoint in
OPENREK_S3_ENDPOINT_URL (the same choice images and videos are read with).

As on S3, the bucket must exist (locally: its folder); a key's folders are made as
needed. A local object appears whole or not at all (written aside, then renamed).

The bulk-analysis branch has a writer with the same `put` for its jobs
(jobs/s3_output.py); the two can become one module when both are on main.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class OutputUnwritable(Exception):
    """The object cannot be written; str(error) says why (a StatusMessage)."""


class S3Output:
    def __init__(self, s3_dir: Path, s3_endpoint_url: str | None = None) -> None:
        self._s3_dir = s3_dir
        self._endpoint_url = s3_endpoint_url
        self._client: Any = None

    @property
    def remote(self) -> bool:
        return bool(self._endpoint_url)

    def put(self, bucket: str, key: str, body: bytes, kms_key_id: str | None = None) -> None:
        if self._endpoint_url:
            self._put_remote(bucket, key, body, kms_key_id)
        elif kms_key_id is not None:
            # A folder cannot encrypt with a KMS key; writing in the clear would betray the caller.
            raise OutputUnwritable("KmsKeyId needs an S3 endpoint: set OPENREK_S3_ENDPOINT_URL on the server")
        else:
            self._put_local(bucket, key, body)

    def _put_local(self, bucket: str, key: str, body: bytes) -> None:
        root = self._s3_dir.resolve()
        folder = (root / bucket).resolve()
        if folder.parent != root or not folder.is_dir():
            raise OutputUnwritable(f"The S3 bucket {bucket} does not exist (no folder {root / bucket})")
        target = (folder / key).resolve()
        # "../" in a key must not reach outside the bucket's folder.
        if key.endswith("/") or target == folder or not target.is_relative_to(folder):
            raise OutputUnwritable(f"{key!r} is not a valid S3 object key")
        aside = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            aside.write_bytes(body)
            aside.replace(target)
        except OSError as error:
            aside.unlink(missing_ok=True)
            raise OutputUnwritable(f"Could not write s3://{bucket}/{key}: {error.strerror}") from None

    def _put_remote(self, bucket: str, key: str, body: bytes, kms_key_id: str | None) -> None:
        import botocore.exceptions

        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("s3", endpoint_url=self._endpoint_url)
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        try:
            self._client.put_object(Bucket=bucket, Key=key, Body=body, **encryption)
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "an error")
            raise OutputUnwritable(f"Could not write s3://{bucket}/{key}: {code}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise OutputUnwritable(f"Could not write s3://{bucket}/{key}: {error}") from None
