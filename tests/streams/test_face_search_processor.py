"""A FaceSearch stream processor, as a new user would try one: a local video file
registered as stream `cam1`, a collection indexed from one still of a person in it,
records read back from a Kinesis stream on moto_server.

The video is the joined real footage of tests/jobs/test_face_search_real_video.py:
someone else (2.4 s), the indexed person (6 s), then nobody (3.9 s), played at its own
frame rate as if live.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import boto3
import pytest
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, models_dir, rekognition_client
from tests.jobs.test_face_search_real_video import PARTS, join
from tests.shapes import assert_valid_output
from tests.test_s3_endpoint import S3_KEYS

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]

VIDEO_ARN = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1700000000000"
OUTPUT_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/door-events"


def kinesis(endpoint: str) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def register(data: Path, name: str, url: str) -> None:
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models_dir())}
    done = subprocess.run(
        [sys.executable, "-m", "openrek", "video-streams", "put", name, url, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def streaming(
    models: ModelStore, photos: Path, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, list[tuple[int, int]]]]:
    root = tmp_path_factory.mktemp("streams")
    data = root / "data"
    data.mkdir()
    spans = join([(photos / name, seconds) for name, seconds in PARTS], root / "hall.mp4")
    register(data, "cam1", str(root / "hall.mp4"))
    still = root / "still.jpg"
    with av.open(str(photos / PARTS[1][0])) as reader:
        for frame in reader.decode(video=0):
            if frame.time is not None and frame.time >= 3.0:
                frame.to_image().save(still)  # type: ignore[no-untyped-call]  # PyAV's stub leaves to_image unannotated
                break
    kinesis(moto_endpoint).create_stream(StreamName="door-events", ShardCount=1)
    server = ServerProcess(data, env={"OPENREK_KINESIS_ENDPOINT_URL": moto_endpoint, **S3_KEYS})
    client = rekognition_client(server.url)
    client.create_collection(CollectionId="staff")
    client.index_faces(
        CollectionId="staff", Image={"Bytes": still.read_bytes()}, ExternalImageId="wolfgang", MaxFaces=1
    )
    yield server, spans
    server.stop()


def read_records(endpoint: str, stream: str) -> list[dict[str, Any]]:
    client = kinesis(endpoint)
    shard = client.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while iterator:
        batch = client.get_records(ShardIterator=iterator, Limit=1000)
        records += [json.loads(r["Data"]) for r in batch["Records"]]
        if not batch["Records"]:
            break
        iterator = batch.get("NextShardIterator")
    return records


def status_of(client: Any, name: str) -> str:
    described = client.describe_stream_processor(Name=name)
    assert_valid_output("DescribeStreamProcessor", described)
    return str(described["Status"])


def test_face_search_records_name_the_person_only_while_he_is_there(
    streaming: tuple[ServerProcess, list[tuple[int, int]]], moto_endpoint: str
) -> None:
    server, (_other, his, empty) = streaming
    client = rekognition_client(server.url)
    created = client.create_stream_processor(
        Name="front-door",
        Input={"KinesisVideoStream": {"Arn": VIDEO_ARN}},
        Output={"KinesisDataStream": {"Arn": OUTPUT_ARN}},
        Settings={"FaceSearch": {"CollectionId": "staff", "FaceMatchThreshold": 85}},
        RoleArn="arn:aws:iam::000000000000:role/rekognition",
        Tags={"site": "hall"},
    )
    assert created["StreamProcessorArn"].endswith(":streamprocessor/front-door")
    assert status_of(client, "front-door") == "STOPPED"
    session = client.start_stream_processor(Name="front-door")["SessionId"]
    assert len(session) == 36
    seen = {status_of(client, "front-door")}
    deadline = time.monotonic() + 90
    while "STOPPED" not in seen and time.monotonic() < deadline:
        time.sleep(0.5)
        seen.add(status_of(client, "front-door"))
    # The file plays as if live, then ends: the session stops by itself.
    assert "RUNNING" in seen and "STOPPED" in seen

    records = read_records(moto_endpoint, "door-events")
    offsets = []
    matched = []
    for record in records:
        video = record["InputInformation"]["KinesisVideo"]
        assert video["StreamArn"] == VIDEO_ARN and record["StreamProcessorInformation"]["Status"] == "RUNNING"
        offset = int(video["FragmentNumber"]) + video["FrameOffsetInSeconds"]
        offsets.append(offset)
        for face in record["FaceSearchResponse"]:
            assert set(face["DetectedFace"]) >= {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}
            names = {m["Face"]["ExternalImageId"] for m in face["MatchedFaces"]}
            assert all(m["Similarity"] >= 85 for m in face["MatchedFaces"])
            if names:
                assert names == {"wolfgang"}
                matched.append(offset * 1000)
    # About 5 analysed frames a second of the 12 s video, each a record.
    duration = empty[1] / 1000
    assert 0.6 * 5 * duration <= len(records) <= 5 * duration + 2
    assert offsets == sorted(offsets)
    assert matched and all(his[0] - 250 <= t < his[1] + 250 for t in matched), (matched, his)
    in_his = [o for o in offsets if his[0] <= o * 1000 < his[1]]
    assert len(matched) >= 0.8 * len(in_his)


def test_lifecycle_errors_tags_and_listing(streaming: tuple[ServerProcess, list[tuple[int, int]]]) -> None:
    server, _spans = streaming
    client = rekognition_client(server.url)
    definition: dict[str, Any] = {
        "Input": {"KinesisVideoStream": {"Arn": VIDEO_ARN}},
        "Output": {"KinesisDataStream": {"Arn": OUTPUT_ARN}},
        "Settings": {"FaceSearch": {"CollectionId": "staff"}},
        "RoleArn": "arn:aws:iam::000000000000:role/rekognition",
    }

    def code(call: Any, **params: Any) -> str:
        with pytest.raises(ClientError) as error:
            call(**params)
        return str(error.value.response["Error"]["Code"])

    client.create_stream_processor(Name="back-door", **definition)
    assert code(client.create_stream_processor, Name="back-door", **definition) == "ResourceInUseException"
    no_collection = {**definition, "Settings": {"FaceSearch": {"CollectionId": "nobody"}}}
    assert code(client.create_stream_processor, Name="x", **no_collection) == "InvalidParameterException"
    # A collection deleted after Create is a missing resource at Start, as AWS documents.
    client.create_collection(CollectionId="short-lived")
    client.create_stream_processor(
        Name="orphan", **{**definition, "Settings": {"FaceSearch": {"CollectionId": "short-lived"}}}
    )
    client.delete_collection(CollectionId="short-lived")
    assert code(client.start_stream_processor, Name="orphan") == "ResourceNotFoundException"
    client.delete_stream_processor(Name="orphan")
    to_s3 = {**definition, "Output": {"S3Destination": {"Bucket": "frames"}}}
    assert code(client.create_stream_processor, Name="x", **to_s3) == "InvalidParameterException"
    bad_input = {
        **definition,
        "Input": {"KinesisVideoStream": {"Arn": "arn:aws:kinesisvideo:us-east-1:000000000000:channel/x/1"}},
    }
    assert code(client.create_stream_processor, Name="x", **bad_input) == "InvalidParameterException"
    assert code(client.describe_stream_processor, Name="nothing") == "ResourceNotFoundException"
    assert code(client.stop_stream_processor, Name="back-door") == "ResourceInUseException"

    arn = client.describe_stream_processor(Name="back-door")["StreamProcessorArn"]
    client.tag_resource(ResourceArn=arn, Tags={"floor": "1", "team": "ops"})
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"floor": "1"}

    first = client.list_stream_processors(MaxResults=1)
    assert_valid_output("ListStreamProcessors", first)
    second = client.list_stream_processors(MaxResults=1, NextToken=first["NextToken"])
    names = [p["Name"] for p in first["StreamProcessors"] + second["StreamProcessors"]]
    assert names == ["back-door", "front-door"] or names[0] < names[1]

    client.start_stream_processor(Name="back-door")
    assert code(client.start_stream_processor, Name="back-door") == "ResourceInUseException"
    assert code(client.delete_stream_processor, Name="back-door") == "ResourceInUseException"
    client.stop_stream_processor(Name="back-door")
    deadline = time.monotonic() + 30
    while status_of(client, "back-door") != "STOPPED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status_of(client, "back-door") == "STOPPED"
    client.delete_stream_processor(Name="back-door")
    assert code(client.describe_stream_processor, Name="back-door") == "ResourceNotFoundException"


def test_watch_prints_the_person_while_he_is_there(
    streaming: tuple[ServerProcess, list[tuple[int, int]]],
) -> None:
    server, (_other, his, _empty) = streaming
    preview = server.data_dir.parent / "preview.mp4"
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models_dir())}
    clip = str(server.data_dir.parent / "hall.mp4")
    options = ["--collection-id", "staff", "--data-dir", str(server.data_dir), "--preview", str(preview)]
    done = subprocess.run(
        [sys.executable, "-m", "openrek", "watch", clip, *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert lines and all(words[2] == "wolfgang" for words in lines)
    offsets = [float(words[1].rstrip("s")) * 1000 for words in lines]
    assert all(his[0] - 250 <= t < his[1] + 250 for t in offsets)
    analysed = int(done.stderr.split(" frames analysed")[0].split()[-1])
    with av.open(str(preview)) as video:
        assert sum(1 for _ in video.decode(video=0)) == analysed
