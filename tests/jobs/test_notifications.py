"""A job's completion reaches an SQS queue subscribed to its SNS topic (moto_server on loopback)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from PIL import Image

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.jobs.test_face_detection_jobs import video, wait_for, write_clip

pytestmark = pytest.mark.needs_server

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def test_completion_is_published_to_the_topic(
    models: ModelStore, photos: Path, moto_endpoint: str, tmp_path: Path
) -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    sns = session.client("sns", endpoint_url=moto_endpoint)
    sqs = session.client("sqs", endpoint_url=moto_endpoint)
    topic = sns.create_topic(Name="rekognition-done")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="rekognition-done")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    data = tmp_path / "data"
    write_clip(data / "s3" / "videos" / "face.mp4", Image.open(photos / "face_recognition/obama.jpg"))
    server = ServerProcess(data, env={"OPENREK_SNS_ENDPOINT_URL": moto_endpoint, **KEYS})
    try:
        client = rekognition_client(server.url)
        channel = {"SNSTopicArn": topic, "RoleArn": "arn:aws:iam::000000000000:role/rekognition"}
        job_id = client.start_face_detection(
            Video=video("face.mp4"), NotificationChannel=channel, JobTag="t1"
        )["JobId"]
        assert wait_for(client, job_id)["JobStatus"] == "SUCCEEDED"
        deadline = time.monotonic() + 30
        messages: list[dict[str, Any]] = []
        while not messages and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        (envelope,) = messages
        payload = json.loads(json.loads(envelope["Body"])["Message"])
        assert payload["JobId"] == job_id and payload["Status"] == "SUCCEEDED"
        assert payload["API"] == "FACE_DETECTION" and payload["JobTag"] == "t1"
        assert payload["Video"] == {"S3ObjectName": "face.mp4", "S3Bucket": "videos"}
        assert abs(payload["Timestamp"] / 1000 - time.time()) < 120
    finally:
        server.stop()
