"""Where image bytes come from: the request itself, or an S3 object.

S3Object reads `<data-dir>/s3/<bucket>/<key>` by default, or any S3-compatible
endpoint when one is configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openrek.imaging.limits import DEFAULT_LIMITS, ImageLimits
from openrek.protocol.errors import (
    ImageTooLargeException,
    InvalidParameterException,
    InvalidS3ObjectException,
)

S3_UNREADABLE = "Unable to get object metadata from S3. Check object key, region and/or access permissions."


def local_object_path(s3_dir: Path, bucket: str, key: str) -> Path:
    """`<s3_dir>/<bucket>/<key>` when it is a file inside its bucket folder; InvalidS3ObjectException otherwise."""
    try:
        root = s3_dir.resolve()
        path = (root / bucket / key).resolve()
        # A key like "../../etc/passwd" must not leave the bucket folder.
        if not path.is_relative_to(root / bucket) or not path.is_file():
            raise InvalidS3ObjectException(S3_UNREADABLE)
        return path
    except (OSError, ValueError, RuntimeError):
        # A NUL byte, a name too long for the file system, a symlink loop (which
        # Path.resolve reports as RuntimeError), a permission denied: the object
        # cannot be read, as S3 would say.
        raise InvalidS3ObjectException(S3_UNREADABLE) from None


class ImageSource:
    def __init__(self, s3_dir: Path, s3_endpoint_url: str | None = None) -> None:
        self._s3_dir = s3_dir
        self._s3_endpoint_url = s3_endpoint_url
        self._s3_client: Any = None

    def read(self, image: dict[str, Any], limits: ImageLimits = DEFAULT_LIMITS) -> bytes:
        has_bytes, has_s3 = "Bytes" in image, "S3Object" in image
        if has_bytes == has_s3:
            raise InvalidParameterException("Image must have exactly one of Bytes or S3Object")
        if has_bytes:
            data: bytes = image["Bytes"]
            if len(data) > limits.max_bytes:
                raise ImageTooLargeException(
                    f"Image size {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes"
                )
            return data
        return self._read_s3(image["S3Object"], limits.max_s3_bytes)

    def _read_s3(self, s3_object: dict[str, Any], max_bytes: int) -> bytes:
        bucket, key = s3_object.get("Bucket"), s3_object.get("Name")
        if not bucket or not key:
            raise InvalidS3ObjectException(S3_UNREADABLE)
        if self._s3_endpoint_url:
            data = self._read_remote(bucket, key, s3_object.get("Version"), max_bytes)
        else:
            data = self._read_local(bucket, key, max_bytes)
        if len(data) > max_bytes:
            raise ImageTooLargeException(
                f"S3 object size {len(data)} bytes exceeds the limit of {max_bytes} bytes"
            )
        return data

    def _read_local(self, bucket: str, key: str, max_bytes: int) -> bytes:
        path = local_object_path(self._s3_dir, bucket, key)
        try:
            if path.stat().st_size > max_bytes:
                raise ImageTooLargeException(f"S3 object size exceeds the limit of {max_bytes} bytes")
            return path.read_bytes()
        except OSError:
            raise InvalidS3ObjectException(S3_UNREADABLE) from None

    def _read_remote(self, bucket: str, key: str, version: str | None, max_bytes: int) -> bytes:
        import botocore.exceptions

        if self._s3_client is None:
            import boto3

            self._s3_client = boto3.session.Session().client("s3", endpoint_url=self._s3_endpoint_url)
        extra = {"VersionId": version} if version else {}
        try:
            head = self._s3_client.head_object(Bucket=bucket, Key=key, **extra)
            if head["ContentLength"] > max_bytes:
                raise ImageTooLargeException(f"S3 object size exceeds the limit of {max_bytes} bytes")
            return bytes(self._s3_client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read())
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            raise InvalidS3ObjectException(S3_UNREADABLE) from None
