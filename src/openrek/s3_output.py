"""Writing output to S3: `<s3-dir>/<bucket>/<key>`, or an object at an S3-compatible endpoint.

The mirror of how inputs are read (imaging/source.py, video/location.py): bulk
analysis jobs and ConnectedHome stream processors write where images come from. As on S3, the bucket must exist already; keys
make their own folders. A local object is written whole or not at all (temporary
file, synced, renamed), so a reader never sees half a results file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openrek.atomic_files import write_atomically


class OutputUnwritable(Exception):
    """The output location cannot take the object; str(error) says why."""


class S3Output:
    def __init__(self, s3_dir: Path, s3_endpoint_url: str | None = None) -> None:
        self._s3_dir = s3_dir
        self._s3_endpoint_url = s3_endpoint_url
        self._s3_client: Any = None

    @property
    def encrypts(self) -> bool:
        """Whether a KMS key can be honoured: an S3 endpoint encrypts with it; a
        local folder cannot, and must not pretend to."""
        return bool(self._s3_endpoint_url)

    def put(self, bucket: str, key: str, body: bytes, kms_key_id: str | None = None) -> None:
        if self._s3_endpoint_url:
            self._put_remote(bucket, key, body, kms_key_id)
        elif kms_key_id is not None:
            raise OutputUnwritable("KmsKeyId needs an S3 endpoint: set OPENREK_S3_ENDPOINT_URL on the server")
        else:
            self._put_local(bucket, key, body)

    def _put_local(self, bucket: str, key: str, body: bytes) -> None:
        root = self._s3_dir.resolve()
        bucket_dir = (root / bucket).resolve()
        if bucket_dir.parent != root or not bucket_dir.is_dir():
            raise OutputUnwritable(f"The output bucket {bucket} does not exist")
        target = (bucket_dir / key).resolve()
        # A key like "../other-bucket/x" must not write outside its bucket.
        if not target.is_relative_to(bucket_dir) or target == bucket_dir or key.endswith("/"):
            raise OutputUnwritable(f"The output key {key!r} is not a valid object name")
        try:
            write_atomically(target, body)
        except OSError as error:
            raise OutputUnwritable(f"Could not write s3://{bucket}/{key}: {error.strerror}") from None

    def _put_remote(self, bucket: str, key: str, body: bytes, kms_key_id: str | None) -> None:
        import botocore.exceptions

        if self._s3_client is None:
            import boto3

            self._s3_client = boto3.session.Session().client("s3", endpoint_url=self._s3_endpoint_url)
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        try:
            self._s3_client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Error")
            raise OutputUnwritable(f"Could not write s3://{bucket}/{key}: {code}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise OutputUnwritable(f"Could not write s3://{bucket}/{key}: {error}") from None
