"""Opaque, tamper-evident pagination tokens.

A token carries the last key of the page it ends (so the next page is "keys greater than
this", which stays correct while rows are added or removed between calls) and a MAC over
that key and the listing it belongs to. The MAC key is a random secret kept in the
database, so every process sharing the file accepts the same tokens and restarts don't
invalidate them, while an edited token or one from another listing is refused.

Layout before base64url (no padding): version (1) | mac (8) | flags (1) | [rowid (8)] | key.
Tokens must fit AWS's 255-character limit, which leaves 181 bytes for an inline key. A longer
key (only collection ids can be, up to 255 characters) is replaced by the rowid of its row plus
its first 150 bytes; the listing resolves the rowid back to the key (see `Cursor`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from .base import InvalidPageToken

_VERSION = 1
_MAC_BYTES = 8
_HEADER = 1 + _MAC_BYTES + 1
MAX_TOKEN_CHARS = 255
_MAX_INLINE_KEY = MAX_TOKEN_CHARS * 3 // 4 - _HEADER  # 181 bytes
_PREFIX_BYTES = 150
_FLAG_ROWID = 1


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts.

    `key` is the last key returned when `rowid` is None. Otherwise the key was too long to
    inline: `key` is only its prefix and `rowid` names its row, whose full key the listing
    should use if the row still exists (and still starts with the prefix); if it is gone,
    resuming after the prefix is the best remaining choice (it may repeat a few rows that
    share the prefix, never skip one)."""

    key: str
    rowid: int | None = None


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        if not 16 <= len(secret) <= 64:
            raise ValueError("secret must be 16-64 bytes")
        self._secret = secret

    def _mac(self, scope: str, body: bytes) -> bytes:
        # Keyed BLAKE2b is a MAC by design (no HMAC construction needed).
        mac = hashlib.blake2b(key=self._secret, digest_size=_MAC_BYTES)
        mac.update(scope.encode("utf-8") + b"\x00" + body)
        return mac.digest()

    def encode(self, scope: str, key: str, rowid: int | None = None) -> str:
        """Token for the page after `key` in the listing named by `scope`."""
        raw = key.encode("utf-8")
        if len(raw) <= _MAX_INLINE_KEY:
            body = bytes([0]) + raw
        elif rowid is not None:
            prefix = raw[:_PREFIX_BYTES].decode("utf-8", errors="ignore").encode("utf-8")
            body = bytes([_FLAG_ROWID]) + struct.pack(">q", rowid) + prefix
        else:
            raise ValueError(f"page key of {len(raw)} bytes needs a rowid")
        packed = bytes([_VERSION]) + self._mac(scope, body) + body
        return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")

    def decode(self, scope: str, token: str) -> Cursor:
        """Cursor of a token made by `encode` for the same scope, else InvalidPageToken."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            raise InvalidPageToken("malformed pagination token")
        try:
            packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidPageToken("malformed pagination token") from exc
        if len(packed) < _HEADER or packed[0] != _VERSION:
            raise InvalidPageToken("malformed pagination token")
        mac, body = packed[1 : 1 + _MAC_BYTES], packed[1 + _MAC_BYTES :]
        if not hmac.compare_digest(mac, self._mac(scope, body)):
            raise InvalidPageToken("pagination token does not belong to this listing")
        try:
            if body[0] == _FLAG_ROWID:
                (rowid,) = struct.unpack(">q", body[1:9])
                return Cursor(body[9:].decode("utf-8"), rowid)
            if body[0] == 0:
                return Cursor(body[1:].decode("utf-8"))
        except (struct.error, UnicodeDecodeError) as exc:
            raise InvalidPageToken("malformed pagination token") from exc
        raise InvalidPageToken("malformed pagination token")
