"""Custom Labels training and model versions through the real server with boto3:
a classifier trained on two folders of real photos, a detector trained on boxed
scenes of real fruit on real backgrounds (tests/custom_labels/scenes.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openrek.custom_labels.manifest import Box, classification_line, detection_line
from tests.conftest import ServerProcess
from tests.custom_labels.helpers import dataset_status, put_object, version_status
from tests.custom_labels.scenes import PORTRAITS, SCENES, TEST_BACKGROUNDS, TRAIN_BACKGROUNDS, boxed_scenes
from tests.shapes import assert_valid_output

BUCKET = "cl-training"
HELD_OUT = 3  # the last photos of each folder are never in a manifest
OUTPUT = {"S3Bucket": BUCKET, "S3KeyPrefix": "evaluation/"}


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _train(
    rekognition: Any, server: ServerProcess, project_name: str, lines: list[str]
) -> tuple[str, dict[str, Any]]:
    put_object(server.data_dir, BUCKET, f"{project_name}.manifest", "\n".join(lines).encode())
    project = rekognition.create_project(ProjectName=project_name)["ProjectArn"]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": f"{project_name}.manifest"}}}
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)[
        "DatasetArn"
    ]
    assert dataset_status(rekognition, train)["Status"] == "CREATE_COMPLETE"
    rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    trained = version_status(rekognition, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
    assert trained["Status"] == "TRAINING_COMPLETED", trained["StatusMessage"]
    return project, trained


def _start(rekognition: Any, project: str, version: dict[str, Any]) -> None:
    rekognition.start_project_version(ProjectVersionArn=version["ProjectVersionArn"], MinInferenceUnits=1)
    running = version_status(rekognition, project, "v1", ("RUNNING", "FAILED"), timeout=60)
    assert running["Status"] == "RUNNING" and running["MinInferenceUnits"] == 1


def test_a_classifier_trained_on_two_folders_labels_held_out_photos(
    rekognition: Any, server: ServerProcess, photos: Path
) -> None:
    lines = []
    for label, names in (("portrait", PORTRAITS), ("scene", SCENES)):
        for name in names[:-HELD_OUT]:
            uri = put_object(
                server.data_dir, BUCKET, f"folders/{label}/{Path(name).name}", (photos / name).read_bytes()
            )
            lines.append(classification_line(uri, label))
    project, trained = _train(rekognition, server, "cl-portraits", lines)
    assert trained["BillableTrainingTimeInSeconds"] >= 1
    assert trained["EvaluationResult"]["F1Score"] >= 0.8
    summary_object = trained["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads(
        (server.data_dir / "s3" / summary_object["Bucket"] / summary_object["Name"]).read_text()
    )
    assert summary_object["Name"] == "evaluation/EvaluationSummary-cl-portraits-v1.json"
    assert (
        summary["EvaluationDetails"]["NumberOfTrainingImages"]
        + summary["EvaluationDetails"]["NumberOfTestingImages"]
        == len(PORTRAITS) + len(SCENES) - 2 * HELD_OUT
    )
    assert {r["Label"] for r in summary["LabelEvaluationResults"]} == {"portrait", "scene"}
    assert all(0 <= r["Metrics"]["Threshold"] <= 1 for r in summary["LabelEvaluationResults"])

    arn = trained["ProjectVersionArn"]
    with pytest.raises(ClientError) as not_started:
        rekognition.detect_custom_labels(
            ProjectVersionArn=arn, Image={"Bytes": (photos / PORTRAITS[-1]).read_bytes()}
        )
    assert _code(not_started) == "ResourceNotReadyException"
    _start(rekognition, project, trained)
    for label, names in (("portrait", PORTRAITS), ("scene", SCENES)):
        for name in names[-HELD_OUT:]:
            answer = rekognition.detect_custom_labels(
                ProjectVersionArn=arn, Image={"Bytes": (photos / name).read_bytes()}, MinConfidence=0
            )
            assert_valid_output("DetectCustomLabels", answer)
            assert answer["CustomLabels"][0]["Name"] == label, (name, answer)
            assert answer["CustomLabels"][0]["Confidence"] > 50
    top = rekognition.detect_custom_labels(
        ProjectVersionArn=arn,
        Image={"Bytes": (photos / SCENES[-1]).read_bytes()},
        MaxResults=1,
        MinConfidence=0,
    )
    assert len(top["CustomLabels"]) == 1

    with pytest.raises(ClientError) as running:
        rekognition.delete_project_version(ProjectVersionArn=arn)
    assert _code(running) == "ResourceInUseException"
    rekognition.stop_project_version(ProjectVersionArn=arn)
    assert version_status(rekognition, project, "v1", ("STOPPED",), timeout=30)["Status"] == "STOPPED"
    with pytest.raises(ClientError) as stopped:
        rekognition.detect_custom_labels(
            ProjectVersionArn=arn, Image={"Bytes": (photos / SCENES[-1]).read_bytes()}
        )
    assert _code(stopped) == "ResourceNotReadyException"

    # A copy into another project runs on its own; the source's tags stay its own.
    rekognition.tag_resource(ResourceArn=arn, Tags={"stage": "test"})
    assert rekognition.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"stage": "test"}
    other = rekognition.create_project(ProjectName="cl-portraits-copy")["ProjectArn"]
    copy = rekognition.copy_project_version(
        SourceProjectArn=project,
        SourceProjectVersionArn=arn,
        DestinationProjectArn=other,
        VersionName="v1",
        OutputConfig=OUTPUT,
    )["ProjectVersionArn"]
    copied = version_status(rekognition, other, "v1", ("COPYING_COMPLETED", "COPYING_FAILED"), timeout=30)
    assert copied["Status"] == "COPYING_COMPLETED" and copied["SourceProjectVersionArn"] == arn
    _start(rekognition, other, copied)
    answer = rekognition.detect_custom_labels(
        ProjectVersionArn=copy, Image={"Bytes": (photos / PORTRAITS[-1]).read_bytes()}
    )
    assert answer["CustomLabels"][0]["Name"] == "portrait"
    rekognition.stop_project_version(ProjectVersionArn=copy)
    assert rekognition.delete_project_version(ProjectVersionArn=arn)["Status"] == "DELETING"
    assert rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"] == []


def test_a_detector_trained_on_boxed_scenes_finds_objects_in_held_out_scenes(
    rekognition: Any, server: ServerProcess, photos: Path
) -> None:
    lines = []
    for index, scene in enumerate(boxed_scenes(photos, TRAIN_BACKGROUNDS, 40, seed=1)):
        uri = put_object(server.data_dir, BUCKET, f"boxed/train-{index}.png", _png(scene.image))
        boxes = [Box(label, *box) for label, box in scene.boxes]
        lines.append(detection_line(uri, scene.image.size, boxes))
    project, trained = _train(rekognition, server, "cl-fruit", lines)
    assert trained["EvaluationResult"]["F1Score"] > 0.3  # a split of 6 images: F1 moves in big steps
    _start(rekognition, project, trained)
    found = missed = wrong = ranked = 0
    for scene in boxed_scenes(photos, TEST_BACKGROUNDS, 8, seed=7):
        answer = rekognition.detect_custom_labels(
            ProjectVersionArn=trained["ProjectVersionArn"], Image={"Bytes": _png(scene.image)}
        )
        assert_valid_output("DetectCustomLabels", answer)
        every = rekognition.detect_custom_labels(
            ProjectVersionArn=trained["ProjectVersionArn"],
            Image={"Bytes": _png(scene.image)},
            MinConfidence=0,
        )
        width, height = scene.image.size
        for label, (left, top, w, h) in scene.boxes:
            truth = (left / width, top / height, (left + w) / width, (top + h) / height)
            hits = [
                c
                for c in answer["CustomLabels"]
                if c["Name"] == label and _iou(c["Geometry"]["BoundingBox"], truth) >= 0.5
            ]
            found += bool(hits)
            missed += not hits
            surest = max(
                (c for c in every["CustomLabels"] if _iou(c["Geometry"]["BoundingBox"], truth) > 0.1),
                key=lambda c: c["Confidence"],
                default=None,
            )
            # The surest box touching this fruit at MinConfidence 0 is this fruit, well placed.
            ranked += (
                surest is not None
                and surest["Name"] == label
                and _iou(surest["Geometry"]["BoundingBox"], truth) >= 0.5
            )
        wrong += sum(
            1
            for c in answer["CustomLabels"]
            if not any(
                _iou(c["Geometry"]["BoundingBox"], (x / width, y / height, (x + w) / width, (y + h) / height))
                >= 0.5
                for _, (x, y, w, h) in scene.boxes
            )
        )
    # Measured (docs): every held-out fruit's surest box is that fruit at IoU >= 0.5; with
    # the assumed thresholds 6 of 9 found and no false box. Those thresholds come from the
    # service's own split of 8 scenes and sit high (about 90%), so a fruit scored lower is
    # missed: the one-grid detector before found more at its thresholds, with a false box
    # per one to two true ones.
    assert ranked >= 0.85 * (found + missed), (ranked, found, missed)
    assert found >= 0.6 * (found + missed), (found, missed)
    assert wrong <= found / 3, (wrong, found)


def _iou(box: dict[str, float], truth: tuple[float, float, float, float]) -> float:
    x0, y0 = max(box["Left"], truth[0]), max(box["Top"], truth[1])
    x1 = min(box["Left"] + box["Width"], truth[2])
    y1 = min(box["Top"] + box["Height"], truth[3])
    overlap = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = box["Width"] * box["Height"] + (truth[2] - truth[0]) * (truth[3] - truth[1]) - overlap
    return overlap / union


def test_training_without_enough_labels_fails_with_a_reason(
    rekognition: Any, server: ServerProcess, photos: Path
) -> None:
    uri = put_object(server.data_dir, BUCKET, "single/one.jpg", (photos / PORTRAITS[0]).read_bytes())
    lines = [classification_line(uri, "portrait")] * 3
    put_object(server.data_dir, BUCKET, "single.manifest", "\n".join(lines).encode())
    project = rekognition.create_project(ProjectName="cl-one-label")["ProjectArn"]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "single.manifest"}}}
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)[
        "DatasetArn"
    ]
    dataset_status(rekognition, train)
    rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    failed = version_status(rekognition, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
    assert failed["Status"] == "TRAINING_FAILED" and "at least 2 labels" in failed["StatusMessage"]
    with pytest.raises(ClientError) as not_trained:
        rekognition.start_project_version(ProjectVersionArn=failed["ProjectVersionArn"], MinInferenceUnits=1)
    assert _code(not_trained) == "ResourceInUseException"
