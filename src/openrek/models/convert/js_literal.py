"""Read JavaScript literals as data, never running them.

nsfwjs ships its TF.js model.json and weight shards as browserify bundles: the JSON
becomes a minified object literal and a shard a base64 string, each assigned to
`module.exports`. Running a bundle from a registry package is not something a pull
should do, so the literal is parsed here instead: JSON plus what minifiers write,
namely unquoted keys, `!0` / `!1`, numbers such as `.5`, single-quoted strings and
`void 0`.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar


class JsLiteralError(ValueError):
    """The text is not a literal this reader understands."""


def is_javascript_bundle(data: bytes) -> bool:
    """A bundle's prelude is plain ASCII naming `exports`; raw weights or JSON are not both."""
    head = data[:4096]
    return head.isascii() and b"exports" in head and not head.lstrip().startswith(b"{")


def exported_value(data: bytes) -> Any:
    """The value a bundle assigns to `exports` (an object, array or string literal)."""
    text = data.decode("utf-8")
    found = re.search(r"\.exports\s*=\s*(?=[{\"'\[])", text)
    if not found:
        raise JsLiteralError("JavaScript bundle without an `exports = <literal>` assignment")
    value, _ = read_js_literal(text, found.end())
    return value


def read_js_literal(text: str, at: int = 0) -> tuple[Any, int]:
    """The literal starting at offset `at`, and the offset just after it."""
    reader = _Reader(text, at)
    return reader.value(), reader.at


class _Reader:
    _NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
    _WORD = re.compile(r"[A-Za-z_$][\w$]*")
    _CONSTANTS: ClassVar[dict[str, Any]] = {"true": True, "false": False, "null": None, "undefined": None}

    def __init__(self, text: str, at: int) -> None:
        self.text, self.at = text, at

    def _skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t\r\n":
            self.at += 1

    def _fail(self, what: str) -> JsLiteralError:
        return JsLiteralError(f"JavaScript literal: {what} at offset {self.at}")

    def value(self) -> Any:
        self._skip()
        char = self.text[self.at]
        if char == "{":
            return self._object()
        if char == "[":
            return self._array()
        if char in "\"'":
            return self._string()
        if char == "!" and self.text[self.at + 1] in "01":
            self.at += 2
            return self.text[self.at - 1] == "0"
        if self.text.startswith("void 0", self.at):
            self.at += 6
            return None
        number = self._NUMBER.match(self.text, self.at)
        if number:
            self.at = number.end()
            literal = number.group()
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        word = self._WORD.match(self.text, self.at)
        if word and word.group() in self._CONSTANTS:
            self.at = word.end()
            return self._CONSTANTS[word.group()]
        raise self._fail(f"unexpected {char!r}")

    def _expect(self, char: str) -> None:
        self._skip()
        if self.text[self.at] != char:
            raise self._fail(f"expected {char!r}")
        self.at += 1

    def _object(self) -> dict[str, Any]:
        self._expect("{")
        result: dict[str, Any] = {}
        while True:
            self._skip()
            if self.text[self.at] == "}":
                self.at += 1
                return result
            if self.text[self.at] in "\"'":
                key = self._string()
            else:
                word = self._WORD.match(self.text, self.at) or self._NUMBER.match(self.text, self.at)
                if not word:
                    raise self._fail("expected a key")
                key, self.at = word.group(), word.end()
            self._expect(":")
            result[key] = self.value()
            self._skip()
            if self.text[self.at] == ",":
                self.at += 1

    def _array(self) -> list[Any]:
        self._expect("[")
        result: list[Any] = []
        while True:
            self._skip()
            if self.text[self.at] == "]":
                self.at += 1
                return result
            result.append(self.value())
            self._skip()
            if self.text[self.at] == ",":
                self.at += 1

    def _string(self) -> str:
        quote = self.text[self.at]
        end = self.at + 1
        while self.text[end] != quote:
            end += 2 if self.text[end] == "\\" else 1
        raw = self.text[self.at + 1 : end]
        self.at = end + 1
        if "\\" not in raw:
            return raw
        # A JSON string reads the same escapes once its quotes are JSON's.
        return str(json.loads('"' + raw.replace("\\'", "'").replace('"', '\\"') + '"'))
