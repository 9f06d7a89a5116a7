"""Completion messages to SNS, in the payload AWS documents for Rekognition Video.

Published through the SNS-compatible endpoint named by OPENREK_SNS_ENDPOINT_URL
(credentials from the usual AWS_* variables). The RoleArn of the request names the
role AWS would assume to publish; a local server publishes as itself.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from openrek.jobs.store import Job

log = logging.getLogger("openrek.jobs")

# The API names AWS's notifications carry, by the Start operation that began the job.
NOTIFIED_API = {
    "StartFaceDetection": "FACE_DETECTION",
    "StartFaceSearch": "FACE_SEARCH",
    "StartTextDetection": "TEXT_DETECTION",
    "StartLabelDetection": "LABEL_DETECTION",
    "StartPersonTracking": "PERSON_TRACKING",
    "StartContentModeration": "CONTENT_MODERATION",
    "StartSegmentDetection": "SEGMENT_DETECTION",
    "StartCelebrityRecognition": "CELEBRITY_RECOGNITION",
}


def completion_message(job: Job, status: str) -> dict[str, Any]:
    s3_object = job.request["Video"]["S3Object"]
    message: dict[str, Any] = {
        "JobId": job.job_id,
        "Status": status,
        "API": NOTIFIED_API[job.api],
        "Timestamp": int(time.time() * 1000),
        "Video": {"S3ObjectName": s3_object["Name"], "S3Bucket": s3_object["Bucket"]},
    }
    if job.job_tag is not None:
        message["JobTag"] = job.job_tag
    return message


class Notifier:
    def __init__(self, endpoint_url: str, region: str) -> None:
        import boto3

        self._sns = boto3.session.Session().client("sns", endpoint_url=endpoint_url, region_name=region)

    def job_finished(self, job: Job, status: str) -> None:
        channel = job.request.get("NotificationChannel")
        if channel is None:
            return
        try:
            self._sns.publish(
                TopicArn=channel["SNSTopicArn"], Message=json.dumps(completion_message(job, status))
            )
        except Exception:  # the job's result stands; a lost message is logged, not fatal
            log.exception(
                "could not publish the completion of job %s to %s", job.job_id, channel["SNSTopicArn"]
            )
