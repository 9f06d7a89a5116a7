"""Custom Labels' background work, claimed from the store by whichever process runs work.

A request records what is to be done as a status on the dataset or version (records.
DATASET_WORK, VERSION_WORK) and wakes this loop; it never runs the work itself. The loop
claims an item by stamping its holder, a lease and the next attempt number inside one
project edit, runs it on a thread, renews the lease while it runs, and records the
outcome only while the item still carries its claim:

- Embedded store: this process is the only one, so any other holder is a process that
  stopped; its work is claimed again at once (a training restarts from the beginning).
- Shared store: any server (unless `--no-run-jobs`) or `openrek worker` claims; an item
  whose holder died is claimed again once its lease runs out, and a holder that finds
  its claim gone (its lease ran out while it was cut off) stops and drops its result.

Trainings run one at a time per process (on a CPU a second one only halves both); other
work is short. After MAX_ATTEMPTS claims that all ended without an outcome, the work fails.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openrek.custom_labels.records import (
    COPYING_FAILED,
    COPYING_IN_PROGRESS,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    DATASET_WORK,
    FAILED,
    STARTING,
    STOPPED,
    STOPPING,
    TRAINING_FAILED,
    TRAINING_IN_PROGRESS,
    VERSION_WORK,
    Dataset,
    Missing,
    Project,
    Version,
    now,
)
from openrek.custom_labels.store import ProjectEdit

if TYPE_CHECKING:
    from openrek.custom_labels.service import CustomLabels

log = logging.getLogger("openrek.custom_labels")

CLAIM_POLL_S = 1.0
PROGRESS_EVERY_S = 1.0  # how often a training's progress (and its lease) is written
MAX_ATTEMPTS = {TRAINING_IN_PROGRESS: 2, CREATE_IN_PROGRESS: 3, COPYING_IN_PROGRESS: 3, STARTING: 3}
MAX_OTHER_WORK = 4
FAILED_STATUS = {
    TRAINING_IN_PROGRESS: TRAINING_FAILED,
    CREATE_IN_PROGRESS: CREATE_FAILED,
    COPYING_IN_PROGRESS: COPYING_FAILED,
    STARTING: FAILED,
}

Item = Dataset | Version


class ClaimLost(Exception):
    """The work's claim passed to another process: stop, and record nothing."""


@dataclass(frozen=True)
class Claim:
    project: str
    is_dataset: bool
    name: str  # the dataset's type or the version's name
    status: str  # the work: the status it was claimed in
    attempt: int


def item_of(project: Project, claim: Claim) -> Item | None:
    return (project.datasets if claim.is_dataset else project.versions).get(claim.name)


class WorkLoop:
    def __init__(self, service: CustomLabels, lease_s: float) -> None:
        self._service = service
        self._store = service.store
        self.lease_s = lease_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._training = ThreadPoolExecutor(1, thread_name_prefix="openrek-training")
        self._other = ThreadPoolExecutor(2, thread_name_prefix="openrek-custom-labels")
        self._held: dict[Claim, float] = {}  # claim -> when its progress was last written
        self._lost: set[Claim] = set()
        self._held_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="openrek-custom-labels-claims", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._training.shutdown(wait=False, cancel_futures=True)
        self._other.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        last_renewal = time.monotonic()
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_renewal >= self.lease_s / 3:
                    self._renew()
                    last_renewal = time.monotonic()
                self._claim_all()
            except Exception:  # e.g. the database restarting: the leases say who owns what
                log.warning("claiming Custom Labels work failed; retrying", exc_info=True)
            self._wake.wait(CLAIM_POLL_S)
            self._wake.clear()

    # Claiming
    def _claimable(self, item: Item) -> bool:
        if item.holder is None:
            return True
        if not self._store.shared:
            return item.holder != self.holder  # a process that used this data directory before
        return item.lease_until is None or item.lease_until < time.time()

    def _claim_all(self, only: str | None = None, inline: bool = False) -> None:
        for name in self._store.projects_with_work():
            if self._stopping.is_set():
                return
            claimed: list[Claim] = []
            with self._store.try_edit(name) as edit:
                if edit is None:
                    continue
                claimed = self._claim_in(edit, only)
            for claim in claimed:
                with self._held_lock:
                    self._held[claim] = time.monotonic()
                if inline:
                    self._run(claim)
                    continue
                pool = self._training if claim.status == TRAINING_IN_PROGRESS else self._other
                pool.submit(self._run, claim)

    def start_versions_now(self) -> None:
        """Embedded store: start, before this process answers anything, the versions a
        stopped process left STARTING (a one-shot in-process CLI call starts a version;
        the next call uses it)."""
        self._claim_all(only=STARTING, inline=True)

    def _claim_in(self, edit: ProjectEdit, only: str | None = None) -> list[Claim]:
        project = edit.project
        with self._held_lock:
            trainings = sum(1 for c in self._held if c.status == TRAINING_IN_PROGRESS)
            others = len(self._held) - trainings
        items: list[tuple[bool, str, Item]] = [(True, k, d) for k, d in project.datasets.items()]
        items += [(False, k, v) for k, v in project.versions.items()]
        claimed = []
        for is_dataset, key, item in items:
            if item.status not in (DATASET_WORK if is_dataset else VERSION_WORK) or not self._claimable(item):
                continue
            if only is not None and item.status != only:
                continue
            if item.status == STOPPING:  # nothing runs a stopped model: every server drops it on sight
                item.status, item.status_message, item.holder = STOPPED, "The model is stopped.", None
                continue
            if item.attempt >= MAX_ATTEMPTS[item.status]:
                item.status, item.status_message = (
                    FAILED_STATUS[item.status],
                    (f"The work was interrupted {item.attempt} times (the processes doing it stopped)"),
                )
                item.holder = item.lease_until = None
                if isinstance(item, Dataset):
                    item.status_code = "SERVICE_ERROR"
                continue
            if item.status == TRAINING_IN_PROGRESS:
                if trainings >= 1:
                    continue
                trainings += 1
            else:
                if others >= MAX_OTHER_WORK:
                    continue
                others += 1
            item.attempt += 1
            item.holder, item.lease_until = self.holder, time.time() + self.lease_s
            claimed.append(Claim(project.name, is_dataset, key, item.status, item.attempt))
        return claimed

    # Holding
    def _renew(self) -> None:
        with self._held_lock:
            held = list(self._held)
        for claim in held:
            self._touch(claim, lambda _item: None)

    def _touch(self, claim: Claim, change: Callable[[Item], None]) -> None:
        """Renew the claim's lease and apply `change`, or mark the claim lost."""
        try:
            with self._holding(claim) as (_edit, item):
                item.lease_until = time.time() + self.lease_s
                change(item)
        except (ClaimLost, Missing):
            with self._held_lock:
                self._lost.add(claim)

    @contextmanager
    def _holding(self, claim: Claim) -> Iterator[tuple[ProjectEdit, Item]]:
        """The claimed item, in an edit of its project; ClaimLost unless the claim still holds."""
        with self._store.edit(claim.project) as edit:
            item = item_of(edit.project, claim)
            if (
                item is None
                or item.status != claim.status
                or item.holder != self.holder
                or item.attempt != claim.attempt
            ):
                raise ClaimLost
            yield edit, item

    def progress(self, claim: Claim, message: str) -> None:
        """A running training's progress: written at most every PROGRESS_EVERY_S, which also
        renews its lease; raises ClaimLost once another process holds the work."""
        with self._held_lock:
            if claim in self._lost:
                raise ClaimLost
            last = self._held.get(claim, 0.0)
            due = time.monotonic() - last >= PROGRESS_EVERY_S
            if due:
                self._held[claim] = time.monotonic()
        if due:

            def show(item: Item) -> None:
                item.status_message = message

            self._touch(claim, show)
            with self._held_lock:
                if claim in self._lost:
                    raise ClaimLost

    def finish(self, claim: Claim, change: Callable[[ProjectEdit, Item], None]) -> bool:
        """Record the work's outcome with `change`, only while the claim still holds."""
        try:
            with self._holding(claim) as (edit, item):
                change(edit, item)
                item.holder = item.lease_until = None
                return True
        except (ClaimLost, Missing):
            log.warning("%s %s of project %s was taken over; this outcome is dropped", *_named(claim))
            return False

    def _run(self, claim: Claim) -> None:
        try:
            self._service.run_work(claim)
        except ClaimLost:
            log.warning("%s %s of project %s was taken over; stopped", *_named(claim))
        except Exception:  # run_work records failures itself; this is the store failing meanwhile
            log.exception("%s %s of project %s: its outcome could not be recorded", *_named(claim))
        finally:
            with self._held_lock:
                self._held.pop(claim, None)
                self._lost.discard(claim)
            self._wake.set()


def _named(claim: Claim) -> tuple[str, str, str]:
    return ("dataset" if claim.is_dataset else "version", claim.name, claim.project)


def set_status(status: str, message: str) -> Callable[[ProjectEdit, Item], None]:
    def change(_edit: ProjectEdit, item: Item) -> None:
        item.status, item.status_message = status, message
        if isinstance(item, Dataset):
            item.updated = now()

    return change
