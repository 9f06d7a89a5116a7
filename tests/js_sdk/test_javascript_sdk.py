"""The AWS SDK for JavaScript v3 (@aws-sdk/client-rekognition, pinned in
tests/js_sdk/package-lock.json) against a real server: faces indexed and found,
labels, a paginator, errors as the SDK's own exception classes, and SigV4 signatures
that a server with access keys accepts, or refuses when the secret is wrong. The calls
include every one Double Take's Rekognition detector makes, and what it reads back.

Node.js and npm come from Debian (`apt-get install nodejs npm`); scripts/test installs
them and runs `npm ci` here when node_modules is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server

HERE = Path(__file__).parent
KEY_ID, SECRET = "AKIDJSSDKTEST", "js-sdk-secret"
CLIP_FPS = 10


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None or not (HERE / "node_modules" / "@aws-sdk" / "client-rekognition").is_dir():
        pytest.fail(
            "Node.js and the pinned JavaScript SDK are missing: `apt-get install nodejs npm` and "
            f"`npm ci --prefix {HERE}` (scripts/test does both)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def keyed(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("js-sdk") / "data", env={"OPENREK_ACCESS_KEYS": f"{KEY_ID}:{SECRET}"}
    )
    yield process
    process.stop()


def run_sdk(node: str, url: str, photos: Path, key_id: str, secret: str, *video: str) -> dict[str, Any]:
    """The script's steps; `video` is (bucket, key) of a clip the server can read."""
    collection = f"js-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            node,
            str(HERE / "rekognition_calls.mjs"),
            url,
            collection,
            str(photos / "face_recognition/obama.jpg"),
            str(photos / "face_recognition/obama2.jpg"),
            str(photos / "skimage/coffee.png"),
            *video,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    steps: dict[str, Any] = json.loads(done.stdout)
    return steps


def test_the_javascript_sdk_indexes_searches_pages_and_reads_errors(
    node: str, server: ServerProcess, photos: Path
) -> None:
    still = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((320, 240)))
    clip = server.data_dir / "s3" / "js-media" / "face.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    make_clip(clip, [(still, 2 * CLIP_FPS)], fps=CLIP_FPS)
    steps = run_sdk(node, server.url, photos, "anything", "anything", "js-media", "face.mp4")
    assert steps["CreateCollection"]["ok"]["StatusCode"] == 200
    record = steps["IndexFaces"]["ok"]["FaceRecords"][0]
    assert record["Face"]["ExternalImageId"] == "first-photo"
    assert 0 < record["FaceDetail"]["AgeRange"]["Low"] <= record["FaceDetail"]["AgeRange"]["High"]
    again = steps["IndexFacesAgain"]["ok"]["FaceRecords"][0]["Face"]["FaceId"]
    matches = steps["SearchFacesByImage"]["ok"]["FaceMatches"]
    # The searched photo's face is itself indexed; the other photo of the same man is found too.
    assert {m["Face"]["FaceId"] for m in matches} == {record["Face"]["FaceId"], again}
    assert all(m["Similarity"] >= 80 for m in matches)
    box = steps["SearchFacesByImage"]["ok"]["SearchedFaceBoundingBox"]  # Double Take draws it
    assert 0 < box["Width"] <= 1 and 0 < box["Height"] <= 1
    assert steps["SearchFacesByImage"]["ok"]["$metadata"]["httpStatusCode"] == 200
    # Double Take tells "no faces" apart from other failures by the message.
    faceless = steps["SearchFaceless"]["error"]
    assert faceless["name"] == "InvalidParameterException" and "no faces" in faceless["message"]
    deleted = steps["DeleteFaces"]["ok"]
    assert deleted["DeletedFaces"] == [record["Face"]["FaceId"]]
    assert [f["FaceId"] for f in deleted.get("UnsuccessfulFaceDeletions", [])] in (
        [],
        ["00000000-0000-4000-8000-000000000000"],
    )
    # The SDK's paginator followed NextToken one face a page (before DeleteFaces).
    assert sorted(face for page in steps["ListFacesPages"]["ok"] for face in page) == sorted(
        [record["Face"]["FaceId"], again]
    )
    assert all(len(page) <= 1 for page in steps["ListFacesPages"]["ok"])
    labels = steps["DetectLabels"]["ok"]["Labels"]
    assert labels and len(labels) <= 5 and any(label["Name"] == "Person" for label in labels)

    missing = steps["DescribeMissingCollection"]["error"]
    assert missing["name"] == "ResourceNotFoundException" and missing["notFound"] and missing["modelled"]
    assert missing["status"] == 400
    invalid = steps["InvalidCollectionId"]["error"]
    assert invalid["name"] == "ValidationException" and invalid["status"] == 400
    assert "collectionId" in invalid["message"]
    assert steps["DeleteCollection"]["ok"]["StatusCode"] == 200

    # A stored-video job started and read through the SDK: the face in each sampled frame.
    job = steps["FaceDetectionJob"]["ok"]
    assert job["JobStatus"] == "SUCCEEDED" and job["JobTag"] == "js-sdk"
    assert job["VideoMetadata"]["FrameRate"] == CLIP_FPS
    assert len(job["Faces"]) >= 5 and all(face["Face"]["Confidence"] > 90 for face in job["Faces"])


def test_the_javascript_sdk_signs_as_a_keyed_server_expects(
    node: str, keyed: ServerProcess, photos: Path
) -> None:
    signed = run_sdk(node, keyed.url, photos, KEY_ID, SECRET)
    assert signed["CreateCollection"]["ok"]["StatusCode"] == 200
    assert signed["SearchFacesByImage"]["ok"]["FaceMatches"]
    assert signed["DeleteCollection"]["ok"]["StatusCode"] == 200

    wrong = run_sdk(node, keyed.url, photos, KEY_ID, "not-the-secret")
    assert {step["error"]["name"] for step in wrong.values()} == {"InvalidSignatureException"}
    # 400, as AWS's JSON services answer a bad signature (DynamoDB and Kinesis alike).
    assert {step["error"]["status"] for step in wrong.values()} == {400}
