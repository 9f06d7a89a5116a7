"""The embedded job store: one SQLite table of requests and statuses, one JSON file of results per job.

A job's results are written to a temporary file and renamed into place before its
status becomes SUCCEEDED, in that order: a process killed at any point leaves either
an IN_PROGRESS job (re-run from the start on restart, its half-written results
discarded) or a complete one, never a duplicated or partial result.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

from openrek.atomic_files import write_atomically
from openrek.jobs.store import FAILED, IN_PROGRESS, SUCCEEDED, Job, TokenReused, TooManyJobs
from openrek.storage.sqlite.locked import LockedConnection

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    api TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    request_json TEXT NOT NULL,
    client_token TEXT,
    job_tag TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_token ON jobs(api, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status)
"""


class SqliteJobStore:
    shared = False

    def __init__(self, data_dir: Path) -> None:
        self._results_dir = data_dir / "jobs"
        self._results_dir.mkdir(parents=True, exist_ok=True)
        self._path = data_dir / "jobs.sqlite3"
        self._db = LockedConnection(self._path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(
        self, api: str, request: dict[str, Any], client_token: str | None, max_in_progress: int
    ) -> tuple[Job, bool]:
        """A new IN_PROGRESS job, or the one this token already started (and False).

        Raises TokenReused when the token started a job with other parameters, and
        TooManyJobs when max_in_progress jobs are running (checked in the same
        transaction as the insert, so concurrent Starts cannot pass the limit)."""
        request_json = json.dumps(request, sort_keys=True)
        with self._db.transaction() as conn:
            if client_token is not None:
                row = conn.execute(
                    "SELECT job_id, request_json FROM jobs WHERE api = ? AND client_token = ?",
                    (api, client_token),
                ).fetchone()
                if row is not None:
                    if row[1] != request_json:
                        raise TokenReused(client_token)
                    existing = self._get(conn, str(row[0]))
                    assert existing is not None
                    return existing, False
            (running,) = conn.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (IN_PROGRESS,)).fetchone()
            if running >= max_in_progress:
                raise TooManyJobs(running)
            job_id = secrets.token_hex(32)  # 64 characters, as AWS's JobIds
            conn.execute(
                "INSERT INTO jobs (job_id, api, status, request_json, client_token, job_tag, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, api, IN_PROGRESS, request_json, client_token, request.get("JobTag"), time.time()),
            )
            job = self._get(conn, job_id)
        assert job is not None
        return job, True

    def get(self, job_id: str) -> Job | None:
        with self._db.reading() as conn:
            return self._get(conn, job_id)

    def _get(self, conn: sqlite3.Connection, job_id: str) -> Job | None:
        row = conn.execute(
            "SELECT job_id, api, status, status_message, request_json, job_tag, created_at, finished_at "
            "FROM jobs WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        if row is None:
            return None
        return Job(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7])

    def newest_first(self, api: str, limit: int, after: Job | None = None) -> list[Job]:
        """Up to `limit` jobs of `api`, newest first; with `after`, those created before it
        (a page boundary that stays put while new jobs are added)."""
        query = "SELECT job_id FROM jobs WHERE api = ?"
        args: list[Any] = [api]
        if after is not None:
            query += " AND (created_at < ? OR (created_at = ? AND job_id < ?))"
            args += [after.created_at, after.created_at, after.job_id]
        query += " ORDER BY created_at DESC, job_id DESC LIMIT ?"
        with self._db.reading() as conn:
            ids = [row[0] for row in conn.execute(query, (*args, limit))]
            jobs = [self._get(conn, job_id) for job_id in ids]
        return [job for job in jobs if job is not None]

    def in_progress(self) -> list[Job]:
        with self._db.reading() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT job_id FROM jobs WHERE status = ? ORDER BY created_at", (IN_PROGRESS,)
                )
            ]
            jobs = [self._get(conn, job_id) for job_id in ids]
        return [job for job in jobs if job is not None]

    def succeed(self, job: Job, results: dict[str, Any]) -> bool:
        """Results reach their final name before the status says they exist."""
        write_atomically(self.results_path(job.job_id), json.dumps(results).encode())
        return self._finish(job.job_id, SUCCEEDED, None)

    def fail(self, job: Job, message: str) -> bool:
        return self._finish(job.job_id, FAILED, message)

    def _finish(self, job_id: str, status: str, message: str | None) -> bool:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, status_message = ?, finished_at = ? WHERE job_id = ?",
                (status, message, time.time(), job_id),
            )
        return True  # one process runs every job: its claim always holds

    def claim(self, worker: str, lease_s: float) -> Job | None:
        raise NotImplementedError("the embedded store's jobs are run by the process that created them")

    def renew(self, worker: str, job_ids: list[str], lease_s: float) -> None:
        raise NotImplementedError("the embedded store's jobs are run by the process that created them")

    def results_path(self, job_id: str) -> Path:
        return self._results_dir / f"{job_id}.json"

    def results(self, job_id: str) -> dict[str, Any]:
        with self.results_path(job_id).open() as data:
            loaded: dict[str, Any] = json.load(data)
        return loaded
