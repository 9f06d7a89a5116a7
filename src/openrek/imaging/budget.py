"""A memory budget for the image decodes in flight.

A 175 KB PNG can declare 60 million pixels; decoding it holds about 240 MB for a
moment. Requests that decode at once share one budget: a decode that does not fit
waits for others to finish, and when too many already wait the request is refused
with AWS's ProvisionedThroughputExceededException rather than queued without end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from openrek.protocol.errors import ProvisionedThroughputExceededException

BUSY = "Provisioned rate exceeded: too many large images are being decoded; retry later"


class PixelBudget:
    def __init__(self, capacity: int, max_waiting: int, wait_seconds: float = 60.0) -> None:
        if capacity <= 0 or max_waiting < 0:
            raise ValueError("a budget needs a positive capacity and a non-negative queue")
        self.capacity = capacity
        self._max_waiting = max_waiting
        self._wait_seconds = wait_seconds
        self._in_use = 0
        self._waiting = 0
        self._changed = threading.Condition()

    @property
    def in_use(self) -> int:
        with self._changed:
            return self._in_use

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        # One decode bigger than the whole budget still runs, alone.
        amount = min(max(amount, 0), self.capacity)
        with self._changed:
            if self._in_use + amount > self.capacity:
                if self._waiting >= self._max_waiting:
                    raise ProvisionedThroughputExceededException(BUSY)
                self._waiting += 1
                try:
                    fits = self._changed.wait_for(
                        lambda: self._in_use + amount <= self.capacity, self._wait_seconds
                    )
                finally:
                    self._waiting -= 1
                if not fits:
                    raise ProvisionedThroughputExceededException(BUSY)
            self._in_use += amount
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= amount
                self._changed.notify_all()
