"""Idempotency locks: one holder per key, and no entry left once nobody holds it."""

from __future__ import annotations

import threading
import time

from openrek.storage.keyed_locks import KeyedLocks


def test_entries_leave_with_their_last_user() -> None:
    locks = KeyedLocks()
    for token in range(1000):
        with locks.hold(f"scope:{token}"):
            assert len(locks) == 1
    assert len(locks) == 0


def test_one_key_admits_one_holder_at_a_time() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {}
    peak: dict[str, int] = {}
    together = [0]
    guard = threading.Lock()

    def work(key: str) -> None:
        with locks.hold(key):
            with guard:
                inside[key] = inside.get(key, 0) + 1
                peak[key] = max(peak.get(key, 0), inside[key])
                together[0] = max(together[0], sum(inside.values()))
            time.sleep(0.02)
            with guard:
                inside[key] -= 1

    threads = [threading.Thread(target=work, args=("same",)) for _ in range(5)]
    threads += [threading.Thread(target=work, args=(f"other{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(locks) == 0
    assert peak["same"] == 1
    assert together[0] >= 2  # different keys do run together
