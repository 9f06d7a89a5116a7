"""SigV4 verification against requests signed by botocore's own signer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.client import HTTPMessage
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openrek.protocol.auth import verify_sigv4
from openrek.protocol.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from openrek.protocol.headers import WireHeaders

ENDPOINT = "http://127.0.0.1:8765/"
KEY_ID = "AKIDOPENREKTEST0001"
SECRET = "openrek/secret+key/for=tests"
SECRETS = {KEY_ID: SECRET, "AKIDOTHER": "another-secret"}
BODY = json.dumps({"Image": {"S3Object": {"Bucket": "bucket", "Name": "face.jpg"}}}).encode()


class Wire:
    """A signed request as the server would receive it."""

    def __init__(self, request: AWSRequest) -> None:
        assert request.method is not None and request.url is not None
        parts = urlsplit(request.url)
        self.method = request.method
        self.path = parts.path or "/"
        self.query = parts.query
        # The HTTP client adds Host; botocore signed it from the URL.
        self.headers = {name.lower(): value for name, value in request.headers.items()}
        self.headers["host"] = parts.netloc
        self.body = request.body if isinstance(request.body, bytes) else b""

    def verify(
        self,
        *,
        headers: WireHeaders | Mapping[str, str] | None = None,
        body: bytes | None = None,
        now: datetime | None = None,
        region: str = "us-east-1",
    ) -> str:
        """verify_sigv4 on this request, with any of headers, body, now or region replaced."""
        return verify_sigv4(
            method=self.method,
            path=self.path,
            query=self.query,
            headers=self.headers if headers is None else headers,
            body=self.body if body is None else body,
            secrets=SECRETS,
            now=now,
            region=region,
        )


def signed(
    body: bytes = BODY,
    *,
    url: str = ENDPOINT,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "rekognition",
) -> Wire:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "X-Amz-Target": "RekognitionService.DetectFaces",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(key_id, secret), service, region).add_auth(request)
    return Wire(request)


def test_accepts_a_botocore_signature() -> None:
    assert signed().verify() == KEY_ID


def test_accepts_the_configured_region_and_case_insensitive_header_names() -> None:
    wire = signed(region="eu-west-3")
    mixed = {name.title(): value for name, value in wire.headers.items()}
    assert wire.verify(headers=mixed, region="eu-west-3") == KEY_ID


def test_rejects_a_credential_scoped_to_another_region() -> None:
    with pytest.raises(InvalidSignatureException) as info:
        signed(region="eu-west-3").verify()
    assert info.value.message == "Credential should be scoped to a valid region, not 'eu-west-3'."


def test_a_repeated_signed_header_is_read_as_sigv4_joins_it() -> None:
    """An unsigned X-Amz-Target placed before the signed one must break the signature."""
    wire = signed()
    pairs = [("x-amz-target", "RekognitionService.DeleteCollection"), *wire.headers.items()]
    headers = WireHeaders(pairs)
    assert headers.get("x-amz-target") == (
        "RekognitionService.DeleteCollection,RekognitionService.DetectFaces"
    )
    with pytest.raises(InvalidSignatureException):
        wire.verify(headers=headers)
    assert wire.verify(headers=WireHeaders(wire.headers.items())) == KEY_ID


def test_a_signed_header_that_never_arrived_does_not_match() -> None:
    wire = signed()
    del wire.headers["x-amz-target"]
    with pytest.raises(InvalidSignatureException):
        wire.verify()


def test_accepts_a_query_string_and_odd_path() -> None:
    wire = signed(url=ENDPOINT + "a/./b/../c%20d/?z=1&a=x%2Fy&a=b")
    assert wire.verify() == KEY_ID


def test_accepts_an_empty_body() -> None:
    assert signed(b"").verify() == KEY_ID


def test_rejects_a_tampered_body() -> None:
    wire = signed()
    with pytest.raises(InvalidSignatureException) as info:
        wire.verify(body=BODY.replace(b"face.jpg", b"evil.jpg"))
    assert info.value.message.startswith("The request signature we calculated does not match")


def test_rejects_a_tampered_signed_header() -> None:
    wire = signed()
    wire.headers["x-amz-target"] = "RekognitionService.DeleteCollection"
    with pytest.raises(InvalidSignatureException):
        wire.verify()


def test_rejects_a_wrong_secret() -> None:
    with pytest.raises(InvalidSignatureException) as info:
        signed(secret="not-the-secret").verify()
    assert info.value.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


def test_rejects_an_unknown_key() -> None:
    with pytest.raises(UnrecognizedClientException) as info:
        signed(key_id="AKIDUNKNOWN").verify()
    assert info.value.message == "The security token included in the request is invalid."


def test_rejects_a_stale_request() -> None:
    wire = signed()
    later = datetime.now(UTC) + timedelta(minutes=16)
    with pytest.raises(InvalidSignatureException) as info:
        wire.verify(now=later)
    assert info.value.message.startswith("Signature expired: ")
    assert info.value.message.endswith(" - 15 min.)")


def test_rejects_a_request_from_the_future() -> None:
    wire = signed()
    earlier = datetime.now(UTC) - timedelta(minutes=16)
    with pytest.raises(InvalidSignatureException) as info:
        wire.verify(now=earlier)
    assert info.value.message.startswith("Signature not yet current: ")


def test_accepts_small_clock_skew() -> None:
    wire = signed()
    assert wire.verify(now=datetime.now(UTC) + timedelta(minutes=14)) == KEY_ID


def test_rejects_a_missing_authorization_header() -> None:
    wire = signed()
    del wire.headers["authorization"]
    with pytest.raises(MissingAuthenticationTokenException) as info:
        wire.verify()
    assert info.value.message == "Request is missing Authentication Token"


def test_rejects_a_non_sigv4_authorization_header() -> None:
    wire = signed()
    wire.headers["authorization"] = "Bearer abc"
    with pytest.raises(MissingAuthenticationTokenException):
        wire.verify()


def test_rejects_an_incomplete_authorization_header() -> None:
    wire = signed()
    wire.headers["authorization"] = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/x/y"
    with pytest.raises(IncompleteSignatureException) as info:
        wire.verify()
    assert info.value.message == (
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization=AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/x/y"
    )


def test_rejects_a_missing_date() -> None:
    wire = signed()
    del wire.headers["x-amz-date"]
    with pytest.raises(IncompleteSignatureException) as info:
        wire.verify()
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in info.value.message


def test_rejects_a_malformed_date() -> None:
    wire = signed()
    wire.headers["x-amz-date"] = "2024-01-01T00:00:00Z"
    with pytest.raises(IncompleteSignatureException) as info:
        wire.verify()
    assert info.value.message.startswith("Date must be in ISO-8601 'basic format'.")


def test_rejects_a_pair_without_equal_sign() -> None:
    wire = signed()
    wire.headers["authorization"] = wire.headers["authorization"] + ", Oops"
    with pytest.raises(IncompleteSignatureException) as info:
        wire.verify()
    assert "'Oops' not a valid key=value pair (missing equal-sign)" in info.value.message


def test_rejects_the_wrong_service_in_the_scope() -> None:
    with pytest.raises(InvalidSignatureException) as info:
        signed(service="s3").verify()
    assert info.value.message == "Credential should be scoped to correct service: 'rekognition'."


def test_rejects_an_unsupported_algorithm() -> None:
    wire = signed()
    wire.headers["authorization"] = wire.headers["authorization"].replace(
        "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1
    )
    with pytest.raises(IncompleteSignatureException) as info:
        wire.verify()
    assert info.value.message.startswith("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'")


def test_rejects_unsigned_host() -> None:
    wire = signed()
    wire.headers["authorization"] = wire.headers["authorization"].replace(
        "SignedHeaders=content-type;host;", "SignedHeaders=content-type;"
    )
    with pytest.raises(InvalidSignatureException) as info:
        wire.verify()
    assert info.value.message == "'Host' must be a 'SignedHeader' in the AWS Authorization."


def test_rejects_a_short_credential() -> None:
    wire = signed()
    auth = wire.headers["authorization"]
    wire.headers["authorization"] = auth.replace("/us-east-1/", "/", 1)
    with pytest.raises(IncompleteSignatureException) as info:
        wire.verify()
    assert info.value.message.startswith("Credential must have exactly 5 slash-delimited elements")


def test_rejects_a_mismatched_content_hash_header() -> None:
    wire = signed()
    wire.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    with pytest.raises(InvalidSignatureException):
        wire.verify()


def test_an_unsigned_target_header_is_refused() -> None:
    """A client that signed only host and date: its operation could be swapped in transit."""
    request = AWSRequest(
        method="POST",
        url=ENDPOINT,
        data=BODY,
        headers={"X-Amz-Target": "RekognitionService.ListCollections"},
    )

    class HostAndDateOnly(SigV4Auth):
        def headers_to_sign(self, request: AWSRequest) -> HTTPMessage:
            chosen = super().headers_to_sign(request)
            del chosen["x-amz-target"]
            return chosen

    HostAndDateOnly(Credentials(KEY_ID, SECRET), "rekognition", "us-east-1").add_auth(request)
    wire = Wire(request)
    assert "x-amz-target" not in wire.headers["authorization"].split("SignedHeaders=")[1]
    wire.headers["x-amz-target"] = "RekognitionService.DeleteCollection"
    with pytest.raises(InvalidSignatureException) as info:
        wire.verify()
    assert info.value.message.endswith("not signed: x-amz-target")


def test_a_date_past_the_calendar_is_an_incomplete_signature() -> None:
    wire = signed()
    del wire.headers["x-amz-date"]
    wire.headers["date"] = "Fri, 31 Dec 9999 23:59:59 -1000"
    with pytest.raises(IncompleteSignatureException):
        wire.verify()
