"""botocore's `rekognition` service model: the contract openrek answers to."""

from __future__ import annotations

import base64
import datetime as dt
import json
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel

TARGET_PREFIX = "RekognitionService."


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("rekognition")


def operation_model(name: str) -> OperationModel | None:
    model = service_model()
    return model.operation_model(name) if name in model.operation_names else None


def _wire_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_wire(response: dict[str, Any]) -> bytes:
    """A response dict as AWS JSON 1.1 bytes: blobs base64, timestamps epoch seconds."""
    return json.dumps(response, default=_wire_value, separators=(",", ":")).encode()
