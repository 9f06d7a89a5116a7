"""The service model's patterns are Java regular expressions; this reads them in Python."""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

# The model's patterns are written for java.util.regex. Python's `re` reads most
# of them the same way, with these differences taken care of:
# * `\p{L}`, `\p{Z}`, `\p{N}` (Unicode categories) do not exist in `re`; they are
#   expanded into explicit code point ranges.
# * Java's `\d \w \s \b` are ASCII-only by default, Python's are Unicode-aware on
#   str: patterns are compiled with re.ASCII (explicit ranges still match any
#   code point).
# * Java's `.` stops at every line terminator, Python's only at `\n`.
# * Java's `\z` is Python's `\Z`; Java's `\Z` lets one final line terminator by.

_JAVA_DOT = "[^\\n\\r\\u0085\\u2028\\u2029]"
_JAVA_END_BEFORE_TERMINATOR = "(?=(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])?\\Z)"
_CATEGORY_NAME = re.compile(r"(?:Is|gc=|general_category=)?([A-Z][a-z]?)")


@functools.cache
def _category_table() -> dict[str, tuple[tuple[int, int], ...]]:
    """Code point ranges of each two-letter Unicode general category.

    One sweep of all of Unicode takes about half a second, so it runs once, and
    only when a pattern uses `\\p{...}` (the tag patterns do).
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    start, current = 0, unicodedata.category("\0")
    for cp in range(1, sys.maxunicode + 2):
        category = unicodedata.category(chr(cp)) if cp <= sys.maxunicode else ""
        if category != current:
            spans.setdefault(current, []).append((start, cp - 1))
            start, current = cp, category
    return {name: tuple(ranges) for name, ranges in spans.items()}


@functools.cache
def _category_class_body(name: str) -> str:
    """The inside of a character class matching category `name` ('L', 'Lu', ...)."""
    spans = sorted(
        span for category, ranges in _category_table().items() if category.startswith(name) for span in ranges
    )
    if not spans:
        raise ValueError(f"unknown Unicode category {name!r}")
    # \U escapes keep surrogates, ']' and '-' from being read as class syntax.
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in spans)


def _read_property(pattern: str, index: int) -> tuple[str, int]:
    """Parse the name of `\\p{Name}` / `\\pL` starting at pattern[index]."""
    if pattern.startswith("{", index):
        close = pattern.find("}", index)
        if close < 0:
            raise ValueError(f"unterminated \\p{{ in pattern {pattern!r}")
        name, end = pattern[index + 1 : close], close + 1
    elif index < len(pattern):
        name, end = pattern[index], index + 1
    else:
        raise ValueError(f"dangling \\p in pattern {pattern!r}")
    match = _CATEGORY_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"unsupported property \\p{{{name}}} in pattern {pattern!r}")
    return _category_class_body(match.group(1)), end


def _translate_java(pattern: str) -> str:
    """Rewrite a Java regex as a Python one with the same meaning."""
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise ValueError(f"pattern ends with a backslash: {pattern!r}")
            nxt = pattern[i + 1]
            if nxt in "pP":
                body, i = _read_property(pattern, i + 2)
                if not in_class:
                    out.append(("[^" if nxt == "P" else "[") + body + "]")
                elif nxt == "p":
                    out.append(body)
                else:
                    # Would need set subtraction, which `re` lacks; no model uses it.
                    raise ValueError(f"\\P inside a character class: {pattern!r}")
                continue
            if nxt == "Q":  # \Q...\E quotes literally
                close = pattern.find("\\E", i + 2)
                stop = n if close < 0 else close
                out.append(re.escape(pattern[i + 2 : stop]))
                i = n if close < 0 else close + 2
                continue
            if not in_class and nxt == "z":
                out.append("\\Z")
            elif not in_class and nxt == "Z":
                out.append(_JAVA_END_BEFORE_TERMINATOR)
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            if ch == "[":
                # Java class unions/intersections; `re` would misread them.
                raise ValueError(f"nested character class in pattern {pattern!r}")
            if ch == "]":
                in_class = False
            # '&', '~', '|' doubled are reserved set syntax that makes `re` warn.
            out.append("\\" + ch if ch in "&~|" else ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            prefix = "[^" if pattern.startswith("^", i + 1) else "["
            out.append(prefix)
            i += len(prefix)
            continue
        out.append(_JAVA_DOT if ch == "." else ch)
        i += 1
    if in_class:
        raise ValueError(f"unterminated character class in pattern {pattern!r}")
    return "".join(out)


@functools.cache
def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Compile, once, a Java regex of the model; use it with `fullmatch`
    (AWS checks patterns with `Matcher.matches()`, against the whole value)."""
    return re.compile(_translate_java(pattern), re.ASCII)
