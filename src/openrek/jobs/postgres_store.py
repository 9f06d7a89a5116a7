"""Jobs in the shared PostgreSQL database, claimed by whichever server or worker is free.

A job is IN_PROGRESS from Start until a result is recorded. Meanwhile it is either
waiting (no worker, or a lease that ran out) or claimed: `claim` takes the oldest waiting
job with `SELECT ... FOR UPDATE SKIP LOCKED` (two workers never take the same row, and
neither waits for the other), stamps the worker, a lease and the next attempt number.
The runner renews its leases while it works. A worker that dies stops renewing; when
the lease runs out the job is waiting again and the next claim re-runs it from the
start. Results and the final status are written in one transaction, and only when the
row still carries the caller's attempt: a worker that lost its claim (paused past its
lease, cut off from the database) cannot add a second result.

Why SKIP LOCKED in our own table rather than a task library such as procrastinate:
jobs already live in this table with their statuses, tokens and results, which the
Get*/List* operations read; a library would keep a second copy of each job's state in
its own tables and its own worker loop beside ours. Claiming is one statement.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import psycopg

from openrek.jobs.store import FAILED, IN_PROGRESS, SUCCEEDED, Job, TokenReused, TooManyJobs
from openrek.storage.postgres.connections import connection, open_pool, transaction
from openrek.storage.postgres.migrations import migrate

_COLUMNS = "job_id, api, status, status_message, request_json, job_tag, created_at, finished_at, attempt"
# Serialises Starts across hosts so the IN_PROGRESS limit is checked and used atomically.
_START_LOCK = 0x6A6F6273  # "jobs"


def _job(row: tuple[Any, ...]) -> Job:
    return Job(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7], row[8])


class PostgresJobStore:
    shared = True

    def __init__(self, url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        self._pool = open_pool(url, max_size=8, name="openrek-jobs")

    def close(self) -> None:
        self._pool.close()

    def create(
        self, api: str, request: dict[str, Any], client_token: str | None, max_in_progress: int
    ) -> tuple[Job, bool]:
        request_json = json.dumps(request, sort_keys=True)
        with transaction(self._pool) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_START_LOCK,))
            if client_token is not None:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE api = %s AND client_token = %s", (api, client_token)
                ).fetchone()
                if row is not None:
                    if row[4] != request_json:
                        raise TokenReused(client_token)
                    return _job(row), False
            count = conn.execute("SELECT count(*) FROM jobs WHERE status = %s", (IN_PROGRESS,)).fetchone()
            if count is not None and count[0] >= max_in_progress:
                raise TooManyJobs(count[0])
            row = conn.execute(
                "INSERT INTO jobs (job_id, api, status, request_json, client_token, job_tag, created_at) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (secrets.token_hex(32), api, IN_PROGRESS, request_json, client_token, request.get("JobTag"),
                 time.time()),
            ).fetchone()  # fmt: skip
            assert row is not None
        return _job(row), True

    def get(self, job_id: str) -> Job | None:
        with connection(self._pool) as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE job_id = %s", (job_id,)).fetchone()
        return _job(row) if row else None

    def newest_first(self, api: str, limit: int, after: Job | None = None) -> list[Job]:
        query = f"SELECT {_COLUMNS} FROM jobs WHERE api = %s"
        args: list[Any] = [api]
        if after is not None:
            query += " AND (created_at, job_id) < (%s, %s)"
            args += [after.created_at, after.job_id]
        with connection(self._pool) as conn:
            rows = conn.execute(query + " ORDER BY created_at DESC, job_id DESC LIMIT %s", (*args, limit))
            return [_job(row) for row in rows.fetchall()]

    def in_progress(self) -> list[Job]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE status = %s ORDER BY created_at", (IN_PROGRESS,)
            ).fetchall()
        return [_job(row) for row in rows]

    def claim(self, worker: str, lease_s: float) -> Job | None:
        """The oldest job no live worker holds, now held by `worker` for `lease_s` seconds."""
        with transaction(self._pool) as conn:
            row = conn.execute(
                "UPDATE jobs SET worker = %s, lease_until = now() + make_interval(secs => %s), "
                "attempt = attempt + 1 WHERE job_id = ("
                " SELECT job_id FROM jobs WHERE status = %s AND (lease_until IS NULL OR lease_until < now())"
                " ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"
                f") RETURNING {_COLUMNS}",
                (worker, lease_s, IN_PROGRESS),
            ).fetchone()
        return _job(row) if row else None

    def renew(self, worker: str, job_ids: list[str], lease_s: float) -> None:
        if not job_ids:
            return
        with transaction(self._pool) as conn:
            conn.execute(
                "UPDATE jobs SET lease_until = now() + make_interval(secs => %s) "
                "WHERE job_id = ANY(%s) AND worker = %s AND status = %s",
                (lease_s, job_ids, worker, IN_PROGRESS),
            )

    def succeed(self, job: Job, results: dict[str, Any]) -> bool:
        return self._finish(job, SUCCEEDED, None, json.dumps(results))

    def fail(self, job: Job, message: str) -> bool:
        return self._finish(job, FAILED, message, None)

    def _finish(self, job: Job, status: str, message: str | None, results_json: str | None) -> bool:
        with transaction(self._pool) as conn:
            row = conn.execute(
                "UPDATE jobs SET status = %s, status_message = %s, finished_at = %s, lease_until = NULL "
                "WHERE job_id = %s AND attempt = %s AND status = %s RETURNING job_id",
                (status, message, time.time(), job.job_id, job.attempt, IN_PROGRESS),
            ).fetchone()
            if row is None:
                return False  # another claim owns the job now; its result will be the one
            if results_json is not None:
                conn.execute(
                    "INSERT INTO job_results (job_id, results_json) VALUES (%s, %s)",
                    (job.job_id, results_json),
                )
        return True

    def results(self, job_id: str) -> dict[str, Any]:
        with connection(self._pool) as conn:
            row = conn.execute("SELECT results_json FROM job_results WHERE job_id = %s", (job_id,)).fetchone()
        if row is None:
            raise FileNotFoundError(f"no results for job {job_id}")
        loaded: dict[str, Any] = json.loads(row[0])
        return loaded
