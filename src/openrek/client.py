"""In-process client: boto3's method names and dicts, without HTTP.

    >>> from openrek import Client
    >>> rek = Client(data_dir="~/openrek-data")
    >>> rek.detect_faces(Image={"Bytes": open("photo.jpg", "rb").read()})

Errors are raised as botocore's `ClientError` with AWS's codes, so code written
for boto3 (`except ClientError as e: e.response["Error"]["Code"]`) works as is.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from openrek.config import Settings
from openrek.operations import HANDLERS
from openrek.protocol.dispatch import Dispatcher
from openrek.protocol.errors import RekognitionError
from openrek.protocol.service_model import operation_model, service_model, to_wire
from openrek.services import Services


class Client:
    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        if settings is None:
            overrides = {"data_dir": Path(data_dir).expanduser()} if data_dir else {}
            settings = Settings.from_env(**overrides)
        self._services = Services.start(settings)
        self._dispatcher = Dispatcher(HANDLERS, self._services)
        self._methods = {xform_name(op): op for op in service_model().operation_names}
        self._parser = create_parser("json")

    def close(self) -> None:
        """Finish the video jobs this client started (no server will resume them), then
        release the data directory's database connections."""
        self._services.close(wait_for_jobs=True)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._methods))

    def __getattr__(self, name: str) -> Any:
        operation = self.__dict__.get("_methods", {}).get(name)
        if operation is None:
            raise AttributeError(name)

        def call(**params: Any) -> dict[str, Any]:
            return self._call(operation, params)

        call.__name__ = name
        return call

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        # Params travel in wire form (blobs base64) so validation is the server's, exactly.
        wire = json.loads(to_wire(params))
        try:
            result = self._dispatcher.call(operation, wire)
        except RekognitionError as error:
            response: dict[str, Any] = {
                "Error": {"Code": error.code, "Message": error.message},
                "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": error.status},
            }
            raise ClientError(response, operation) from None  # type: ignore[arg-type]
        # Read back as boto3 reads a server's answer (timestamps as datetimes, blobs as
        # bytes), so code written for boto3 sees the same types here.
        model = operation_model(operation)
        assert model is not None and model.output_shape is not None  # every operation answers a structure
        parsed: dict[str, Any] = self._parser.parse(
            {"body": to_wire(result), "headers": {}, "status_code": 200}, model.output_shape
        )
        parsed["ResponseMetadata"] = {"RequestId": request_id, "HTTPStatusCode": 200}
        return parsed
