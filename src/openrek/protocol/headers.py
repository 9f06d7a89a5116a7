"""A request's headers exactly as they arrived: every occurrence, in order.

Signature checks and dispatch must read the same value. A header sent twice is
read as SigV4 canonicalises it (the values joined with ','), everywhere, so an
unsigned copy placed before a signed one can neither pass as signed nor pick
the operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class WireHeaders:
    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name.lower(), []).append(value)

    @classmethod
    def from_asgi(cls, raw: Iterable[tuple[bytes, bytes]]) -> WireHeaders:
        return cls((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)

    @classmethod
    def from_mapping(cls, headers: Mapping[str, str]) -> WireHeaders:
        return cls(headers.items())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def names(self) -> list[str]:
        """Every header name that arrived, lower-cased, once each."""
        return list(self._values)

    def get_all(self, name: str) -> list[str]:
        return list(self._values.get(name.lower(), ()))

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name.lower())
        return ",".join(values) if values else default

    def count(self, name: str) -> int:
        return len(self._values.get(name.lower(), ()))
