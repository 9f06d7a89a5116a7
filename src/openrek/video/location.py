"""Where a stored video is: `<s3-dir>/<bucket>/<key>`, or an object at an S3-compatible endpoint.

`check` runs when a job starts, so a missing object, or one over the size or (for a
local file, whose header can be read at once) duration limit, fails the Start call
as AWS does; `local_path` gives the job a file to decode, downloading a
remote object to a temporary file (streamed to disk, deleted afterwards).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openrek.imaging.source import S3_UNREADABLE, local_object_path
from openrek.protocol.errors import InvalidS3ObjectException, VideoTooLargeException
from openrek.video.decode import declared_seconds

# AWS's limits for a stored video: 10 GB and 6 hours.
MAX_VIDEO_BYTES = 10 * 1024**3
MAX_VIDEO_SECONDS = 6 * 3600.0
_CHUNK = 1024 * 1024


def _too_large(max_bytes: int) -> VideoTooLargeException:
    return VideoTooLargeException(f"Video size exceeds the limit of {max_bytes} bytes")


def too_long_message(seconds: float, max_seconds: float) -> str:
    return f"Video duration {seconds:.0f} s exceeds the limit of {max_seconds:.0f} s"


class VideoLocator:
    def __init__(
        self,
        s3_dir: Path,
        s3_endpoint_url: str | None = None,
        max_bytes: int = MAX_VIDEO_BYTES,
        max_seconds: float = MAX_VIDEO_SECONDS,
    ) -> None:
        self._s3_dir = s3_dir
        self._s3_endpoint_url = s3_endpoint_url
        self._max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._s3_client: Any = None

    def check(self, video: dict[str, Any]) -> None:
        bucket, key, version = self._object(video)
        if self._s3_endpoint_url:
            # A remote object's length is known only once it is fetched: the job checks it.
            if self._remote_size(bucket, key, version) > self._max_bytes:
                raise _too_large(self._max_bytes)
            return
        path = local_object_path(self._s3_dir, bucket, key)
        if self._local_size(path) > self._max_bytes:
            raise _too_large(self._max_bytes)
        seconds = declared_seconds(path)
        if seconds is not None and seconds > self.max_seconds:
            raise VideoTooLargeException(too_long_message(seconds, self.max_seconds))

    @contextmanager
    def local_path(self, video: dict[str, Any]) -> Iterator[Path]:
        bucket, key, version = self._object(video)
        if not self._s3_endpoint_url:
            path = local_object_path(self._s3_dir, bucket, key)
            if self._local_size(path) > self._max_bytes:
                raise _too_large(self._max_bytes)
            yield path
            return
        handle, name = tempfile.mkstemp(prefix="openrek-video-", suffix=Path(key).suffix[:16])
        try:
            with os.fdopen(handle, "wb") as out:
                self._download(bucket, key, version, out)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    @staticmethod
    def _object(video: dict[str, Any]) -> tuple[str, str, str | None]:
        s3_object = video.get("S3Object") if isinstance(video, dict) else None
        if not isinstance(s3_object, dict):
            raise InvalidS3ObjectException(S3_UNREADABLE)
        bucket, key, version = s3_object.get("Bucket"), s3_object.get("Name"), s3_object.get("Version")
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            raise InvalidS3ObjectException(S3_UNREADABLE)
        return bucket, key, version if isinstance(version, str) and version else None

    @staticmethod
    def _local_size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            raise InvalidS3ObjectException(S3_UNREADABLE) from None

    def _client(self) -> Any:
        if self._s3_client is None:
            import boto3

            self._s3_client = boto3.session.Session().client("s3", endpoint_url=self._s3_endpoint_url)
        return self._s3_client

    def _remote_size(self, bucket: str, key: str, version: str | None) -> int:
        import botocore.exceptions

        extra = {"VersionId": version} if version else {}
        try:
            return int(self._client().head_object(Bucket=bucket, Key=key, **extra)["ContentLength"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            raise InvalidS3ObjectException(S3_UNREADABLE) from None

    def _download(self, bucket: str, key: str, version: str | None, out: Any) -> None:
        import botocore.exceptions

        extra = {"VersionId": version} if version else {}
        try:
            body = self._client().get_object(Bucket=bucket, Key=key, **extra)["Body"]
            written = 0
            for chunk in body.iter_chunks(_CHUNK):
                written += len(chunk)
                # The object may have been replaced by a larger one since Start.
                if written > self._max_bytes:
                    raise _too_large(self._max_bytes)
                out.write(chunk)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            raise InvalidS3ObjectException(S3_UNREADABLE) from None
