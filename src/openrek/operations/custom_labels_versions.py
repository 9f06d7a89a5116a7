"""Custom Labels model versions: CreateProjectVersion (training), Describe, Start,
Stop, Delete, Copy, and DetectCustomLabels."""

from __future__ import annotations

from typing import Any

from openrek.custom_labels.detection import DetectionHead
from openrek.custom_labels.records import (
    CONTENT_MODERATION,
    COPYING_COMPLETED,
    COPYING_IN_PROGRESS,
    CREATE_COMPLETE,
    CUSTOM_LABELS,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    TRAINING_COMPLETED,
    TRAINING_IN_PROGRESS,
    UPDATE_COMPLETE,
    Project,
    Version,
    now,
)
from openrek.inference.moderation.taxonomy import MODEL_VERSION
from openrek.operations.collections import check_tags
from openrek.operations.custom_labels_projects import (
    custom_labels,
    editing,
    paged,
    project_exact,
    project_or_404,
)
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import (
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
    ResourceNotReadyException,
)
from openrek.services import Services

STARTABLE = (TRAINING_COMPLETED, STOPPED, COPYING_COMPLETED)
STOPPABLE = (RUNNING, STARTING)
BUSY = (TRAINING_IN_PROGRESS, COPYING_IN_PROGRESS, STARTING, RUNNING)
MAX_RESULTS_DEFAULT = 100  # labels a DetectCustomLabels answer lists at most unless MaxResults says otherwise


def _not_an_adapter(project: Project, cannot: str) -> None:
    if project.feature == CONTENT_MODERATION:
        raise InvalidParameterException(f"A content moderation adapter cannot be {cannot}")


def version_or_404(services: Services, arn: str) -> tuple[Project, Version]:
    project = project_or_404(services, arn)
    return project, version_in(project, arn)


def version_in(project: Project, arn: str) -> Version:
    for version in project.versions.values():
        if version.arn == arn:
            return version
    raise ResourceNotFoundException(f"The project version {arn} does not exist")


def _new_version(services: Services, project: Project, params: dict[str, Any], status: str) -> Version:
    name = params["VersionName"]
    tags = params.get("Tags") or {}
    check_tags(tags)
    output = params["OutputConfig"]
    if not output.get("S3Bucket"):
        raise InvalidParameterException("OutputConfig.S3Bucket is required")
    if name in project.versions:
        raise ResourceInUseException(f"The project already has a version named {name}")
    created = now()
    return Version(
        name=name,
        arn=f"{project.arn.rsplit('/', 1)[0]}/version/{name}/{int(created * 1000)}",
        created=created,
        output_config=dict(output),
        status=status,
        description=params.get("VersionDescription"),
        tags=dict(tags),
        kms_key_id=params.get("KmsKeyId"),
    )


def create_project_version(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    feature_config = params.get("FeatureConfig")
    if feature_config is not None and project.feature != CONTENT_MODERATION:
        raise InvalidParameterException("FeatureConfig applies to CONTENT_MODERATION projects (adapters)")
    training, testing = params.get("TrainingData"), params.get("TestingData")
    with editing(services, project) as edit:
        _check_training_input(edit.project, training, testing)
        version = _new_version(services, edit.project, params, TRAINING_IN_PROGRESS)
        version.training_input, version.testing_input = training, testing
        version.feature_config = feature_config
        edit.project.versions[version.name] = version
    custom_labels(services).work.wake()  # a process that runs work trains it (custom_labels/work.py)
    return {"ProjectVersionArn": version.arn}


def _check_training_input(
    project: Project, training: dict[str, Any] | None, testing: dict[str, Any] | None
) -> None:
    """Training reads the project's datasets, or the manifests the request names
    (CustomLabels.training_data): either must be there to read."""
    if training is None:
        if project.datasets.get("TRAIN") is None:
            raise InvalidParameterException(
                "The project has no TRAIN dataset and the request no TrainingData"
            )
        for dataset in project.datasets.values():
            if dataset.status not in (CREATE_COMPLETE, UPDATE_COMPLETE):
                raise ResourceInUseException(f"The dataset {dataset.arn} is {dataset.status}")
        return
    if project.datasets:
        raise InvalidParameterException("TrainingData cannot be given for a project that has datasets")
    if testing is not None and not testing.get("AutoCreate") and not testing.get("Assets"):
        raise InvalidParameterException("TestingData needs Assets or AutoCreate")


def describe_version(version: Version, feature: str = CUSTOM_LABELS) -> dict[str, Any]:
    described: dict[str, Any] = {
        "ProjectVersionArn": version.arn,
        "CreationTimestamp": version.created,
        "Status": version.status,
        "StatusMessage": version.status_message,
        "OutputConfig": version.output_config,
        "Feature": feature,
    }
    if feature == CONTENT_MODERATION:
        described["BaseModelVersion"] = MODEL_VERSION  # the moderation model the adapter was trained over
        if version.feature_config is not None:
            described["FeatureConfig"] = version.feature_config
    optional = {
        "MinInferenceUnits": version.min_inference_units,
        "MaxInferenceUnits": version.max_inference_units,
        "BillableTrainingTimeInSeconds": version.training_seconds,
        "TrainingEndTimestamp": version.training_end,
        "KmsKeyId": version.kms_key_id,
        "SourceProjectVersionArn": version.source_version_arn,
        "VersionDescription": version.description,
    }
    described.update({k: v for k, v in optional.items() if v is not None})
    if version.training_input is not None:
        described["TrainingDataResult"] = {"Input": version.training_input}
    if version.testing_input is not None:
        described["TestingDataResult"] = {"Input": version.testing_input}
    if version.f1_score is not None and version.summary_key is not None:
        described["EvaluationResult"] = {
            "F1Score": version.f1_score,
            "Summary": {
                "S3Object": {"Bucket": version.output_config["S3Bucket"], "Name": version.summary_key}
            },
        }
    return described


def describe_project_versions(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    names = params.get("VersionNames")
    # Newest first, as AWS lists them.
    found = [
        describe_version(v, project.feature)
        for v in sorted(project.versions.values(), key=lambda v: -v.created)
        if names is None or v.name in names
    ]
    return paged(found, params, "ProjectVersionDescriptions")


def start_project_version(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, version = version_or_404(services, params["ProjectVersionArn"])
    _not_an_adapter(project, "started: call DetectModerationLabels with ProjectVersion once it is trained")
    units, most = params["MinInferenceUnits"], params.get("MaxInferenceUnits")
    if units < 1 or (most is not None and most < units):
        raise InvalidParameterException("MinInferenceUnits must be at least 1 and at most MaxInferenceUnits")
    with editing(services, project) as edit:
        version = version_in(edit.project, version.arn)
        if version.status not in STARTABLE:
            raise ResourceInUseException(f"The project version is {version.status} and cannot be started")
        # Accepted and reported; each server process answers for every unit.
        version.min_inference_units, version.max_inference_units = units, most
        _begin(version, STARTING, "The model is starting.")
    custom_labels(services).work.wake()
    return {"Status": STARTING}


def _begin(version: Version, status: str, message: str) -> None:
    """New work on the version, for a process to claim (custom_labels/work.py)."""
    version.status, version.status_message = status, message
    version.holder, version.lease_until, version.attempt = None, None, 0


def stop_project_version(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, version = version_or_404(services, params["ProjectVersionArn"])
    _not_an_adapter(project, "stopped: it runs only inside DetectModerationLabels calls that name it")
    with editing(services, project) as edit:
        version = version_in(edit.project, version.arn)
        if version.status not in STOPPABLE:
            raise ResourceInUseException(f"The project version is {version.status} and cannot be stopped")
        _begin(version, STOPPING, "The model is stopping.")
    custom_labels(services).work.wake()
    return {"Status": STOPPING}


def delete_project_version(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, version = version_or_404(services, params["ProjectVersionArn"])
    with editing(services, project) as edit:
        version = version_in(edit.project, version.arn)
        if version.status in BUSY:
            raise ResourceInUseException(
                f"The project version is {version.status}; stop it or wait before deleting"
            )
        del edit.project.versions[version.name]
    custom_labels(services).remove_version_files(project, version)
    return {"Status": "DELETING"}


def copy_project_version(params: dict[str, Any], services: Services) -> dict[str, Any]:
    source_project = project_exact(services, params["SourceProjectArn"])
    _, source = version_or_404(services, params["SourceProjectVersionArn"])
    _not_an_adapter(source_project, "copied (AWS copies Custom Labels versions only)")
    if not params["SourceProjectVersionArn"].startswith(source_project.arn.rsplit("/", 1)[0] + "/"):
        raise InvalidParameterException("The source version is not in the source project")
    target_project = project_exact(services, params["DestinationProjectArn"])
    if not source.files:
        raise ResourceInUseException(
            f"The source version is {source.status}; only a trained model can be copied"
        )
    with editing(services, target_project) as edit:
        version = _new_version(services, edit.project, params, COPYING_IN_PROGRESS)
        version.files = dict(source.files)
        version.f1_score, version.summary_key = source.f1_score, source.summary_key
        version.output_config = dict(params["OutputConfig"])
        version.source_version_arn = source.arn
        if source.summary_key is not None:
            version.output_config = dict(source.output_config)  # where the evaluation summary lies
        edit.project.versions[version.name] = version
    custom_labels(services).work.wake()
    return {"ProjectVersionArn": version.arn}


def detect_custom_labels(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, version = version_or_404(services, params["ProjectVersionArn"])
    _not_an_adapter(
        project, "used by DetectCustomLabels: pass it to DetectModerationLabels as ProjectVersion"
    )
    service = custom_labels(services)
    model = service.running_model(project, version)
    if model is None:
        raise ResourceNotReadyException(f"The project version is {version.status}, not RUNNING")
    image = services.load_image(params["Image"])
    min_confidence = params.get("MinConfidence")
    max_results = params.get("MaxResults", MAX_RESULTS_DEFAULT)

    def shown(label: str, confidence: float) -> bool:
        # Without MinConfidence, each label's assumed threshold from training applies, as on AWS.
        floor = model.thresholds.get(label, 50.0) if min_confidence is None else min_confidence
        return confidence >= floor

    labels: list[dict[str, Any]] = []
    if isinstance(model.head, DetectionHead):
        for found in model.head.detect_image(service.backbone.feature_map, image.rgb):
            confidence = found.confidence * 100
            if shown(found.label, confidence):
                left, top, right, bottom = found.box
                box = {"Width": right - left, "Height": bottom - top, "Left": left, "Top": top}
                labels.append(
                    {"Name": found.label, "Confidence": confidence, "Geometry": {"BoundingBox": box}}
                )
    else:
        probabilities = model.head.probabilities(service.backbone.features([image.rgb]))[0] * 100
        for label, confidence in zip(model.head.labels, probabilities.tolist(), strict=True):
            if shown(label, confidence):
                labels.append({"Name": label, "Confidence": confidence})
    labels.sort(key=lambda label: -label["Confidence"])
    return {"CustomLabels": labels[:max_results]}


HANDLERS: dict[str, Handler[Services]] = {
    "CreateProjectVersion": create_project_version,
    "DescribeProjectVersions": describe_project_versions,
    "StartProjectVersion": start_project_version,
    "StopProjectVersion": stop_project_version,
    "DeleteProjectVersion": delete_project_version,
    "CopyProjectVersion": copy_project_version,
    "DetectCustomLabels": detect_custom_labels,
}
