"""Runs jobs on worker threads of this process.

The runner only knows the store and, per API, a function from a job to its results.
A later runner can take jobs from a shared queue in separate worker processes with
the same functions; this one is the embedded default.
"""

from __future__ import annotations

import logging
import threading
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


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        analyses: Mapping[str, Analysis],
        workers: int,
        finished: Callable[[Job, str], None] | None = None,
    ) -> None:
        self._store = store
        self._analyses = analyses
        self._finished = finished
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="openrek-job")
        # Set when the process stops: running jobs end between two frames (see rates.results_per_frame).
        self.stopping = threading.Event()

    def submit(self, job: Job) -> None:
        self._executor.submit(self._run, job)

    def resume(self) -> int:
        """Re-run, from the start, the jobs a stopped or killed process left IN_PROGRESS."""
        unfinished = self._store.in_progress()
        for job in unfinished:
            self.submit(job)
        return len(unfinished)

    def _run(self, job: Job) -> None:
        try:
            results = self._analyses[job.api](job)
        except JobInterrupted:
            log.info("job %s interrupted by the server stopping; it re-runs at the next start", job.job_id)
            return
        except (VideoUnreadable, JobFailed) as reason:
            self._store.fail(job.job_id, str(reason))
            status = FAILED
        except RekognitionError as error:  # e.g. the object vanished from S3 after Start
            self._store.fail(job.job_id, f"{error.code}: {error.message}")
            status = FAILED
        except Exception:
            log.exception("job %s (%s) failed", job.job_id, job.api)
            self._store.fail(job.job_id, INTERNAL_FAILURE)
            status = FAILED
        else:
            self._store.succeed(job.job_id, results)
            status = SUCCEEDED
        if self._finished is not None:
            self._finished(job, status)

    def close(self, wait: bool = False) -> None:
        """Stop taking jobs; with `wait`, finish the ones submitted first. A server need
        not wait: what it leaves IN_PROGRESS is re-run when it starts again."""
        if not wait:
            self.stopping.set()
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
