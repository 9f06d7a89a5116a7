"""Server-side AWS Signature Version 4 verification.

The checks run in the order AWS's JSON services (Coral) run them, with their
error codes and wording:

1. no `Authorization` header, or one not starting with `AWS4-`
   -> MissingAuthenticationTokenException "Request is missing Authentication Token"
2. missing Credential / Signature / SignedHeaders, or no X-Amz-Date / Date header
   -> IncompleteSignatureException (all the problems, then "Authorization=<header>")
3. a date not in ISO-8601 basic format -> IncompleteSignatureException;
   more than 15 minutes off -> InvalidSignatureException "Signature expired: ..."
4. `host` not among the signed headers, or an X-Amz-* header that arrived
   unsigned -> InvalidSignatureException
5. an algorithm other than AWS4-HMAC-SHA256 -> IncompleteSignatureException
6. a credential that is not key/date/region/service/aws4_request
   -> IncompleteSignatureException; a wrong region, service, terminator or date
   in it -> InvalidSignatureException
7. an unknown access key id -> UnrecognizedClientException
8. a signature that does not match -> InvalidSignatureException

The signature itself is computed by botocore's own signer (botocore.auth.SigV4Auth)
over what arrived on the wire, told which headers the client signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from openrek.protocol.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from openrek.protocol.headers import WireHeaders

__all__ = ["SignedHeaders", "check_signature_headers", "verify_sigv4"]

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=15)
# The body hash a client signs when it streams a body it has not hashed (S3 uploads).
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

MISSING_TOKEN = "Request is missing Authentication Token"
UNKNOWN_KEY = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

_BASIC_DATE = re.compile(r"\d{8}T\d{6}Z")
_BASIC_FORMAT = "%Y%m%dT%H%M%SZ"


def _parse_authorization(header: str) -> tuple[str, dict[str, str]]:
    """Split 'ALGO Credential=..., SignedHeaders=..., Signature=...'."""
    algorithm, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise IncompleteSignatureException(
                f"'{part}' not a valid key=value pair (missing equal-sign) in "
                f"Authorization header: '{header}'."
            )
        params[key.strip()] = value.strip()
    return algorithm, params


def _request_time(headers: WireHeaders) -> str:
    """The request time as ISO-8601 basic text (what goes into the string to sign)."""
    amz_date = headers.get("x-amz-date")
    if amz_date is not None:
        text = amz_date.strip()
        if not _BASIC_DATE.fullmatch(text):
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{text}'. "
                "See http://en.wikipedia.org/wiki/ISO_8601"
            )
        return text
    # No X-Amz-Date: SigV4 falls back on the HTTP Date header (RFC 1123).
    http_date = headers.get("date") or ""
    try:
        parsed = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{http_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).strftime(_BASIC_FORMAT)
    except (OverflowError, ValueError):  # year 9999 at -10:00 is past datetime's range
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{http_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None


def _check_clock(stamp: str, now: datetime) -> None:
    try:
        signed_at = datetime.strptime(stamp, _BASIC_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # e.g. month 13: right shape, not a date
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{stamp}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    now_text = now.strftime(_BASIC_FORMAT)
    if signed_at < now - MAX_SKEW:
        raise InvalidSignatureException(
            f"Signature expired: {stamp} is now earlier than "
            f"{(now - MAX_SKEW).strftime(_BASIC_FORMAT)} ({now_text} - 15 min.)"
        )
    if signed_at > now + MAX_SKEW:
        raise InvalidSignatureException(
            f"Signature not yet current: {stamp} is still later than "
            f"{(now + MAX_SKEW).strftime(_BASIC_FORMAT)} ({now_text} + 15 min.)"
        )


class _SignedAs(SigV4Auth):
    """botocore's signer, signing exactly the headers the client said it signed."""

    def __init__(self, credentials: Credentials, service: str, region: str, names: list[str]) -> None:
        super().__init__(credentials, service, region)
        self._names = names

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._names:
            # A signed header that did not arrive is signed as empty, and will not match.
            for value in request.headers.get_all(name) or [""]:
                chosen[name] = value
        return chosen


def _expected_signature(
    method: str,
    path: str,
    query: str,
    headers: WireHeaders,
    body: bytes,
    signed_names: list[str],
    secret: str,
    key_id: str,
    stamp: str,
    region: str,
    service: str,
) -> str:
    # Only the path and query are read from the URL; Host is signed from its header.
    url = f"http://localhost{path or '/'}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body)
    for name in signed_names:
        for value in headers.get_all(name):
            request.headers[name] = value
    request.context["timestamp"] = stamp
    signer = _SignedAs(Credentials(key_id, secret), service, region, signed_names)
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))


@dataclass(frozen=True)
class SignedHeaders:
    """A request whose signature headers passed checks 1-7: what remains is the
    signature itself, over the body (check 8)."""

    method: str
    path: str
    query: str
    headers: WireHeaders
    signed_names: list[str]
    key_id: str
    secret: str
    stamp: str
    region: str
    service: str
    signature: str

    def verify(self, body: bytes) -> str:
        """Check 8; returns the access key id that signed the request."""
        payload_hash = hashlib.sha256(body).hexdigest()
        claimed_hash = self.headers.get("x-amz-content-sha256")
        if claimed_hash is not None and claimed_hash.strip() != payload_hash:
            # The client signed a hash of some other body (or UNSIGNED-PAYLOAD, which
            # JSON services do not honour): the body we hold is not what was signed.
            raise InvalidSignatureException(BAD_SIGNATURE)
        return self._signed_over(body)

    def verify_declared_payload(self) -> str:
        """Check 8 for an endpoint that streams a large body to disk (console/uploads.py),
        run before the body is read: botocore signs `X-Amz-Content-SHA256`'s value in
        place of the body's hash, so the signature is checked over that declared value.
        The caller then holds the body it streams to it: a hex SHA-256 must match, and
        `UNSIGNED-PAYLOAD` (as S3 uploads send) leaves the body unsigned. The API's own
        requests never come here: they are verified over the body they hold (`verify`)."""
        if not (self.headers.get("x-amz-content-sha256") or "").strip():
            raise InvalidSignatureException(
                "This endpoint requires the X-Amz-Content-SHA256 header "
                f"(the body's SHA-256, or {UNSIGNED_PAYLOAD})."
            )
        return self._signed_over(b"")

    def _signed_over(self, body: bytes) -> str:
        """The access key id, when the signature is this request's over `body`."""
        expected = _expected_signature(
            self.method,
            self.path,
            self.query,
            self.headers,
            body,
            self.signed_names,
            self.secret,
            self.key_id,
            self.stamp,
            self.region,
            self.service,
        )
        if not hmac.compare_digest(expected.encode(), self.signature.encode("utf-8", "replace")):
            raise InvalidSignatureException(BAD_SIGNATURE)
        return self.key_id


def verify_sigv4(
    method: str,
    path: str,
    query: str,
    headers: WireHeaders | Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime | None = None,
    *,
    region: str,
    service: str = "rekognition",
) -> str:
    """Verify a SigV4-signed request; return the access key id that signed it.

    `path` and `query` are as sent on the wire (still percent-encoded), `headers`
    every header as it arrived (a plain mapping is taken as one value each),
    `secrets` maps access key ids to secret keys, `region` is the one this server
    answers for. Raises the AWS error a real endpoint would answer.
    """
    signed = check_signature_headers(
        method, path, query, headers, secrets, now, region=region, service=service
    )
    return signed.verify(body)


def check_signature_headers(
    method: str,
    path: str,
    query: str,
    headers: WireHeaders | Mapping[str, str],
    secrets: Mapping[str, str],
    now: datetime | None = None,
    *,
    region: str,
    service: str = "rekognition",
) -> SignedHeaders:
    """Checks 1-7, which need no body: a server runs them before it reads one, so an
    unsigned client cannot make it hold 16 MiB."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # a naive `now` is taken as UTC
    now = now.astimezone(UTC)
    lowered = headers if isinstance(headers, WireHeaders) else WireHeaders.from_mapping(headers)

    # 1. Is the request signed at all?
    authorization = lowered.get("authorization") or ""
    if not authorization.strip().startswith("AWS4-"):
        raise MissingAuthenticationTokenException(MISSING_TOKEN)

    # 2. Are all the parts there?
    algorithm, params = _parse_authorization(authorization)
    problems = [
        f"Authorization header requires '{name}' parameter. "
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if "x-amz-date" not in lowered and "date" not in lowered:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        )
    if problems:
        raise IncompleteSignatureException("".join(problems) + f"Authorization={authorization}")

    # 3. Is it recent?
    stamp = _request_time(lowered)
    _check_clock(stamp, now)

    # 4. Is the host signed?
    signed_names = [name.strip().lower() for name in params["SignedHeaders"].split(";")]
    if "host" not in signed_names:
        raise InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    # An X-Amz-* header left out of the signature (X-Amz-Target above all) could be
    # changed by whoever captured the request; every SDK signs them all.
    unsigned = sorted(
        name for name in lowered.names() if name.startswith("x-amz-") and name not in signed_names
    )
    if unsigned:
        raise InvalidSignatureException(
            "There were headers present in the request which were not signed: " + ", ".join(unsigned)
        )

    # 5. Which algorithm?
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
        )

    # 6. Is the credential scoped right?
    credential = params["Credential"].rstrip("/")
    parts = credential.split("/")
    if len(parts) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    key_id, scope_date, scope_region, scope_service, terminator = parts
    scope_problems: list[str] = []
    if scope_region != region:
        scope_problems.append(f"Credential should be scoped to a valid region, not '{scope_region}'. ")
    if scope_service != service:
        scope_problems.append(f"Credential should be scoped to correct service: '{service}'. ")
    if terminator != TERMINATOR:
        scope_problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'. "
        )
    if scope_date != stamp[:8]:
        scope_problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{stamp[:8]}', from '{stamp}'."
        )
    if scope_problems:
        raise InvalidSignatureException("".join(scope_problems).strip())

    # 7. Do we know the key?
    secret = secrets.get(key_id)
    if secret is None:
        raise UnrecognizedClientException(UNKNOWN_KEY)

    return SignedHeaders(
        method=method.upper(),
        path=path,
        query=query,
        headers=lowered,
        signed_names=sorted(set(signed_names)),
        key_id=key_id,
        secret=secret,
        stamp=stamp,
        region=region,
        service=service,
        signature=params["Signature"],
    )
