"""The job store on its own: creation, tokens, limits, and results that are whole or absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from openrek.jobs.store import FAILED, IN_PROGRESS, SUCCEEDED, JobStore, TokenReused, TooManyJobs

VIDEO = {"Video": {"S3Object": {"Bucket": "b", "Name": "clip.mp4"}}}


def test_a_token_names_one_job(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    first, created = store.create("StartFaceDetection", VIDEO, "token-1", 20)
    again, created_again = store.create("StartFaceDetection", VIDEO, "token-1", 20)
    assert created and not created_again and again.job_id == first.job_id
    assert len(first.job_id) == 64 and first.status == IN_PROGRESS
    with pytest.raises(TokenReused):
        store.create("StartFaceDetection", {**VIDEO, "JobTag": "other"}, "token-1", 20)
    other, _ = store.create("StartFaceDetection", VIDEO, None, 20)
    assert other.job_id != first.job_id


def test_jobs_in_progress_are_limited(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job, _ = store.create("StartFaceDetection", VIDEO, None, 1)
    with pytest.raises(TooManyJobs):
        store.create("StartFaceDetection", VIDEO, None, 1)
    store.fail(job.job_id, "not a video")
    store.create("StartFaceDetection", VIDEO, None, 1)


def test_results_are_whole_or_absent_across_a_restart(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    done, _ = store.create("StartFaceDetection", {**VIDEO, "JobTag": "tag"}, None, 20)
    killed, _ = store.create("StartFaceDetection", VIDEO, None, 20)
    store.succeed(done.job_id, {"Faces": [{"Timestamp": 0}], "VideoMetadata": {}})
    # A process killed while writing leaves a partial file and an IN_PROGRESS job.
    store.results_path(killed.job_id).with_suffix(".partial").write_text('{"Faces": [')
    store.close()

    reopened = JobStore(tmp_path)
    finished = reopened.get(done.job_id)
    assert finished is not None and finished.status == SUCCEEDED and finished.job_tag == "tag"
    assert reopened.results(done.job_id)["Faces"] == [{"Timestamp": 0}]
    assert [job.job_id for job in reopened.in_progress()] == [killed.job_id]
    reopened.fail(killed.job_id, "gone")
    failed = reopened.get(killed.job_id)
    assert failed is not None and failed.status == FAILED and failed.status_message == "gone"
    assert reopened.get("no-such-job") is None
