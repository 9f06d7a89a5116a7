"""The Stream processors page in a real browser: a FaceSearch processor created,
started and stopped through the page over a real clip registered as a live source,
its settings and statuses as boto3 describes them, its results where the page says
they go (a Kinesis stream on moto_server), and the list paged 10 at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.console.conftest import check_watch, open_console
from tests.console.test_console_pages import PHONE, UNLABELLED
from tests.shapes import assert_valid_output
from tests.streams.test_face_search_processor import kinesis, read_records, register
from tests.test_s3_endpoint import S3_KEYS
from tests.video.clips import make_clip

pytestmark = [pytest.mark.needs_moto, pytest.mark.needs_server]

VIDEO_ARN = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/console-cam/1700000000000"
OUTPUT_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/console-matches"


@pytest.fixture(scope="module")
def stream_server(
    models: ModelStore, photos: Path, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("console-streams")
    data = root / "data"
    data.mkdir()
    face = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((320, 240)))
    make_clip(root / "door.mp4", [(face, 25 * 8)], fps=25)  # 8 s: it plays as if live
    register(data, "console-cam", str(root / "door.mp4"))
    kinesis(moto_endpoint).create_stream(StreamName="console-matches", ShardCount=1)
    server = ServerProcess(data, env={"OPENREK_KINESIS_ENDPOINT_URL": moto_endpoint, **S3_KEYS})
    client = rekognition_client(server.url)
    client.create_collection(CollectionId="console-door")
    client.index_faces(
        CollectionId="console-door",
        Image={"Bytes": (photos / "face_recognition/obama.jpg").read_bytes()},
        ExternalImageId="barack",
    )
    yield server
    server.stop()


def test_a_face_search_processor_created_started_and_stopped_in_the_page(
    browser: Browser, stream_server: ServerProcess, moto_endpoint: str
) -> None:
    client = rekognition_client(stream_server.url)
    for n in range(10):  # with the page's own, 11: two pages of 10
        client.create_stream_processor(
            Name=f"console-idle-{n:02d}",
            Input={"KinesisVideoStream": {"Arn": VIDEO_ARN}},
            Output={"KinesisDataStream": {"Arn": OUTPUT_ARN}},
            Settings={"FaceSearch": {"CollectionId": "console-door"}},
            RoleArn="arn:aws:iam::000000000000:role/rekognition",
        )
    page, watch = open_console(browser, stream_server.url)
    page.goto(stream_server.url + "/console#/streams")
    page.wait_for_selector("#stream-list tr[data-name]")
    page.click("#stream-create summary")
    page.fill("#stream-name", "console-door-cam")
    page.fill("#stream-input", VIDEO_ARN)
    page.fill("#stream-collection", "console-door")
    page.fill("#stream-threshold", "85")
    page.fill("#stream-kinesis", OUTPUT_ARN)
    page.click("#stream-create-submit")
    page.wait_for_selector("#stream-title:has-text('console-door-cam')")
    panel = "#stream-detail section[data-name='console-door-cam']"
    page.wait_for_selector(f"{panel}[data-status=STOPPED]")

    described = client.describe_stream_processor(Name="console-door-cam")
    assert_valid_output("DescribeStreamProcessor", described)
    assert described["Settings"]["FaceSearch"] == {"CollectionId": "console-door", "FaceMatchThreshold": 85.0}
    facts = page.inner_text("#stream-detail-body dl")
    for shown in ("FaceSearch", VIDEO_ARN, "console-door", described["StreamProcessorArn"]):
        assert shown in facts
    # The page says where the matches go, and that it cannot show them.
    note = page.inner_text("#stream-live-note")
    assert "no call that returns" in note
    assert page.inner_text("#stream-live-note code.destination") == OUTPUT_ARN

    page.click("#stream-start")
    page.wait_for_selector(f"{panel}[data-status=RUNNING]", timeout=60_000)
    assert "Started: session" in page.inner_text("#stream-status")
    assert client.describe_stream_processor(Name="console-door-cam")["Status"] == "RUNNING"
    page.click("#stream-stop")
    page.wait_for_selector(f"{panel}[data-status=STOPPED]", timeout=60_000)
    assert client.describe_stream_processor(Name="console-door-cam")["Status"] == "STOPPED"
    # The list's chip follows the processor's status.
    assert page.inner_text("#stream-list tr[data-name='console-door-cam'] .chip") == "STOPPED"
    # What ran went where the page said: records naming the indexed face on the Kinesis stream.
    records = read_records(moto_endpoint, "console-matches")
    matched = [
        match["Face"]["ExternalImageId"]
        for record in records
        for face in record["FaceSearchResponse"]
        for match in face["MatchedFaces"]
    ]
    assert matched and set(matched) == {"barack"}

    # 11 processors: 10 on the first page, the 11th on the next.
    names = page.locator("#stream-list tr[data-name]").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert len(names) == 10
    page.get_by_role("navigation", name="Stream processor pages").get_by_role("button", name="Next").click()
    page.wait_for_function("() => document.querySelectorAll('#stream-list tr[data-name]').length === 1")
    assert {call.get("MaxResults") for call in watch.calls("ListStreamProcessors")} == {10}

    # Filled in, the page still names every control and fits a phone.
    assert page.evaluate(UNLABELLED) == []
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Refused input shows the AWS error and leaves the page usable.
    watch.expect_api_errors()
    page.fill("#stream-name", "console-bad")
    page.fill("#stream-collection", "no-such-collection")
    page.click("#stream-create-submit")
    page.wait_for_selector("#stream-create-status.error")
    # CreateStreamProcessor declares no ResourceNotFound: a missing collection is a bad parameter.
    status = page.inner_text("#stream-create-status")
    assert status.startswith("InvalidParameterException") and "no-such-collection" in status
    check_watch(page, watch)
