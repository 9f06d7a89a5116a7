"""Runs jobs on worker threads of this process.

The runner only knows the store and, per API, a function from a job to its results.

- Embedded store: the process that creates a job runs it (`submit`), and re-runs what
  a stopped process left IN_PROGRESS when it starts again (`resume`).
- Shared store (PostgreSQL): jobs are claimed. `start_claiming` runs a loop that claims
  jobs while it has free workers, and renews the leases of those it runs; a server
  started with `--no-run-jobs` never claims, and `openrek worker` only claims.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from openrek.jobs.rates import JobInterrupted
from openrek.jobs.store import FAILED, SUCCEEDED, Job, JobStore
from openrek.protocol.errors import RekognitionError
from openrek.video.decode import VideoUnreadable

log = logging.getLogger("openrek.jobs")

Analysis = Callable[[Job], dict[str, Any]]
INTERNAL_FAILURE = "Internal error while analysing the video; see the server log"


class JobFailed(Exception):
    """A job that cannot finish for a reason its caller should read (str(error))."""


# A claim lasts this long unless renewed; the runner renews every third of it. A worker
# that dies leaves its jobs to others after at most this long.
DEFAULT_LEASE_S = 30.0
# How often an idle claiming loop asks the database for work.
CLAIM_POLL_S = 1.0


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        analyses: Mapping[str, Analysis],
        workers: int,
        finished: Callable[[Job, str], None] | None = None,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        self._store = store
        self._analyses = analyses
        self._finished = finished
        self._workers = workers
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="openrek-job")
        # Set when the process stops: running jobs end between two frames (see rates.results_per_frame).
        self.stopping = threading.Event()
        self.lease_s = lease_s
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._running: dict[str, Job] = {}
        self._running_lock = threading.Lock()
        self._wake = threading.Event()
        self._claimer: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        """A job just created: run it here (embedded), or wake this process's claiming
        loop, if it has one (shared; any worker may take it)."""
        if self._store.shared:
            self._wake.set()
            return
        self._executor.submit(self._run, job)

    def resume(self) -> int:
        """Embedded: re-run, from the start, the jobs a stopped or killed process left
        IN_PROGRESS. Shared: start claiming (such jobs are claimed once their lease ends)."""
        if self._store.shared:
            self.start_claiming()
            return 0
        unfinished = self._store.in_progress()
        for job in unfinished:
            self.submit(job)
        return len(unfinished)

    def start_claiming(self) -> None:
        if self._claimer is None:
            self._claimer = threading.Thread(target=self._claim_loop, name="openrek-job-claims", daemon=True)
            self._claimer.start()

    def _claim_loop(self) -> None:
        last_renewal = time.monotonic()
        while not self.stopping.is_set():
            try:
                if time.monotonic() - last_renewal >= self.lease_s / 3:
                    with self._running_lock:
                        held = list(self._running)
                    self._store.renew(self.worker_name, held, self.lease_s)
                    last_renewal = time.monotonic()
                job = None
                with self._running_lock:
                    free = len(self._running) < self._workers
                if free:
                    job = self._store.claim(self.worker_name, self.lease_s)
                if job is not None:
                    with self._running_lock:
                        self._running[job.job_id] = job
                    self._executor.submit(self._run_claimed, job)
                    continue  # maybe more work, and maybe more free workers
            except Exception:  # the database restarting: keep trying, the leases say who owns what
                log.warning("claiming jobs failed; retrying", exc_info=True)
            self._wake.wait(CLAIM_POLL_S)
            self._wake.clear()

    def _run_claimed(self, job: Job) -> None:
        try:
            self._run(job)
        finally:
            with self._running_lock:
                self._running.pop(job.job_id, None)
            self._wake.set()

    def _run(self, job: Job) -> None:
        try:
            results = self._analyses[job.api](job)
        except JobInterrupted:
            log.info("job %s interrupted by the server stopping; it re-runs at the next start", job.job_id)
            return
        except (VideoUnreadable, JobFailed) as reason:
            recorded, status = self._store.fail(job, str(reason)), FAILED
        except RekognitionError as error:  # e.g. the object vanished from S3 after Start
            recorded, status = self._store.fail(job, f"{error.code}: {error.message}"), FAILED
        except Exception:
            log.exception("job %s (%s) failed", job.job_id, job.api)
            recorded, status = self._store.fail(job, INTERNAL_FAILURE), FAILED
        else:
            recorded, status = self._store.succeed(job, results), SUCCEEDED
        if not recorded:
            log.warning("job %s was taken over by another worker; this run's result is dropped", job.job_id)
            return
        if self._finished is not None:
            self._finished(job, status)

    def close(self, wait: bool = False) -> None:
        """Stop taking jobs; with `wait`, finish the ones submitted first. A server need
        not wait: what it leaves IN_PROGRESS is re-run when it starts again."""
        if not wait:
            self.stopping.set()
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
