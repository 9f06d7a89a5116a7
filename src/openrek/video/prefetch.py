"""Decoding ahead of analysis: a thread reads the next frames while the models work on
this one.

FFmpeg decodes and converts to RGB without holding Python's lock, and onnxruntime
runs without it too, so the two overlap instead of taking turns. The queue holds a
few frames only: a 1080p RGB frame is 6 MB, and a fast decoder must not run a long
video into memory ahead of slow models.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

Item = TypeVar("Item")

DEFAULT_DEPTH = 3
_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterator[Item], depth: int = DEFAULT_DEPTH) -> Iterator[Item]:
    """`items`, read by a background thread up to `depth` ahead. An exception raised
    while reading is raised here, at the point in the sequence where it happened.
    Closing this generator early (a stopped job) stops the thread at its next item."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    abandoned = threading.Event()

    def put(item: object) -> bool:
        while not abandoned.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(_Failure(error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None and abandoned.is_set():
                close()  # the decoder's file is closed by the thread that used it
        put(_END)

    reader = threading.Thread(target=read, name="openrek-decode", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield cast(Item, item)
    finally:
        abandoned.set()
        reader.join()
