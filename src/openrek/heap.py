"""Giving freed heap memory back to the operating system.

glibc keeps what a request freed in its per-thread arenas for reuse: after a burst
of large images a server measured 1.5 GB resident where 0.4 GB was in use. Trimming
once the server goes quiet returns it; the call costs milliseconds and runs only then.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)  # glibc only (not musl, macOS)
    return trim if callable(trim) else None


def release_free_memory() -> bool:
    """Return freed heap pages to the OS; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
