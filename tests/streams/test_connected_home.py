"""A ConnectedHome (label detection) stream processor, as a new user would try one: a
local video registered as stream `porch`, events read from an SQS queue subscribed to
an SNS topic on moto_server, frames and the summary read from the data directory's
bucket folder.

The video is real photos from the eval data, one after another, each held 2-3 s and
played as if live: a street with nobody in it, then a man in the left half of the frame,
then a cat in the right half.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageOps

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.shapes import assert_valid_output
from tests.streams.test_face_search_processor import register, status_of
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]

FPS = 10
WIDTH, HEIGHT = 640, 480
EMPTY = "opencv-doc/leuvenA.jpg"  # a house and a street, nobody (tests/data/label_truth.json)
PERSON = "face_recognition/obama.jpg"
CAT = "skimage/chelsea.png"
# Seconds each is shown: the street, the man (left half), the cat (right half).
SCENES = ((EMPTY, 2), (PERSON, 3), (CAT, 3))
VIDEO_ARN = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/porch/1700000000000"
LEFT_HALF = [{"X": 0.0, "Y": 0.0}, {"X": 0.5, "Y": 0.0}, {"X": 0.5, "Y": 1.0}, {"X": 0.0, "Y": 1.0}]


def scene(photo: Path, side: str | None) -> np.ndarray:
    """The photo filling the frame, or fitted into its left or right half on grey."""
    if side is None:
        return np.asarray(ImageOps.pad(Image.open(photo).convert("RGB"), (WIDTH, HEIGHT), color=(128,) * 3))
    canvas = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    half = ImageOps.pad(Image.open(photo).convert("RGB"), (WIDTH // 2, HEIGHT), color=(128,) * 3)
    left = 0 if side == "left" else WIDTH // 2
    canvas[:, left : left + WIDTH // 2] = np.asarray(half)
    return canvas


@dataclass
class Porch:
    server: ServerProcess
    data: Path
    topic: str
    queue_url: str
    sqs: Any


@pytest.fixture(scope="module")
def porch(
    models: ModelStore, photos: Path, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Porch]:
    root = tmp_path_factory.mktemp("connected-home")
    data = root / "data"
    (data / "s3" / "doorbell").mkdir(parents=True)  # the output bucket
    pictures = [scene(photos / EMPTY, None), scene(photos / PERSON, "left"), scene(photos / CAT, "right")]
    clip = make_clip(
        root / "porch.mp4", [(p, s * FPS) for p, (_, s) in zip(pictures, SCENES, strict=True)], fps=FPS
    )
    register(data, "porch", str(clip))
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    sns = session.client("sns", endpoint_url=moto_endpoint)
    sqs = session.client("sqs", endpoint_url=moto_endpoint)
    topic = sns.create_topic(Name="AmazonRekognitionPorch")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="porch-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    server = ServerProcess(data, env={"OPENREK_SNS_ENDPOINT_URL": moto_endpoint, **S3_KEYS})
    yield Porch(server, data, topic, queue_url, sqs)
    server.stop()


def definition(topic: str) -> dict[str, Any]:
    return {
        "Input": {"KinesisVideoStream": {"Arn": VIDEO_ARN}},
        "Output": {"S3Destination": {"Bucket": "doorbell", "KeyPrefix": "events/"}},
        "NotificationChannel": {"SNSTopicArn": topic},
        "Settings": {"ConnectedHome": {"Labels": ["PERSON", "PET"], "MinConfidence": 60}},
        "RoleArn": "arn:aws:iam::000000000000:role/rekognition",
    }


def run_session(client: Any, name: str) -> str:
    """Starts `name`, checks it stays STARTING while it runs (as AWS's label detection
    processors do) and waits for it to stop at the video's end; the session id."""
    session_id = str(
        client.start_stream_processor(Name=name, StopSelector={"MaxDurationInSeconds": 60})["SessionId"]
    )
    seen = {status_of(client, name)}
    deadline = time.monotonic() + 90
    while "STOPPED" not in seen and time.monotonic() < deadline:
        time.sleep(0.5)
        seen.add(status_of(client, name))
    assert seen == {"STARTING", "STOPPED"}, seen
    return session_id


def messages_of(porch: Porch, session_id: str, expected: int, timeout: float = 30) -> list[dict[str, Any]]:
    """Up to `expected` SNS messages of one session from the subscribed queue, waiting
    up to `timeout` seconds for them (each envelope's Subject is checked)."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < expected and time.monotonic() < deadline:
        batch = porch.sqs.receive_message(QueueUrl=porch.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for envelope in batch.get("Messages", []):
            porch.sqs.delete_message(QueueUrl=porch.queue_url, ReceiptHandle=envelope["ReceiptHandle"])
            body = json.loads(envelope["Body"])
            message = json.loads(body["Message"])
            assert body["Subject"] == "Rekognition Stream Processing Event"
            if message["sessionId"] == session_id:
                found.append(message)
    return found


def object_at(porch: Porch, uri: str) -> Path:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return porch.data / "s3" / bucket / key


def scene_span(index: int) -> tuple[int, int]:
    start = sum(seconds for _, seconds in SCENES[:index]) * 1000
    return start, start + SCENES[index][1] * 1000


def test_person_and_pet_events_frames_and_summary_then_a_region_leaves_the_cat_out(porch: Porch) -> None:
    client = rekognition_client(porch.server.url)
    client.create_stream_processor(Name="porch-cam", Tags={"home": "main"}, **definition(porch.topic))
    described = client.describe_stream_processor(Name="porch-cam")
    assert_valid_output("DescribeStreamProcessor", described)
    assert described["Settings"]["ConnectedHome"]["Labels"] == ["PERSON", "PET"]

    session_id = run_session(client, "porch-cam")
    messages = messages_of(porch, session_id, expected=3)
    events = [m for m in messages if m["eventNamespace"]["type"] == "LABEL_DETECTED"]
    (summary,) = [m for m in messages if m["eventNamespace"]["type"] == "STREAM_PROCESSING_COMPLETE"]
    # One event per class, the first time it is seen, each one label.
    assert sorted(label["name"] for e in events for label in e["labels"]) == ["PERSON", "PET"]
    for event in events:
        assert event["inputInformation"]["kinesisVideo"]["streamArn"] == VIDEO_ARN
        assert event["tags"] == {"home": "main"}
        assert event["startStreamProcessorRequest"]["Name"] == "porch-cam"
        (label,) = event["labels"]
        box = label["boundingBox"]
        mapping = label["videoMapping"]["kinesisVideoMapping"]
        offset = int(mapping["fragmentNumber"]) * 1000 + mapping["frameOffsetMillis"]
        centre_x = box["left"] + box["width"] / 2
        if label["name"] == "PERSON":
            start, end = scene_span(1)
            assert centre_x < 0.5  # the man is in the left half
        else:
            start, end = scene_span(2)
            assert centre_x > 0.5  # the cat in the right half
        # Seen while it was on screen (a frame's analysis may straddle the cut by a little).
        assert start - 300 <= offset < end, (label["name"], offset)
        assert label["confidence"] >= 60
        assert abs(mapping["producerTimestamp"] / 1000 - time.time()) < 120
        with Image.open(object_at(porch, label["frameImageUri"])) as frame:
            assert frame.format == "JPEG" and frame.size == (WIDTH, HEIGHT)
        with Image.open(object_at(porch, label["croppedImageUri"])) as crop:
            width, height = crop.size
        assert abs(width - box["width"] * WIDTH) <= 2 and abs(height - box["height"] * HEIGHT) <= 2
        assert label["frameImageUri"].startswith(f"s3://doorbell/events/porch-cam/{session_id}/")

    processed = summary["inputInformation"]["kinesisVideo"]["processedVideoDurationMillis"]
    assert 6000 <= processed <= 8000
    assert "Detected: PERSON, PET" in summary["streamProcessingResults"]["message"]
    report = json.loads(
        (porch.data / "s3/doorbell/events/porch-cam" / session_id / "summary.json").read_text()
    )
    assert report["sessionId"] == session_id and report["status"] == "STOPPED"
    assert {label["id"] for label in report["labels"]} == {e["labels"][0]["id"] for e in events}
    assert report["detections"] and all(d["labels"] for d in report["detections"])

    # Only the left half is watched now: the cat, in the right half, is never an event.
    client.update_stream_processor(Name="porch-cam", RegionsOfInterestForUpdate=[{"Polygon": LEFT_HALF}])
    assert client.describe_stream_processor(Name="porch-cam")["RegionsOfInterest"] == [{"Polygon": LEFT_HALF}]
    second = run_session(client, "porch-cam")
    messages = messages_of(porch, second, expected=2)
    named = [label["name"] for m in messages if "labels" in m for label in m["labels"]]
    assert named == ["PERSON"]
    (summary,) = [m for m in messages if m["eventNamespace"]["type"] == "STREAM_PROCESSING_COMPLETE"]
    assert "Not seen: PET" in summary["streamProcessingResults"]["message"]
    # Nothing late: no third message from that session.
    assert messages_of(porch, second, expected=1, timeout=2) == []

    client.update_stream_processor(
        Name="porch-cam",
        SettingsForUpdate={"ConnectedHomeForUpdate": {"Labels": ["ALL"]}},
        ParametersToDelete=["RegionsOfInterest", "ConnectedHomeMinConfidence"],
    )
    described = client.describe_stream_processor(Name="porch-cam")
    assert_valid_output("DescribeStreamProcessor", described)
    assert "RegionsOfInterest" not in described
    assert described["Settings"]["ConnectedHome"] == {"Labels": ["ALL"]}


def code(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as error:
        call(**params)
    return str(error.value.response["Error"]["Code"]), str(error.value.response["Error"]["Message"])


def test_create_start_and_update_refuse_what_aws_refuses(porch: Porch) -> None:
    """The model's own limits (list lengths, ranges, enums) answer ValidationException,
    as on AWS; what only the service knows, InvalidParameterException."""
    client = rekognition_client(porch.server.url, validate=False)
    good = definition(porch.topic)
    invalid, validation = "InvalidParameterException", "ValidationException"
    create = client.create_stream_processor
    no_channel = {k: v for k, v in good.items() if k != "NotificationChannel"}
    assert code(create, Name="x", **no_channel)[0] == invalid
    kinesis = {"KinesisDataStream": {"Arn": "arn:aws:kinesis:us-east-1:000000000000:stream/s"}}
    assert code(create, Name="x", **{**good, "Output": kinesis})[0] == invalid
    for settings, expected in (
        ({"Labels": ["CAR"]}, invalid),
        ({"Labels": []}, validation),
        ({"Labels": ["PET"], "MinConfidence": 101}, validation),
    ):
        assert code(create, Name="x", **{**good, "Settings": {"ConnectedHome": settings}})[0] == expected
    box = {"BoundingBox": {"Left": 0, "Top": 0, "Width": 0.1, "Height": 0.1}}
    for regions, expected in (
        ([box] * 11, validation),
        ([{"Polygon": LEFT_HALF[:2]}], invalid),
        ([{"BoundingBox": {"Left": 2, "Top": 0, "Width": 1, "Height": 1}}], invalid),
        ([{**box, "Polygon": LEFT_HALF}], invalid),
    ):
        assert code(create, Name="x", RegionsOfInterest=regions, **good)[0] == expected
    # A local bucket folder cannot encrypt with a KMS key.
    assert code(create, Name="x", KmsKeyId="key", **good)[0] == invalid
    assert code(client.describe_stream_processor, Name="x")[0] == "ResourceNotFoundException"

    client.create_stream_processor(Name="checks", **good)
    start = client.start_stream_processor
    assert code(start, Name="checks", StopSelector={"MaxDurationInSeconds": 121})[0] == validation
    by_fragment = {
        "KVSStreamStartSelector": {"FragmentNumber": "91343852333181432392682062607743920146264440301"}
    }
    assert code(start, Name="checks", StartSelector=by_fragment)[0] == invalid
    update = client.update_stream_processor
    assert code(update, Name="checks", ParametersToDelete=["FaceMatchThreshold"])[0] == validation
    bad_labels = {"ConnectedHomeForUpdate": {"Labels": ["TRUCK"]}}
    assert code(update, Name="checks", SettingsForUpdate=bad_labels)[0] == invalid
    both = {"ParametersToDelete": ["RegionsOfInterest"], "RegionsOfInterestForUpdate": [box]}
    assert code(update, Name="checks", **both)[0] == invalid
    # Nothing refused was kept.
    assert client.describe_stream_processor(Name="checks")["Settings"] == good["Settings"]
    assert porch.server.alive()


def test_without_an_sns_endpoint_create_says_which_setting_is_missing(unvalidated: Any) -> None:
    # The shared server has no OPENREK_SNS_ENDPOINT_URL.
    good = definition("arn:aws:sns:us-east-1:000000000000:porch")
    error, message = code(unvalidated.create_stream_processor, Name="no-sns", **good)
    assert error == "InvalidParameterException" and "OPENREK_SNS_ENDPOINT_URL" in message
