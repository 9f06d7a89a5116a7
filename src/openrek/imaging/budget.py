"""A memory budget for the images of the requests in flight.

A 175 KB PNG can declare 60 million pixels; decoding it holds about 240 MB, and
analysing what it became holds hundreds more until the answer is sent. Each request
charges the bytes its decode needs to one shared budget and keeps the charge until
it ends (see request_scope): a request that does not fit waits for others to
finish, and when too many already wait it is refused with AWS's
ProvisionedThroughputExceededException rather than queued without end.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field

from openrek.heap import release_free_memory
from openrek.protocol.errors import ProvisionedThroughputExceededException

BUSY = "Provisioned rate exceeded: too many large images are being analysed; retry later"


@dataclass
class _Holdings:
    """What one request holds, given back when it ends."""

    releases: ExitStack = field(default_factory=ExitStack)
    charged: int = 0


_current: ContextVar[_Holdings | None] = ContextVar("openrek_request_holdings", default=None)


# A request that decoded this much leaves its worker thread's heap arena swollen
# with freed pages; they are handed back as it ends (see openrek.heap).
TRIM_AFTER_BYTES = 32 * 1024 * 1024


@contextmanager
def request_scope() -> Iterator[None]:
    """One request: every charge made to a budget inside is held until it ends."""
    holdings = _Holdings()
    token = _current.set(holdings)
    try:
        with holdings.releases:
            yield
    finally:
        _current.reset(token)
        if holdings.charged >= TRIM_AFTER_BYTES:
            release_free_memory()


class PixelBudget:
    def __init__(self, capacity: int, max_waiting: int, wait_seconds: float = 60.0) -> None:
        if capacity <= 0 or max_waiting < 0:
            raise ValueError("a budget needs a positive capacity and a non-negative queue")
        self.capacity = capacity
        self._max_waiting = max_waiting
        self._wait_seconds = wait_seconds
        self._in_use = 0
        self._queue: deque[int] = deque()  # tickets of the waiting charges, in arrival order
        self._next_ticket = 0
        self._changed = threading.Condition()

    @property
    def in_use(self) -> int:
        with self._changed:
            return self._in_use

    def charge_request(self, amount: int) -> AbstractContextManager[None]:
        """Reserve `amount` until the current request ends (see request_scope);
        outside a request, for the returned context only."""
        holdings = _current.get()
        if holdings is None:
            return self.reserve(amount)
        # A request that already holds a share (CompareFaces' second image) never
        # waits for the others: two such requests could wait for each other forever.
        holdings.releases.enter_context(self.reserve(amount, wait=not holdings.charged))
        holdings.charged += amount
        return nullcontext()

    @contextmanager
    def reserve(self, amount: int, wait: bool = True) -> Iterator[None]:
        # One charge bigger than the whole budget still runs, alone.
        amount = min(max(amount, 0), self.capacity)
        with self._changed:
            if wait and (self._queue or self._in_use + amount > self.capacity):
                self._wait_in_turn(amount)
            self._in_use += amount
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= amount
                self._changed.notify_all()

    def _wait_in_turn(self, amount: int) -> None:
        """First come, first served: a large charge is not passed over for ever by
        smaller ones that keep fitting. Called with the condition held."""
        if len(self._queue) >= self._max_waiting:
            raise ProvisionedThroughputExceededException(BUSY)
        ticket = self._next_ticket
        self._next_ticket += 1
        self._queue.append(ticket)
        try:
            admitted = self._changed.wait_for(
                lambda: self._queue[0] == ticket and self._in_use + amount <= self.capacity,
                self._wait_seconds,
            )
        finally:
            self._queue.remove(ticket)
            self._changed.notify_all()  # the next in line may fit now
        if not admitted:
            raise ProvisionedThroughputExceededException(BUSY)
