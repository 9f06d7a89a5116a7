"""Decoding ahead on a thread: same items in the same order, errors where they happened,
and a consumer that stops early stops the reader."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator

import pytest

from openrek.video.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("truncated at 3")

    seen: list[int] = []
    with pytest.raises(ValueError, match="truncated at 3"):
        for item in prefetched(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_source_and_ends_the_thread() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            number = 0
            while True:
                produced.append(number)
                yield number
                number += 1
        finally:
            closed.set()

    reader = prefetched(endless(), depth=2)
    assert isinstance(reader, Generator)  # declared an Iterator; closing it is what is tested
    assert next(reader) == 0
    reader.close()
    assert closed.is_set()
    assert len(produced) <= 5  # read ahead by at most the queue's depth (+ one in hand)
    assert not any(t.name == "openrek-decode" and t.is_alive() for t in threading.enumerate())
