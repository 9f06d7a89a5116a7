"""Content-moderation adapters through the real server with boto3: a CONTENT_MODERATION
project, datasets from adapter manifests in the data directory's bucket folder,
training, and DetectModerationLabels with ProjectVersion on images never trained on.

What the adapter is taught (tests/custom_labels/moderation_sets.py): Violence, which the
base model cannot name, from clip art of guns, blades and a grenade against everyday
tools; and that party photos of women in dresses are safe, which the base
model gets wrong once (face-api/sample2.jpg, Swimwear or Underwear 50.7). The TEST
dataset holds the held-out images: the adapter never trains on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openrek.custom_labels.manifest import moderation_line
from tests.conftest import ServerProcess
from tests.custom_labels.helpers import dataset_status, put_object, version_status
from tests.custom_labels.moderation_sets import ALCOHOL, DRESSED, TOOLS, WEAPONS, image_bytes
from tests.custom_labels.scenes import PORTRAITS, SCENES
from tests.shapes import assert_valid_output

BUCKET = "adapter-data"
OUTPUT = {"S3Bucket": BUCKET, "S3KeyPrefix": "evaluation/"}
SWIMWEAR = "Swimwear or Underwear"
OTHERS = [name for name in PORTRAITS + SCENES if name not in DRESSED]  # safe photos of other kinds
TRAIN = [(name, ["Violence"]) for name in WEAPONS[:7]] + [
    (name, []) for name in TOOLS[:10] + DRESSED[1:] + OTHERS[::3]
]
HELD_OUT_WEAPONS = WEAPONS[7:]
HELD_OUT_PHOTOS = [DRESSED[0], *OTHERS[1::3][:2]]
HELD_OUT = [(name, ["Violence"]) for name in HELD_OUT_WEAPONS] + [
    (name, []) for name in TOOLS[10:14] + HELD_OUT_PHOTOS
]


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _manifest(server: ServerProcess, photos: Path, name: str, rows: list[tuple[str, list[str]]]) -> str:
    lines = []
    for image, labels in rows:
        uri = put_object(server.data_dir, BUCKET, f"images/{image}", image_bytes(photos, image))
        lines.append(moderation_line(uri, labels))
    put_object(server.data_dir, BUCKET, name, "\n".join(lines).encode())
    return name


def _source(key: str) -> dict[str, Any]:
    return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}


def _top_level(answer: dict[str, Any], min_confidence: float = 50.0) -> dict[str, float]:
    return {
        label["Name"]: label["Confidence"]
        for label in answer["ModerationLabels"]
        if label["TaxonomyLevel"] == 1 and label["Confidence"] >= min_confidence
    }


def test_an_adapter_learns_a_category_and_unlearns_a_false_positive(
    rekognition: Any, server: ServerProcess, photos: Path
) -> None:
    with pytest.raises(ClientError) as no_auto_update:
        rekognition.create_project(ProjectName="adapter-x", Feature="CONTENT_MODERATION")
    assert _code(no_auto_update) == "InvalidParameterException"
    project = rekognition.create_project(
        ProjectName="adapter-drinks", Feature="CONTENT_MODERATION", AutoUpdate="DISABLED"
    )["ProjectArn"]
    listed = rekognition.describe_projects(Features=["CONTENT_MODERATION"])["ProjectDescriptions"]
    assert [(p["ProjectArn"], p["Feature"], p["AutoUpdate"]) for p in listed] == [
        (project, "CONTENT_MODERATION", "DISABLED")
    ]

    train_key = _manifest(server, photos, "train.manifest", TRAIN)
    # One more line names a second-level category: an error entry, as AWS takes top-level ones only.
    bad = moderation_line(f"s3://{BUCKET}/images/{WEAPONS[0]}", ["Weapons"])
    body = (server.data_dir / "s3" / BUCKET / train_key).read_text() + "\n" + bad
    put_object(server.data_dir, BUCKET, train_key, body.encode())
    test_key = _manifest(server, photos, "test.manifest", HELD_OUT)
    train = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TRAIN", DatasetSource=_source(train_key)
    )
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST", DatasetSource=_source(test_key))
    stats = dataset_status(rekognition, train["DatasetArn"])
    assert stats["Status"] == "CREATE_COMPLETE"
    assert stats["DatasetStats"]["ErrorEntries"] == 1
    assert stats["DatasetStats"]["LabeledEntries"] == len(TRAIN)  # images with no unsafe content count
    assert dataset_status(rekognition, test["DatasetArn"])["Status"] == "CREATE_COMPLETE"

    config = {"ContentModeration": {"ConfidenceThreshold": 50.0}}
    arn = rekognition.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT, FeatureConfig=config
    )["ProjectVersionArn"]
    trained = version_status(rekognition, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
    assert trained["Status"] == "TRAINING_COMPLETED", trained["StatusMessage"]
    assert trained["Feature"] == "CONTENT_MODERATION" and trained["FeatureConfig"] == config
    assert trained["BaseModelVersion"] == "7.0"
    summary_object = trained["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads((server.data_dir / "s3" / BUCKET / summary_object["Name"]).read_text())
    assert summary["EvaluationDetails"]["NumberOfTestingImages"] == len(HELD_OUT)
    assert summary["EvaluationDetails"]["NumberOfTrainingImages"] == len(TRAIN)
    by_label = {r["Label"]: r for r in summary["LabelEvaluationResults"]}
    assert by_label["Violence"]["NumberOfTestingImages"] == len(HELD_OUT_WEAPONS)
    assert by_label["Violence"]["BaseModelMetrics"]["TruePositives"] == 0  # the base model cannot name it
    assert by_label["Violence"]["Metrics"]["TruePositives"] >= 2
    assert by_label[SWIMWEAR]["BaseModelMetrics"]["FalsePositives"] == 1  # sample2
    assert by_label[SWIMWEAR]["Metrics"]["FalsePositives"] == 0
    assert trained["EvaluationResult"]["F1Score"] == pytest.approx(
        summary["AggregatedEvaluationResults"]["Metrics"]["F1Score"]
    )

    # Adapters need no start: TRAINING_COMPLETED is usable, and DetectModerationLabels echoes it.
    def detect(name: str, adapter: bool) -> dict[str, Any]:
        extra = {"ProjectVersion": arn} if adapter else {}
        answer: dict[str, Any] = rekognition.detect_moderation_labels(
            Image={"Bytes": image_bytes(photos, name)}, **extra
        )
        assert_valid_output("DetectModerationLabels", answer)
        assert answer.get("ProjectVersion") == (arn if adapter else None)
        return answer

    # The false positive it was taught to drop, on a photo it never saw.
    assert SWIMWEAR in _top_level(detect(DRESSED[0], adapter=False))
    assert SWIMWEAR not in _top_level(detect(DRESSED[0], adapter=True))
    # The category it was taught, on held-out weapons; the base model never names it.
    answers = [detect(name, adapter=True)["ModerationLabels"] for name in HELD_OUT_WEAPONS]
    found = [label for labels in answers for label in labels if label["Name"] == "Violence"]
    assert len(found) >= 2, answers  # at the default MinConfidence (50), 2 of the 4 drawings or more
    assert all(label["ParentName"] == "" and label["TaxonomyLevel"] == 1 for label in found)
    assert "Violence" not in _top_level(detect(HELD_OUT_WEAPONS[0], adapter=False), 0)
    # Photos of other kinds keep the base model's answer at the default MinConfidence.
    for name in HELD_OUT_PHOTOS[1:]:
        assert _top_level(detect(name, adapter=True)) == _top_level(detect(name, adapter=False)), name

    # What adapters are not: started, stopped, copied, or used as Custom Labels models.
    for call, kwargs in (
        (rekognition.start_project_version, {"ProjectVersionArn": arn, "MinInferenceUnits": 1}),
        (rekognition.stop_project_version, {"ProjectVersionArn": arn}),
        (
            rekognition.copy_project_version,
            {
                "SourceProjectArn": project,
                "SourceProjectVersionArn": arn,
                "DestinationProjectArn": project,
                "VersionName": "copy",
                "OutputConfig": OUTPUT,
            },
        ),
        (rekognition.detect_custom_labels, {"ProjectVersionArn": arn, "Image": {"Bytes": b"x" * 100}}),
    ):
        with pytest.raises(ClientError) as refused:
            call(**kwargs)
        assert _code(refused) == "InvalidParameterException", call

    rekognition.delete_project_version(ProjectVersionArn=arn)
    with pytest.raises(ClientError) as deleted:
        detect(DRESSED[0], adapter=True)
    assert _code(deleted) == "ResourceNotFoundException"


def test_bad_adapter_requests_get_aws_errors(rekognition: Any, server: ServerProcess, photos: Path) -> None:
    account = rekognition.create_project(ProjectName="adapter-errors-cl")["ProjectArn"]
    with pytest.raises(ClientError) as not_an_adapter_project:
        rekognition.create_project_version(
            ProjectArn=account,
            VersionName="v1",
            OutputConfig=OUTPUT,
            FeatureConfig={"ContentModeration": {"ConfidenceThreshold": 60.0}},
        )
    assert _code(not_an_adapter_project) == "InvalidParameterException"
    missing = account.split("project/")[0] + "project/nope/version/v1/1"
    with pytest.raises(ClientError) as no_such_adapter:
        rekognition.detect_moderation_labels(
            Image={"Bytes": image_bytes(photos, DRESSED[0])}, ProjectVersion=missing
        )
    assert _code(no_such_adapter) == "ResourceNotFoundException"

    # A manifest whose every line is wrong trains nothing, and says why.
    project = rekognition.create_project(
        ProjectName="adapter-errors", Feature="CONTENT_MODERATION", AutoUpdate="ENABLED"
    )["ProjectArn"]
    uri = put_object(server.data_dir, BUCKET, "bad/a.png", image_bytes(photos, ALCOHOL[0]))
    lines = [moderation_line(uri, ["Beer"]), '{"source-ref": "not-s3"}', "not json"]
    put_object(server.data_dir, BUCKET, "bad.manifest", "\n".join(lines).encode())
    rekognition.create_project_version(
        ProjectArn=project,
        VersionName="v1",
        OutputConfig=OUTPUT,
        TrainingData={"Assets": [_source("bad.manifest")]},
    )
    failed = version_status(rekognition, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
    assert failed["Status"] == "TRAINING_FAILED"
    assert "content-moderation-groundtruth" in failed["StatusMessage"]
    with pytest.raises(ClientError) as not_trained:
        rekognition.detect_moderation_labels(
            Image={"Bytes": image_bytes(photos, DRESSED[0])}, ProjectVersion=failed["ProjectVersionArn"]
        )
    assert _code(not_trained) == "ResourceNotReadyException"
    assert rekognition.describe_projects(ProjectNames=["adapter-errors"])[
        "ProjectDescriptions"
    ]  # still serving
