"""What a job store is: requests, statuses and results of stored-video and bulk jobs.

Two implementations:
- `sqlite_store.SqliteJobStore` (embedded default): a SQLite table under the data
  directory, results as files; the one process that serves also runs every job.
- `postgres_store.PostgresJobStore`: jobs in the shared database, claimed by any server
  or worker with `FOR UPDATE SKIP LOCKED` under a lease that the runner renews; a job
  whose worker dies is claimed again when its lease runs out, and only the holder of
  the current claim can record a result, so a job ends with one result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from openrek.config import Settings

IN_PROGRESS, SUCCEEDED, FAILED = "IN_PROGRESS", "SUCCEEDED", "FAILED"


class TokenReused(Exception):
    """A ClientRequestToken already named a job with other parameters."""


class TooManyJobs(Exception):
    """As many jobs as allowed are IN_PROGRESS already."""


@dataclass(frozen=True)
class Job:
    job_id: str
    api: str
    status: str
    status_message: str | None
    request: dict[str, Any]
    job_tag: str | None
    created_at: float
    finished_at: float | None = None  # set when the job leaves IN_PROGRESS
    # Which claim of the job this is (shared stores: 1 for the first worker, 2 for the
    # one that took over from it, ...); only that claim may record the result.
    attempt: int = 0


class JobStore(Protocol):
    # True when other processes may run this store's jobs: jobs are then claimed from
    # the store rather than run by whoever created them.
    shared: bool

    def create(
        self, api: str, request: dict[str, Any], client_token: str | None, max_in_progress: int
    ) -> tuple[Job, bool]: ...
    def get(self, job_id: str) -> Job | None: ...
    def newest_first(self, api: str, limit: int, after: Job | None = None) -> list[Job]: ...
    def in_progress(self) -> list[Job]: ...
    # Both return False when this claim of the job no longer holds (another worker took
    # it over): the result is then dropped, and no notification is sent for it.
    def succeed(self, job: Job, results: dict[str, Any]) -> bool: ...
    def fail(self, job: Job, message: str) -> bool: ...
    def results(self, job_id: str) -> dict[str, Any]: ...
    def close(self) -> None: ...

    # Shared stores only.
    def claim(self, worker: str, lease_s: float) -> Job | None: ...
    def renew(self, worker: str, job_ids: list[str], lease_s: float) -> None: ...


def open_job_store(settings: Settings) -> JobStore:
    database = settings.database
    if database.postgres_url is not None:
        from openrek.jobs.postgres_store import PostgresJobStore

        return PostgresJobStore(database.postgres_url)
    from openrek.jobs.sqlite_store import SqliteJobStore

    return SqliteJobStore(settings.data_dir)
