"""Polling a video job until it leaves IN_PROGRESS, as a client of Rekognition Video does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def finished(
    get: Callable[..., dict[str, Any]], job_id: str, timeout: float = 180, **extra: Any
) -> dict[str, Any]:
    """`get` is a Get* method (e.g. client.get_face_search); returns its first answer that is not IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = get(JobId=job_id, **extra)
        if response["JobStatus"] != "IN_PROGRESS":
            return response
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still IN_PROGRESS after {timeout:.0f} s")
