"""A ConnectedHome session's SNS notifications, in the shapes AWS's developer guide
gives ("Label detection operations for streaming video events"): a LABEL_DETECTED
event for the first sighting of each class in a session, and a
STREAM_PROCESSING_COMPLETE summary when the session ends. Both are published with the
subject "Rekognition Stream Processing Event" and the JSON body as the Message.

Published through the SNS-compatible endpoint in OPENREK_SNS_ENDPOINT_URL (credentials
from the usual AWS_* variables), as stored-video jobs' completions are.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from openrek.streams.sinks import SinkFailed

SUBJECT = "Rekognition Stream Processing Event"
LABEL_DETECTED, STREAM_PROCESSING_COMPLETE = "LABEL_DETECTED", "STREAM_PROCESSING_COMPLETE"


@dataclass(frozen=True)
class SessionFacts:
    """What every message of a session repeats."""

    stream_arn: str
    session_id: str
    tags: dict[str, str]
    start_request: dict[str, Any]  # StartStreamProcessor's request: Name and the selectors


def _envelope(
    kind: str, kinesis_video: dict[str, Any], session: SessionFacts, body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "inputInformation": {"kinesisVideo": kinesis_video},
        "eventNamespace": {"type": kind},
        **body,
        "eventId": str(uuid.uuid4()),
        "tags": session.tags,
        "sessionId": session.session_id,
        "startStreamProcessorRequest": session.start_request,
    }


def label_detected(session: SessionFacts, labels: list[dict[str, Any]]) -> dict[str, Any]:
    return _envelope(LABEL_DETECTED, {"streamArn": session.stream_arn}, session, {"labels": labels})


def processing_complete(session: SessionFacts, processed_millis: int, message: str) -> dict[str, Any]:
    video = {"streamArn": session.stream_arn, "processedVideoDurationMillis": processed_millis}
    return _envelope(
        STREAM_PROCESSING_COMPLETE, video, session, {"streamProcessingResults": {"message": message}}
    )


class TopicPublisher:
    def __init__(self, endpoint_url: str, region: str, topic_arn: str) -> None:
        import boto3

        self.topic_arn = topic_arn
        self._sns: Any = boto3.session.Session().client("sns", endpoint_url=endpoint_url, region_name=region)

    def publish(self, message: dict[str, Any]) -> None:
        """SinkFailed when SNS refuses: an event nobody receives is the session failing."""
        try:
            self._sns.publish(TopicArn=self.topic_arn, Subject=SUBJECT, Message=json.dumps(message))
        except Exception as error:
            raise SinkFailed(f"Publishing to the SNS topic {self.topic_arn} failed: {error}") from None
