"""StartMediaAnalysisJob / GetMediaAnalysisJob / ListMediaAnalysisJobs: Rekognition bulk
analysis (DetectModerationLabels over a manifest of images), run by the job runner."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openrek.jobs.media_analysis import read_manifest
from openrek.jobs.runner import INTERNAL_FAILURE
from openrek.jobs.store import FAILED, SUCCEEDED, Job
from openrek.operations.video import job_or_404, submit_job
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceNotFoundException,
)
from openrek.s3_output import S3Output
from openrek.services import Services

API = "StartMediaAnalysisJob"
DEFAULT_MAX_RESULTS = 100  # also AWS's maximum for ListMediaAnalysisJobs
FAILURE_CODES = frozenset(
    {
        "INTERNAL_ERROR",
        "INVALID_S3_OBJECT",
        "INVALID_MANIFEST",
        "INVALID_OUTPUT_CONFIG",
        "INVALID_KMS_KEY",
        "ACCESS_DENIED",
        "RESOURCE_NOT_FOUND",
        "RESOURCE_NOT_READY",
        "THROTTLED",
    }
)
# A Rekognition error that ended a job (the runner stores "<Code>: <message>"), as a FailureDetails code.
FAILURE_CODE_OF_ERROR = {
    "InvalidS3ObjectException": "INVALID_S3_OBJECT",
    "InvalidManifestException": "INVALID_MANIFEST",
    "ResourceNotFoundException": "RESOURCE_NOT_FOUND",
    "ResourceNotReadyException": "RESOURCE_NOT_READY",
    "AccessDeniedException": "ACCESS_DENIED",
    "ThrottlingException": "THROTTLED",
}


def start_media_analysis_job(params: dict[str, Any], services: Services) -> dict[str, Any]:
    config = params["OperationsConfig"].get("DetectModerationLabels")
    if config is None:
        raise InvalidParameterException(
            "OperationsConfig must include DetectModerationLabels, the operation bulk analysis runs"
        )
    if "ProjectVersion" in config:
        # Running the base model instead would hand back un-adapted results as adapted ones.
        raise ResourceNotFoundException(
            f"The adapter {config['ProjectVersion']} was not found for bulk analysis: openrek's "
            "bulk jobs run the base moderation model only; DetectModerationLabels takes adapters"
        )
    settings = services.settings
    if "KmsKeyId" in params and not S3Output(settings.s3_dir, settings.s3_endpoint_url).encrypts:
        # Results in a local folder cannot be encrypted with a KMS key: refuse rather
        # than write them in the clear while the caller believes them encrypted.
        raise InvalidParameterException(
            "KmsKeyId needs an S3 endpoint that encrypts with it: set OPENREK_S3_ENDPOINT_URL on the server"
        )
    read_manifest(services, params["Input"]["S3Object"])  # missing, empty or too large: refused now
    return submit_job(API, params, services)


def failure_details(status_message: str) -> dict[str, str]:
    """FailureDetails from a failed job's stored message ("<CODE>: <message>")."""
    if status_message == INTERNAL_FAILURE:
        return {"Code": "INTERNAL_ERROR", "Message": "Internal error while analysing the images"}
    code, _, message = status_message.partition(": ")
    if code in FAILURE_CODES:
        return {"Code": code, "Message": message}
    if code in FAILURE_CODE_OF_ERROR:
        return {"Code": FAILURE_CODE_OF_ERROR[code], "Message": message}
    return {"Code": "INTERNAL_ERROR", "Message": status_message}


def _moment(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def describe(job: Job, services: Services) -> dict[str, Any]:
    """A job as GetMediaAnalysisJob and ListMediaAnalysisJobs describe it."""
    request = job.request
    described: dict[str, Any] = {"JobId": job.job_id}
    if "JobName" in request:
        described["JobName"] = request["JobName"]
    described.update(
        {
            "OperationsConfig": request["OperationsConfig"],
            "Status": job.status,
            "CreationTimestamp": _moment(job.created_at),
            "Input": request["Input"],
            "OutputConfig": request["OutputConfig"],
        }
    )
    if job.finished_at is not None:
        described["CompletionTimestamp"] = _moment(job.finished_at)
    if "KmsKeyId" in request:
        described["KmsKeyId"] = request["KmsKeyId"]
    if job.status == FAILED:
        described["FailureDetails"] = failure_details(job.status_message or "")
    elif job.status == SUCCEEDED:
        described.update(services.video_jobs.store.results(job.job_id))  # Results, ManifestSummary
    return described


def get_media_analysis_job(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return describe(job_or_404(services, API, params["JobId"]), services)


def list_media_analysis_jobs(params: dict[str, Any], services: Services) -> dict[str, Any]:
    size = params.get("MaxResults", DEFAULT_MAX_RESULTS)
    if not 1 <= size <= DEFAULT_MAX_RESULTS:
        raise InvalidParameterException(f"MaxResults must be between 1 and {DEFAULT_MAX_RESULTS}")
    store = services.video_jobs.store
    after = None
    if "NextToken" in params:
        # The token is the JobId the previous page ended with: the next page starts
        # just before it, however many jobs were started since.
        after = store.get(params["NextToken"])
        if after is None or after.api != API:
            raise InvalidPaginationTokenException("Invalid Token")
    jobs = store.newest_first(API, size + 1, after)
    response: dict[str, Any] = {"MediaAnalysisJobs": [describe(job, services) for job in jobs[:size]]}
    if len(jobs) > size:
        response["NextToken"] = jobs[size - 1].job_id
    return response


HANDLERS: dict[str, Handler[Services]] = {
    "StartMediaAnalysisJob": start_media_analysis_job,
    "GetMediaAnalysisJob": get_media_analysis_job,
    "ListMediaAnalysisJobs": list_media_analysis_jobs,
}
