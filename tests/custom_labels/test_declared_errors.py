"""Every Custom Labels operation, called on a dataset whose creation failed and on a
version whose training failed, answers with an error that operation declares in the
model (AWS SDKs generate exception classes from those lists), or with a result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from openrek.custom_labels.manifest import classification_line
from tests.conftest import ServerProcess, declared_errors
from tests.custom_labels.helpers import dataset_status, put_object, version_status
from tests.custom_labels.scenes import PORTRAITS

BUCKET = "cl-declared"


def _answer(client: Any, operation: str, **params: Any) -> str:
    """'ok', or the error's code after checking that the operation declares it."""
    try:
        getattr(client, xform_name(operation))(**params)
        return "ok"
    except ClientError as error:
        code = str(error.response["Error"]["Code"])
        declared = declared_errors(operation)
        assert code in declared, (
            f"{operation} answered {code}, which it does not declare ({sorted(declared)})"
        )
        assert error.response["Error"]["Message"]
        return code


def test_failed_datasets_and_versions_get_declared_errors(
    rekognition: Any, server: ServerProcess, photos: Path
) -> None:
    photo = (photos / PORTRAITS[0]).read_bytes()
    uri = put_object(server.data_dir, BUCKET, "one.jpg", photo)
    put_object(server.data_dir, BUCKET, "one-label.manifest", classification_line(uri, "portrait").encode())
    project = rekognition.create_project(ProjectName="cl-declared")["ProjectArn"]

    def manifest(name: str) -> dict[str, Any]:
        return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": name}}}

    train = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TRAIN", DatasetSource=manifest("one-label.manifest")
    )["DatasetArn"]
    test = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TEST", DatasetSource=manifest("missing.manifest")
    )["DatasetArn"]
    assert dataset_status(rekognition, train)["Status"] == "CREATE_COMPLETE"
    assert dataset_status(rekognition, test)["Status"] == "CREATE_FAILED"

    # A dataset whose creation failed: nothing can read or change its entries.
    assert _answer(rekognition, "ListDatasetEntries", DatasetArn=test) == "ResourceNotReadyException"
    assert _answer(rekognition, "ListDatasetLabels", DatasetArn=test) == "ResourceNotReadyException"
    changes = {"GroundTruth": classification_line(uri, "portrait").encode()}
    assert _answer(rekognition, "UpdateDatasetEntries", DatasetArn=test, Changes=changes) != "ok"
    assert (
        _answer(rekognition, "DistributeDatasetEntries", Datasets=[{"Arn": train}, {"Arn": test}])
        == "ResourceNotReadyException"
    )
    other = rekognition.create_project(ProjectName="cl-declared-copy")["ProjectArn"]
    assert (
        _answer(
            rekognition,
            "CreateDataset",
            ProjectArn=other,
            DatasetType="TRAIN",
            DatasetSource={"DatasetArn": test},
        )
        == "InvalidParameterException"
    )
    # A second TRAIN dataset is a resource that already exists.
    assert (
        _answer(
            rekognition, "CreateDataset", ProjectArn=project, DatasetType="TRAIN", DatasetSource=manifest("x")
        )
        == "ResourceAlreadyExistsException"
    )
    assert _answer(rekognition, "DeleteDataset", DatasetArn=test) == "ok"

    # A version whose training failed (one label only): nothing can start, stop, copy or use it.
    rekognition.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": BUCKET}
    )
    failed = version_status(rekognition, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
    assert failed["Status"] == "TRAINING_FAILED"
    version = failed["ProjectVersionArn"]
    assert _answer(rekognition, "StartProjectVersion", ProjectVersionArn=version, MinInferenceUnits=1) != "ok"
    assert _answer(rekognition, "StopProjectVersion", ProjectVersionArn=version) != "ok"
    assert (
        _answer(rekognition, "DetectCustomLabels", ProjectVersionArn=version, Image={"Bytes": photo}) != "ok"
    )
    assert (
        _answer(rekognition, "DetectModerationLabels", ProjectVersion=version, Image={"Bytes": photo}) != "ok"
    )
    copied = _answer(
        rekognition,
        "CopyProjectVersion",
        SourceProjectArn=project,
        SourceProjectVersionArn=version,
        DestinationProjectArn=other,
        VersionName="v1-copy",
        OutputConfig={"S3Bucket": BUCKET},
    )
    assert copied != "ok"
    assert _answer(rekognition, "DeleteProjectVersion", ProjectVersionArn=version) == "ok"
