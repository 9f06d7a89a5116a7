"""`openrek custom-labels train FOLDER` and the Custom Labels AWS-CLI verbs, run as a
user runs them: in a subprocess, in-process on a data dir or against the real server.
The folders hold the eval photos tests/custom_labels/scenes.py sorts into portraits
and scenes; the last photo of each list is never in a folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from openrek.cli_custom_labels import detection_manifest
from openrek.custom_labels.manifest import parse_manifest
from tests.conftest import ServerProcess
from tests.custom_labels.helpers import version_status
from tests.custom_labels.scenes import PORTRAITS, SCENES
from tests.shapes import assert_valid_output

FOLDERS = {"portrait": PORTRAITS[:-1], "scene": SCENES[:-1]}
HELD_OUT = {"portrait": PORTRAITS[-1], "scene": SCENES[-1]}


def _openrek(*args: str, models_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openrek", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPENREK_MODELS_DIR": str(models_dir)},
    )


def _folder(photos: Path, root: Path, test_per_label: int = 0) -> Path:
    """root/<label>/ photos; the last `test_per_label` of each go to root/test/<label>/."""
    for label, names in FOLDERS.items():
        for index, name in enumerate(names):
            part = root / "test" / label if index >= len(names) - test_per_label else root / label
            part.mkdir(parents=True, exist_ok=True)
            (part / name.replace("/", "_")).write_bytes((photos / name).read_bytes())
    return root


def _evaluation(stdout: str) -> tuple[float, dict[str, tuple[float, float]], tuple[int, int]]:
    """F1, label -> (precision, recall), (training, test images) from the printed report."""
    f1_line = re.search(r"^F1 ([0-9.]+)", stdout, re.M)
    assert f1_line is not None, stdout
    f1 = float(f1_line.group(1))
    counts = re.search(r"^(\d+) training images, (\d+) test images", stdout, re.M)
    assert counts is not None, stdout
    labels = {
        match.group(1): (float(match.group(2)), float(match.group(3)))
        for match in re.finditer(r"^(portrait|scene) +([0-9.]+) +([0-9.]+)", stdout, re.M)
    }
    return f1, labels, (int(counts.group(1)), int(counts.group(2)))


def test_train_a_folder_in_process_then_label_held_out_photos_with_the_verbs(
    models: Any, photos: Path, tmp_path: Path
) -> None:
    folder = _folder(photos, tmp_path / "photos")
    data = ["--data-dir", str(tmp_path / "data")]
    done = _openrek(
        "custom-labels", "train", str(folder), "--project", "looks", "--version-name", "v1", *data,
        models_dir=models.models_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "TRAINING_COMPLETED" in done.stderr and "100%" in done.stderr  # the progress bar ended
    f1, labels, (training, testing) = _evaluation(done.stdout)
    assert set(labels) == {"portrait", "scene"}
    assert training + testing == sum(len(names) for names in FOLDERS.values())
    assert testing >= 2  # the service held out 20% per label
    assert f1 >= 0.8 and all(0 <= p <= 1 and 0 <= r <= 1 for p, r in labels.values())
    # The images are the user's S3 objects now, in the data dir's bucket folder.
    copied = sorted((tmp_path / "data/s3/openrek-custom-labels/looks/train/portrait").iterdir())
    assert len(copied) == len(FOLDERS["portrait"])

    version = re.search(r"^(arn:\S+/version/v1/\d+):", done.stdout, re.M)
    assert version is not None, done.stdout
    started = _openrek(
        "start-project-version", "--project-version-arn", version.group(1), "--min-inference-units", "1",
        *data, models_dir=models.models_dir,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["Status"] == "STARTING"
    # Each verb is a new process: a RUNNING version loads before its request is answered.
    for label, name in HELD_OUT.items():
        detected = _openrek(
            "detect-custom-labels", str(photos / name), "--project-version-arn", version.group(1),
            "--min-confidence", "0", *data, models_dir=models.models_dir,
        )  # fmt: skip
        assert detected.returncode == 0, detected.stderr
        answer = json.loads(detected.stdout)
        assert_valid_output("DetectCustomLabels", answer)
        assert answer["CustomLabels"][0]["Name"] == label, (name, answer)


def test_train_against_a_server_with_a_test_folder(
    rekognition: Any, server: ServerProcess, models: Any, photos: Path, tmp_path: Path
) -> None:
    folder = _folder(photos, tmp_path / "photos", test_per_label=2)
    connection = ["--endpoint-url", server.url, "--data-dir", str(server.data_dir)]
    done = _openrek(
        "custom-labels", "train", str(folder), "--project", "cli-looks", "--version-name", "v1", *connection,
        models_dir=models.models_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _f1, _labels, (training, testing) = _evaluation(done.stdout)
    assert testing == 4 and training == sum(len(names) for names in FOLDERS.values()) - 4

    project = rekognition.describe_projects(ProjectNames=["cli-looks"])["ProjectDescriptions"][0]
    assert {d["DatasetType"] for d in project["Datasets"]} == {"TRAIN", "TEST"}
    labels = _openrek(
        "list-dataset-labels", "--dataset-arn",
        next(d["DatasetArn"] for d in project["Datasets"] if d["DatasetType"] == "TEST"), *connection,
        models_dir=models.models_dir,
    )  # fmt: skip
    assert labels.returncode == 0, labels.stderr
    assert_valid_output("ListDatasetLabels", json.loads(labels.stdout))
    counts = {
        d["LabelName"]: d["LabelStats"]["EntryCount"]
        for d in json.loads(labels.stdout)["DatasetLabelDescriptions"]
    }
    assert counts == {"portrait": 2, "scene": 2}

    described = version_status(rekognition, project["ProjectArn"], "v1", ("TRAINING_COMPLETED",))
    arn = described["ProjectVersionArn"]
    rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    version_status(rekognition, project["ProjectArn"], "v1", ("RUNNING",), timeout=60)
    for label, name in HELD_OUT.items():
        answer = rekognition.detect_custom_labels(
            ProjectVersionArn=arn, Image={"Bytes": (photos / name).read_bytes()}, MinConfidence=0
        )
        assert_valid_output("DetectCustomLabels", answer)
        assert answer["CustomLabels"][0]["Name"] == label, (name, answer)
    rekognition.stop_project_version(ProjectVersionArn=arn)

    # A second run on the same project adds to its datasets and trains another version.
    again = _openrek(
        "custom-labels", "train", str(folder), "--project", "cli-looks", "--version-name", "v2", *connection,
        models_dir=models.models_dir,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert _evaluation(again.stdout)[2] == (training, testing)  # same source-refs: replaced, not doubled


def test_train_refuses_a_folder_without_class_subfolders(models: Any, tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "photo.jpg").write_bytes(b"\xff\xd8")
    done = _openrek(
        "custom-labels", "train", str(tmp_path / "flat"), "--project", "p", "--data-dir", str(tmp_path / "d"),
        models_dir=models.models_dir,
    )  # fmt: skip
    assert done.returncode == 2 and "no <label>/ subfolders" in done.stderr
    remote = _openrek(
        "custom-labels", "train", str(tmp_path / "flat"), "--project", "p", "--endpoint-url", "http://127.0.0.1:9",
        models_dir=models.models_dir,
    )  # fmt: skip
    assert remote.returncode == 2 and "--data-dir" in remote.stderr


def test_detection_manifest_copies_local_images_and_keeps_s3_ones(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"png bytes")
    metadata = {"class-map": {"0": "apple"}, "type": "groundtruth/object-detection", "human-annotated": "yes"}
    boxes = {"image_size": [{"width": 40, "height": 30, "depth": 3}],
             "annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 10, "height": 12}]}  # fmt: skip
    lines = [
        {"source-ref": "a.png", "fruit": boxes, "fruit-metadata": metadata},
        {"source-ref": "s3://elsewhere/b.png", "fruit": boxes, "fruit-metadata": metadata},
    ]
    manifest = tmp_path / "boxes.manifest"
    manifest.write_text("\n".join(json.dumps(line) for line in lines))
    body, count = detection_manifest(tmp_path / "images", manifest, tmp_path / "s3", "bucket", "proj")
    entries = parse_manifest(body)
    assert count == 2 and [e.source_ref for e in entries] == [
        "s3://bucket/proj/train/a.png",
        "s3://elsewhere/b.png",
    ]
    assert all(e.usable for e in entries)
    assert (tmp_path / "s3/bucket/proj/train/a.png").read_bytes() == b"png bytes"
