"""From (operation name, JSON body) to a response dict, or an AWS-shaped error.

Shared by the HTTP server and the in-process client so both behave identically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from openrek.imaging.budget import request_scope
from openrek.protocol.errors import (
    InternalServerError,
    RekognitionError,
    UnknownOperationException,
)
from openrek.protocol.service_model import operation_model
from openrek.protocol.validation import parse_request
from openrek.storage.base import StoreUnavailable

log = logging.getLogger("openrek")

# What handlers are given besides the request: the server's services. Generic, so that
# protocol/ names no layer above it while handlers and their Dispatcher agree on one type.
ServicesT = TypeVar("ServicesT")

# (validated request, services) -> response
Handler = Callable[[dict[str, Any], ServicesT], dict[str, Any]]


class UnsupportedOperationException(RekognitionError):
    """An operation of the service model that openrek does not implement (yet)."""

    code = "UnsupportedOperationException"


class Dispatcher(Generic[ServicesT]):
    def __init__(self, handlers: Mapping[str, Handler[ServicesT]], services: ServicesT) -> None:
        self._handlers = handlers
        self._services = services

    def call(self, operation: str, body: object) -> dict[str, Any]:
        model = operation_model(operation)
        if model is None:
            raise UnknownOperationException(f"Operation {operation!r} is not recognised.")
        handler = self._handlers.get(operation)
        if handler is None:
            raise UnsupportedOperationException(
                f"openrek does not implement {operation} yet; see docs/operations.md "
                "for the operations it answers."
            )
        params = parse_request(model.input_shape, body)
        try:
            # Memory the request charges to the image budget is held until it answers.
            with request_scope():
                return handler(params, self._services)
        except RekognitionError:
            raise
        except StoreUnavailable as error:
            # The database is restarting or unreachable: nothing was done, a retry may work
            # (boto3 retries InternalServerError by itself). One line, no traceback.
            log.warning("%s: %s", operation, error)
            raise InternalServerError("The database is unavailable; retry the request") from None
        except Exception:
            # Never a traceback on the wire: log it here, answer AWS's shape.
            log.exception("%s failed", operation)
            raise InternalServerError("Internal server error") from None
