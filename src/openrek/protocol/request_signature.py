"""The body-free part of a request's SigV4 check, for every HTTP door of the server
(the API, console uploads): one place reads the request line and the configured keys."""

from __future__ import annotations

from starlette.requests import Request

from openrek.config import Settings
from openrek.protocol.auth import SignedHeaders, check_signature_headers
from openrek.protocol.headers import WireHeaders


def signed_headers_of(request: Request, headers: WireHeaders, settings: Settings) -> SignedHeaders | None:
    """With access keys configured, nothing is answered without a valid signature:
    everything but the body's part of it is checked here, before the body is read.
    None where no keys are configured (the server is open)."""
    if not settings.access_keys:
        return None
    return check_signature_headers(
        request.method,
        request.scope["raw_path"].decode("latin-1"),
        request.scope["query_string"].decode("latin-1"),
        headers,
        settings.access_keys,
        region=settings.region,
    )
