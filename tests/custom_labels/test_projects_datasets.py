"""Custom Labels projects, datasets and policies through the real server with boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openrek.custom_labels.manifest import Box, classification_line, detection_line
from tests.conftest import ServerProcess
from tests.custom_labels.helpers import dataset_status, put_object
from tests.shapes import assert_valid_output

BUCKET = "cl-datasets"
MULTILABEL = json.dumps(
    {
        "source-ref": f"s3://{BUCKET}/img/both.jpg",
        "tags": [0, 1],
        "tags-metadata": {
            "class-map": {"0": "cat", "1": "indoor"},
            "type": "groundtruth/image-classification-multilabel",
            "human-annotated": "yes",
        },
    }
)
MALFORMED = [
    "not json at all",
    json.dumps({"no-source": 1}),
    json.dumps(
        {
            "source-ref": f"s3://{BUCKET}/img/badbox.jpg",
            "bb": {
                "image_size": [{"width": 100, "height": 100}],
                "annotations": [{"class_id": 7, "left": 1, "top": 1, "width": 5, "height": 5}],
            },
            "bb-metadata": {"class-map": {"0": "cat"}, "type": "groundtruth/object-detection"},
        }
    ),
]
LINES = [
    classification_line(f"s3://{BUCKET}/img/cat1.jpg", "cat"),
    classification_line(f"s3://{BUCKET}/img/cat2.jpg", "cat"),
    classification_line(f"s3://{BUCKET}/img/dog1.jpg", "dog"),
    MULTILABEL,
    detection_line(
        f"s3://{BUCKET}/img/boxes.jpg",
        (640, 480),
        [Box("cat", 10, 20, 100, 80), Box("dog", 300, 200, 50, 60)],
    ),
    json.dumps({"source-ref": f"s3://{BUCKET}/img/unlabeled.jpg"}),
    *MALFORMED,
]


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def manifest(server: ServerProcess) -> dict[str, str]:
    put_object(server.data_dir, BUCKET, "train.manifest", "\n".join(LINES).encode())
    return {"Bucket": BUCKET, "Name": "train.manifest"}


def test_projects_are_created_listed_filtered_and_paged(rekognition: Any) -> None:
    arns = [rekognition.create_project(ProjectName=f"cl-list-{i}")["ProjectArn"] for i in range(3)]
    assert all(":project/cl-list-" in arn for arn in arns)
    with pytest.raises(ClientError) as twice:
        rekognition.create_project(ProjectName="cl-list-0")
    assert _code(twice) == "ResourceInUseException"
    names = [f"cl-list-{i}" for i in range(3)]
    first = rekognition.describe_projects(ProjectNames=names, MaxResults=2)
    assert_valid_output("DescribeProjects", first)
    second = rekognition.describe_projects(ProjectNames=names, MaxResults=2, NextToken=first["NextToken"])
    listed = [p["ProjectArn"] for p in first["ProjectDescriptions"] + second["ProjectDescriptions"]]
    assert listed == arns and "NextToken" not in second
    assert first["ProjectDescriptions"][0]["Feature"] == "CUSTOM_LABELS"
    only_moderation = rekognition.describe_projects(ProjectNames=names, Features=["CONTENT_MODERATION"])
    assert only_moderation["ProjectDescriptions"] == []
    with pytest.raises(ClientError) as bad_token:
        rekognition.describe_projects(NextToken="@@not-a-token@@")
    assert _code(bad_token) == "InvalidPaginationTokenException"
    rekognition.tag_resource(ResourceArn=arns[0], Tags={"team": "qa"})
    assert rekognition.list_tags_for_resource(ResourceArn=arns[0])["Tags"] == {"team": "qa"}
    for arn in arns:
        assert rekognition.delete_project(ProjectArn=arn)["Status"] == "DELETING"
    assert rekognition.describe_projects(ProjectNames=names)["ProjectDescriptions"] == []


def test_a_manifest_becomes_a_dataset_with_counted_errors(rekognition: Any, manifest: dict[str, str]) -> None:
    project = rekognition.create_project(ProjectName="cl-manifest")["ProjectArn"]
    train = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TRAIN", DatasetSource={"GroundTruthManifest": {"S3Object": manifest}}
    )["DatasetArn"]
    described = dataset_status(rekognition, train)
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["DatasetStats"] == {
        "LabeledEntries": 5,
        "TotalEntries": 9,
        "TotalLabels": 3,
        "ErrorEntries": 3,
    }

    errors = rekognition.list_dataset_entries(DatasetArn=train, HasErrors=True)
    assert_valid_output("ListDatasetEntries", errors)
    wrapped = {"invalid-line": MALFORMED[0], "errors": ["The line is not a JSON object"]}
    assert errors["DatasetEntries"] == [json.dumps(wrapped), *MALFORMED[1:]]
    cats = rekognition.list_dataset_entries(DatasetArn=train, ContainsLabels=["cat"])["DatasetEntries"]
    assert [json.loads(line)["source-ref"].rsplit("/", 1)[1] for line in cats] == [
        "cat1.jpg",
        "cat2.jpg",
        "both.jpg",
        "boxes.jpg",
    ]
    unlabeled = rekognition.list_dataset_entries(DatasetArn=train, Labeled=False, HasErrors=False)
    assert [json.loads(x)["source-ref"] for x in unlabeled["DatasetEntries"]] == [
        f"s3://{BUCKET}/img/unlabeled.jpg"
    ]
    dogs = rekognition.list_dataset_entries(DatasetArn=train, SourceRefContains="dog1")["DatasetEntries"]
    assert len(dogs) == 1
    page = rekognition.list_dataset_entries(DatasetArn=train, MaxResults=4)
    rest = rekognition.list_dataset_entries(DatasetArn=train, MaxResults=4, NextToken=page["NextToken"])
    last = rekognition.list_dataset_entries(DatasetArn=train, MaxResults=4, NextToken=rest["NextToken"])
    listed = page["DatasetEntries"] + rest["DatasetEntries"] + last["DatasetEntries"]
    assert listed[:6] == LINES[:6] and len(listed) == len(LINES)

    labels = rekognition.list_dataset_labels(DatasetArn=train)
    assert_valid_output("ListDatasetLabels", labels)
    stats = {d["LabelName"]: d["LabelStats"] for d in labels["DatasetLabelDescriptions"]}
    assert stats == {
        "cat": {"EntryCount": 4, "BoundingBoxCount": 1},
        "dog": {"EntryCount": 2, "BoundingBoxCount": 1},
        "indoor": {"EntryCount": 1, "BoundingBoxCount": 0},
    }

    # A changed line replaces the entry with its source-ref; a new one is added.
    changes = [
        classification_line(f"s3://{BUCKET}/img/dog1.jpg", "cat"),
        classification_line(f"s3://{BUCKET}/img/new.jpg", "bird"),
    ]
    rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": "\n".join(changes).encode()})
    updated = rekognition.describe_dataset(DatasetArn=train)["DatasetDescription"]
    assert updated["Status"] == "UPDATE_COMPLETE"
    assert updated["DatasetStats"]["TotalEntries"] == 10 and updated["DatasetStats"]["TotalLabels"] == 4

    # A TEST dataset copied from the TRAIN dataset, then emptied by deletion.
    test = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TEST", DatasetSource={"DatasetArn": train}
    )["DatasetArn"]
    assert dataset_status(rekognition, test)["DatasetStats"]["TotalEntries"] == 10
    with pytest.raises(ClientError) as in_use:
        rekognition.delete_project(ProjectArn=project)
    assert _code(in_use) == "ResourceInUseException"
    datasets = rekognition.describe_projects(ProjectNames=["cl-manifest"])["ProjectDescriptions"][0][
        "Datasets"
    ]
    assert {d["DatasetType"] for d in datasets} == {"TRAIN", "TEST"}
    rekognition.delete_dataset(DatasetArn=test)
    rekognition.delete_dataset(DatasetArn=train)
    rekognition.delete_project(ProjectArn=project)


def test_distribute_moves_a_fifth_into_the_empty_test_dataset(
    rekognition: Any, server: ServerProcess
) -> None:
    lines = [classification_line(f"s3://{BUCKET}/d/{i}.jpg", "a" if i % 2 else "b") for i in range(20)]
    put_object(server.data_dir, BUCKET, "twenty.manifest", "\n".join(lines).encode())
    project = rekognition.create_project(ProjectName="cl-distribute")["ProjectArn"]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "twenty.manifest"}}}
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)[
        "DatasetArn"
    ]
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    dataset_status(rekognition, train)
    assert dataset_status(rekognition, test)["DatasetStats"]["TotalEntries"] == 0
    rekognition.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    moved = rekognition.list_dataset_entries(DatasetArn=test)["DatasetEntries"]
    kept = rekognition.list_dataset_entries(DatasetArn=train)["DatasetEntries"]
    assert len(moved) == 4 and len(kept) == 16 and sorted(moved + kept) == sorted(lines)


def test_a_missing_manifest_fails_the_dataset_and_bad_arns_are_not_found(rekognition: Any) -> None:
    project = rekognition.create_project(ProjectName="cl-missing")["ProjectArn"]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "nothing-here.manifest"}}}
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)[
        "DatasetArn"
    ]
    described = dataset_status(rekognition, train)
    assert described["Status"] == "CREATE_FAILED" and "InvalidS3ObjectException" in described["StatusMessage"]
    with pytest.raises(ClientError) as missing:
        rekognition.describe_dataset(DatasetArn=train.replace("cl-missing", "cl-nobody"))
    assert _code(missing) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as moderation:  # AutoUpdate is required for an adapter project
        rekognition.create_project(ProjectName="cl-adapter", Feature="CONTENT_MODERATION")
    assert _code(moderation) == "InvalidParameterException"


def test_project_policies_have_revisions(rekognition: Any) -> None:
    project = rekognition.create_project(ProjectName="cl-policies")["ProjectArn"]
    document = json.dumps({"Version": "2012-10-17", "Statement": []})
    revision = rekognition.put_project_policy(
        ProjectArn=project, PolicyName="share", PolicyDocument=document
    )["PolicyRevisionId"]
    with pytest.raises(ClientError) as stale:
        rekognition.put_project_policy(
            ProjectArn=project, PolicyName="share", PolicyDocument=document, PolicyRevisionId="0" * 32
        )
    assert _code(stale) == "InvalidPolicyRevisionIdException"
    newer = rekognition.put_project_policy(
        ProjectArn=project, PolicyName="share", PolicyDocument=document, PolicyRevisionId=revision
    )["PolicyRevisionId"]
    assert newer != revision
    with pytest.raises(ClientError) as malformed:
        rekognition.put_project_policy(ProjectArn=project, PolicyName="bad", PolicyDocument="{not json")
    assert _code(malformed) == "MalformedPolicyDocumentException"
    listed = rekognition.list_project_policies(ProjectArn=project)
    assert_valid_output("ListProjectPolicies", listed)
    assert [(p["PolicyName"], p["PolicyRevisionId"]) for p in listed["ProjectPolicies"]] == [("share", newer)]
    rekognition.delete_project_policy(ProjectArn=project, PolicyName="share", PolicyRevisionId=newer)
    assert rekognition.list_project_policies(ProjectArn=project)["ProjectPolicies"] == []


def test_dataset_tags_are_kept_changed_limited_and_deleted_with_the_dataset(
    rekognition: Any, unvalidated: Any
) -> None:
    project = rekognition.create_project(ProjectName="cl-dataset-tags", Tags={"owner": "lab"})["ProjectArn"]
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", Tags={"split": "train"})[
        "DatasetArn"
    ]
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    dataset_status(rekognition, train)
    listed = rekognition.list_tags_for_resource(ResourceArn=train)
    assert_valid_output("ListTagsForResource", listed)
    assert listed["Tags"] == {"split": "train"}
    # Each resource keeps its own tags: the project's and the other dataset's are untouched.
    assert rekognition.list_tags_for_resource(ResourceArn=test)["Tags"] == {}
    assert rekognition.list_tags_for_resource(ResourceArn=project)["Tags"] == {"owner": "lab"}

    rekognition.tag_resource(ResourceArn=train, Tags={"team": "vision", "split": "all"})
    rekognition.untag_resource(ResourceArn=train, TagKeys=["team", "never-set"])
    assert rekognition.list_tags_for_resource(ResourceArn=train)["Tags"] == {"split": "all"}

    # AWS's limits: 50 tags a resource, counted with the ones already there; keys of
    # 1-128 characters without the reserved aws: prefix; values of up to 256.
    forty_nine = {f"k{i}": str(i) for i in range(49)}
    rekognition.tag_resource(ResourceArn=train, Tags=forty_nine)
    with pytest.raises(ClientError) as too_many:
        rekognition.tag_resource(ResourceArn=train, Tags={"one-more": "x"})
    assert _code(too_many) == "InvalidParameterException"
    with pytest.raises(ClientError) as too_many_at_creation:
        rekognition.create_dataset(
            ProjectArn=rekognition.create_project(ProjectName="cl-dataset-tags-2")["ProjectArn"],
            DatasetType="TRAIN",
            Tags={f"k{i}": "v" for i in range(51)},
        )
    assert _code(too_many_at_creation) == "InvalidParameterException"
    for bad in ({"k" * 129: "v"}, {"aws:owner": "v"}, {"key": "v" * 257}, {"": "v"}):
        with pytest.raises(ClientError) as invalid:
            unvalidated.tag_resource(ResourceArn=test, Tags=bad)
        assert _code(invalid) == "ValidationException", bad
    assert len(rekognition.list_tags_for_resource(ResourceArn=train)["Tags"]) == 50
    assert rekognition.list_tags_for_resource(ResourceArn=test)["Tags"] == {}

    # An ARN that names no dataset of the project, and a deleted dataset, are not found.
    unknown = train.rsplit("/", 1)[0] + "/1"
    for arn in (unknown, train.replace("/train/", "/other/")):
        with pytest.raises(ClientError) as missing:
            rekognition.list_tags_for_resource(ResourceArn=arn)
        assert _code(missing) == "ResourceNotFoundException"
    rekognition.delete_dataset(DatasetArn=train)
    for call, extra in (
        (rekognition.list_tags_for_resource, {}),
        (rekognition.tag_resource, {"Tags": {"a": "b"}}),
        (rekognition.untag_resource, {"TagKeys": ["split"]}),
    ):
        with pytest.raises(ClientError) as deleted:
            call(ResourceArn=train, **extra)
        assert _code(deleted) == "ResourceNotFoundException"
    # A new TRAIN dataset starts without the deleted one's tags.
    again = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN")["DatasetArn"]
    assert rekognition.list_tags_for_resource(ResourceArn=again)["Tags"] == {}
