"""Stored-video operations: Start* creates a job, Get* reads its status and pages its results."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from openrek.jobs.label_detection import label_segments
from openrek.jobs.store import IN_PROGRESS, SUCCEEDED, Job, TokenReused, TooManyJobs
from openrek.operations.collections import collection_or_404
from openrek.operations.labels import label_filter_of
from openrek.operations.segments import segment_request_checked, with_stream_metadata
from openrek.operations.text import check_filters
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import (
    IdempotentParameterMismatchException,
    InvalidPaginationTokenException,
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from openrek.services import Services

DEFAULT_MAX_RESULTS = 1000


def start_job(api: str, params: dict[str, Any], services: Services) -> dict[str, Any]:
    jobs = services.video_jobs
    if "NotificationChannel" in params and jobs.notifier is None:
        # Accepting the channel and never publishing would leave a caller waiting for
        # a message that never comes.
        raise InvalidParameterException(
            "NotificationChannel needs an SNS endpoint: set OPENREK_SNS_ENDPOINT_URL on the server"
        )
    jobs.locator.check(params["Video"])  # a missing object is an error now, not a failed job
    return submit_job(api, params, services)


def submit_job(api: str, params: dict[str, Any], services: Services) -> dict[str, Any]:
    """A new job from a checked request, or the one its ClientRequestToken started."""
    jobs = services.video_jobs
    request = {k: v for k, v in params.items() if k != "ClientRequestToken"}
    try:
        job, created = jobs.store.create(api, request, params.get("ClientRequestToken"), jobs.max_in_progress)
    except TokenReused:
        raise IdempotentParameterMismatchException(
            "ClientRequestToken was used before with different parameters"
        ) from None
    except TooManyJobs:
        raise LimitExceededException(
            f"{jobs.max_in_progress} jobs are already in progress; wait for one to finish"
        ) from None
    if created:
        jobs.runner.submit(job)
    return {"JobId": job.job_id}


def job_or_404(services: Services, api: str, job_id: str) -> Job:
    job = services.video_jobs.store.get(job_id)
    if job is None or job.api != api:
        raise ResourceNotFoundException(f"The job id: {job_id} does not exist")
    return job


def _page_token(job: Job, offset: int) -> str:
    # An offset into results the caller may read anyway, checked against its job id so
    # that a token of another job, or a mangled one, is refused rather than read as an
    # offset. (Not a secret: whoever knows the job id can page anywhere in it.)
    mac = hmac.new(job.job_id.encode(), f"{offset}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"{offset}-{mac}"


def _page_offset(job: Job, token: str | None) -> int:
    if token is None:
        return 0
    offset_text, _, _mac = token.partition("-")
    if not offset_text.isdigit() or not hmac.compare_digest(_page_token(job, int(offset_text)), token):
        raise InvalidPaginationTokenException("Invalid Token")
    return int(offset_text)


def get_job(
    api: str,
    items_key: str,
    params: dict[str, Any],
    services: Services,
    order: Callable[[dict[str, Any]], Any] | None = None,
    aggregate: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The job's status and, once it SUCCEEDED, one page of its results (in `order`
    when given, else as stored: by timestamp)."""
    job = job_or_404(services, api, params["JobId"])
    response: dict[str, Any] = {"JobStatus": job.status, "JobId": job.job_id, "Video": job.request["Video"]}
    if job.job_tag is not None:
        response["JobTag"] = job.job_tag
    if job.status_message is not None:
        response["StatusMessage"] = job.status_message
    if job.status == IN_PROGRESS or job.status_message is not None:
        return response
    results = services.video_jobs.store.results(job.job_id)
    items: list[dict[str, Any]] = results[items_key] if aggregate is None else aggregate(results)
    if order is not None:
        items = sorted(items, key=order)
    start = _page_offset(job, params.get("NextToken"))
    size = params.get("MaxResults", DEFAULT_MAX_RESULTS)
    if size < 1:
        raise InvalidParameterException("MaxResults must be at least 1")
    size = min(size, DEFAULT_MAX_RESULTS)
    response["VideoMetadata"] = results["VideoMetadata"]
    response.update({key: value for key, value in results.items() if key.endswith("ModelVersion")})
    response[items_key] = items[start : start + size]
    if start + size < len(items):
        response["NextToken"] = _page_token(job, start + size)
    return response


def start_face_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return start_job("StartFaceDetection", params, services)


def get_face_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return get_job("StartFaceDetection", "Faces", params, services)


def start_face_search(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection_or_404(services.store, params["CollectionId"])  # as AWS: refused at Start
    return start_job("StartFaceSearch", params, services)


def _person_order(params: dict[str, Any]) -> Callable[[dict[str, Any]], Any] | None:
    """SortBy INDEX: each person's sightings together, in time order; else as stored."""
    if params.get("SortBy", "TIMESTAMP") != "INDEX":
        return None
    return lambda person: (person["Person"]["Index"], person["Timestamp"])


def get_labelled_job(
    api: str, items_key: str, label_key: str, params: dict[str, Any], services: Services
) -> dict[str, Any]:
    """GetLabelDetection and GetContentModeration: each sampled frame's labels, or
    (AggregateBy SEGMENTS) consecutive sightings of a label as one segment; SortBy
    TIMESTAMP or NAME; and the GetRequestMetadata that echoes both choices, as AWS's does."""
    sort_by = params.get("SortBy", "TIMESTAMP")
    aggregate_by = params.get("AggregateBy", "TIMESTAMPS")

    def by_name(item: dict[str, Any]) -> tuple[str, int]:
        return item[label_key]["Name"], item["Timestamp"]

    def segments(results: dict[str, Any]) -> list[dict[str, Any]]:
        duration = int(results["VideoMetadata"]["DurationMillis"])
        interval = int(results["FrameIntervalMillis"])
        return label_segments(results[items_key], interval, duration, key=label_key)

    response = get_job(
        api,
        items_key,
        params,
        services,
        order=by_name if sort_by == "NAME" else None,
        aggregate=segments if aggregate_by == "SEGMENTS" else None,
    )
    if response["JobStatus"] == SUCCEEDED:
        response["GetRequestMetadata"] = {"SortBy": sort_by, "AggregateBy": aggregate_by}
    return response


def get_face_search(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return get_job("StartFaceSearch", "Persons", params, services, _person_order(params))


def start_text_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    check_filters(params.get("Filters") or {})
    return start_job("StartTextDetection", params, services)


def get_text_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return get_job("StartTextDetection", "TextDetections", params, services)


def start_label_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    label_filter_of(params, services)  # contradictory filters are refused at Start
    return start_job("StartLabelDetection", params, services)


def get_label_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return get_labelled_job("StartLabelDetection", "Labels", "Label", params, services)


def start_person_tracking(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return start_job("StartPersonTracking", params, services)


def get_person_tracking(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return get_job("StartPersonTracking", "Persons", params, services, _person_order(params))


def start_segment_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return start_job("StartSegmentDetection", segment_request_checked(params), services)


def get_segment_detection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return with_stream_metadata(get_job("StartSegmentDetection", "Segments", params, services), services)


def start_celebrity_recognition(params: dict[str, Any], services: Services) -> dict[str, Any]:
    return start_job("StartCelebrityRecognition", params, services)


def get_celebrity_recognition(params: dict[str, Any], services: Services) -> dict[str, Any]:
    by_id = params.get("SortBy", "TIMESTAMP") == "ID"
    order = (lambda seen: (seen["Celebrity"]["Id"], seen["Timestamp"])) if by_id else None
    return get_job("StartCelebrityRecognition", "Celebrities", params, services, order)


HANDLERS: dict[str, Handler[Services]] = {
    "StartFaceDetection": start_face_detection,
    "GetFaceDetection": get_face_detection,
    "StartFaceSearch": start_face_search,
    "GetFaceSearch": get_face_search,
    "StartTextDetection": start_text_detection,
    "GetTextDetection": get_text_detection,
    "StartLabelDetection": start_label_detection,
    "GetLabelDetection": get_label_detection,
    "StartPersonTracking": start_person_tracking,
    "GetPersonTracking": get_person_tracking,
    "StartSegmentDetection": start_segment_detection,
    "GetSegmentDetection": get_segment_detection,
    "StartCelebrityRecognition": start_celebrity_recognition,
    "GetCelebrityRecognition": get_celebrity_recognition,
}
