"""Freed heap memory handed back to the OS (glibc's malloc_trim)."""

from __future__ import annotations

import asyncio
import platform
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from openrek.heap import QuietTrim, release_free_memory


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_heap_pages_go_back_to_the_os() -> None:
    # 160 MiB in 64 KiB blocks (under glibc's mmap threshold, so on the heap), then a
    # block that stays, so the freed pages sit below the top where glibc keeps them.
    blocks = [np.ones(8192, dtype=np.float64) for _ in range(2560)]
    pin = np.ones(8192, dtype=np.float64)
    blocks.clear()
    kept = rss_mib()
    assert release_free_memory()
    assert rss_mib() < kept - 100  # most of the 160 MiB returned
    assert pin.sum() == 8192


def test_a_quiet_server_trims_once_and_a_busy_one_waits() -> None:
    trims: list[float] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as executor:
            quiet = QuietTrim(executor, delay_s=0.05, trim=lambda: trims.append(loop.time()))
            # Requests arriving closer together than the delay: no trim between them.
            for _ in range(5):
                quiet.start(loop)
                await asyncio.sleep(0.01)
                quiet.cancel()
            assert trims == []
            quiet.start(loop)
            await asyncio.sleep(0.2)
        assert len(trims) == 1

    # On a thread of its own: a browser test earlier in the session (Playwright's sync
    # API) can leave an event loop running on this one, where asyncio.run refuses.
    with ThreadPoolExecutor(1) as runner:
        runner.submit(asyncio.run, scenario()).result()
