"""Custom Labels projects, datasets and project policies.

ARNs follow AWS's: `...:project/<name>/<ms>`, a dataset `...:project/<name>/dataset/
<train|test>/<ms>`, a version `...:project/<name>/version/<version>/<ms>`
(operations/custom_labels_versions.py); tags.py routes any `project/` ARN here.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from openrek.custom_labels.manifest import Entry, parse_line
from openrek.custom_labels.records import (
    CONTENT_MODERATION,
    CREATE_COMPLETE,
    CREATE_IN_PROGRESS,
    CUSTOM_LABELS,
    UPDATE_COMPLETE,
    Dataset,
    Missing,
    Policy,
    Project,
    now,
)
from openrek.custom_labels.service import CustomLabels
from openrek.custom_labels.store import ProjectEdit
from openrek.operations.collections import check_tags
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    LimitExceededException,
    RekognitionError,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
    ResourceNotReadyException,
)
from openrek.services import Services

DEFAULT_PAGE = 100
MAX_POLICIES = 5  # AWS: at most 5 policies a project


class MalformedPolicyDocumentException(RekognitionError):
    code = "MalformedPolicyDocumentException"


class InvalidPolicyRevisionIdException(RekognitionError):
    code = "InvalidPolicyRevisionIdException"


def custom_labels(services: Services) -> CustomLabels:
    return services.custom_labels


def _arn_prefix(services: Services) -> str:
    return f"arn:aws:rekognition:{services.settings.region}:{services.settings.account_id}:"


def _millis() -> int:
    return int(now() * 1000)


def project_name_of(arn: str) -> str | None:
    """The project name in a project, dataset or version ARN."""
    if arn.count(":") < 5:
        return None
    parts = arn.split(":", 5)[5].split("/")
    if len(parts) < 3 or parts[0] != "project":
        return None
    return parts[1]


def project_or_404(services: Services, arn: str) -> Project:
    name = project_name_of(arn)
    try:
        project = custom_labels(services).store.project(name or "")
    except Missing:
        raise ResourceNotFoundException(f"The project {arn} does not exist") from None
    # A dataset's or version's ARN shares the project's up to its creation time.
    if arn != project.arn and not arn.startswith(project.arn.rsplit("/", 1)[0] + "/"):
        raise ResourceNotFoundException(f"The project {arn} does not exist")
    return project


def project_exact(services: Services, arn: str) -> Project:
    project = project_or_404(services, arn)
    if arn != project.arn:
        raise ResourceNotFoundException(f"The project {arn} does not exist")
    return project


def dataset_or_404(services: Services, arn: str) -> tuple[Project, Dataset]:
    project = project_or_404(services, arn)
    return project, dataset_in(project, arn)


def dataset_in(project: Project, arn: str) -> Dataset:
    for dataset in project.datasets.values():
        if dataset.arn == arn:
            return dataset
    raise ResourceNotFoundException(f"The dataset {arn} does not exist")


@contextmanager
def editing(services: Services, project: Project) -> Iterator[ProjectEdit]:
    """The project, held for a change (another server may have changed it since it was
    read: checks that decide the change are made again on the record held here)."""
    try:
        with custom_labels(services).store.edit(project.name) as edit:
            if edit.project.arn != project.arn:  # deleted, and a namesake created since
                raise Missing(project.name)
            yield edit
    except Missing:
        raise ResourceNotFoundException(f"The project {project.arn} does not exist") from None


# Pagination: the token is the position of the next item, encoded.
def page_start(token: str | None) -> int:
    if token is None:
        return 0
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidPaginationTokenException("The pagination token is not valid") from None
    if start < 0:
        raise InvalidPaginationTokenException("The pagination token is not valid")
    return start


def paged(items: list[Any], params: dict[str, Any], key: str, default: int = DEFAULT_PAGE) -> dict[str, Any]:
    start = page_start(params.get("NextToken"))
    size = params.get("MaxResults") or default
    response: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        response["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return response


# Projects
def create_project(params: dict[str, Any], services: Services) -> dict[str, Any]:
    name = params["ProjectName"]
    feature = params.get("Feature", CUSTOM_LABELS)
    if feature == CONTENT_MODERATION and "AutoUpdate" not in params:
        # AWS: "Required argument for Content Moderation". The base model here never
        # changes under an adapter, so ENABLED has nothing to retrain for; it is kept.
        raise InvalidParameterException("AutoUpdate is required for a CONTENT_MODERATION project")
    tags = params.get("Tags") or {}
    check_tags(tags)
    created = now()
    project = Project(
        name=name,
        arn=f"{_arn_prefix(services)}project/{name}/{int(created * 1000)}",
        created=created,
        feature=feature,
        auto_update=params.get("AutoUpdate"),
        tags=dict(tags),
    )
    if not custom_labels(services).store.add_project(project):
        raise ResourceInUseException(f"A project named {name} already exists")
    return {"ProjectArn": project.arn}


def describe_project(project: Project) -> dict[str, Any]:
    described: dict[str, Any] = {
        "ProjectArn": project.arn,
        "CreationTimestamp": project.created,
        "Status": "CREATED",
        "Datasets": [
            {
                "CreationTimestamp": d.created,
                "DatasetType": d.kind,
                "DatasetArn": d.arn,
                "Status": d.status,
                "StatusMessage": d.status_message,
                "StatusMessageCode": d.status_code,
            }
            for d in project.datasets.values()
        ],
        "Feature": project.feature,
    }
    if project.auto_update:
        described["AutoUpdate"] = project.auto_update
    return described


def describe_projects(params: dict[str, Any], services: Services) -> dict[str, Any]:
    names = params.get("ProjectNames")
    features = params.get("Features")
    found = [
        describe_project(p)
        for p in custom_labels(services).store.projects()
        if (names is None or p.name in names) and (features is None or p.feature in features)
    ]
    return paged(found, params, "ProjectDescriptions")


def delete_project(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    if project.datasets or project.versions:
        raise ResourceInUseException(
            "The project still has datasets or model versions; delete them before the project"
        )
    custom_labels(services).store.remove_project(project.name)
    return {"Status": "DELETING"}


# Datasets
def create_dataset(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    kind = params["DatasetType"]
    source = params.get("DatasetSource") or {}
    tags = params.get("Tags") or {}
    check_tags(tags)
    if ("GroundTruthManifest" in source) and ("DatasetArn" in source):
        raise InvalidParameterException("DatasetSource takes GroundTruthManifest or DatasetArn, not both")
    dataset_source = _dataset_source(services, source)
    with editing(services, project) as edit:
        if kind in edit.project.datasets:
            # A second dataset of a type is a resource that exists (CreateDataset does not declare ResourceInUse).
            raise ResourceAlreadyExistsException(f"The project already has a {kind} dataset")
        created = now()
        dataset = Dataset(
            arn=f"{project.arn.rsplit('/', 1)[0]}/dataset/{kind.lower()}/{int(created * 1000)}",
            kind=kind,
            created=created,
            updated=created,
            tags=dict(tags),
            source=dataset_source,
        )
        edit.project.datasets[kind] = dataset
    custom_labels(services).work.wake()  # entries are read in the background
    return {"DatasetArn": dataset.arn}


def _dataset_source(services: Services, source: dict[str, Any]) -> dict[str, Any]:
    """Where the new dataset's entries come from (records.Dataset.source)."""
    if "GroundTruthManifest" in source:
        s3_object = source["GroundTruthManifest"].get("S3Object")
        if not s3_object:
            raise InvalidParameterException("GroundTruthManifest needs an S3Object")
        return {"S3Object": s3_object}
    if "DatasetArn" in source:
        origin_project, origin = dataset_or_404(services, source["DatasetArn"])
        if origin.status not in (CREATE_COMPLETE, UPDATE_COMPLETE):
            # CreateDataset declares neither ResourceInUse nor ResourceNotReady.
            raise InvalidParameterException(f"The dataset {origin.arn} is {origin.status}: not ready to copy")
        return {"Project": origin_project.name, "DatasetType": origin.kind}
    return {}


def describe_dataset(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, dataset = dataset_or_404(services, params["DatasetArn"])
    entries = [] if dataset.status == CREATE_IN_PROGRESS else _entries(services, project, dataset)
    labels = {label for e in entries for label in e.all_labels}
    return {
        "DatasetDescription": {
            "CreationTimestamp": dataset.created,
            "LastUpdatedTimestamp": dataset.updated,
            "Status": dataset.status,
            "StatusMessage": dataset.status_message,
            "StatusMessageCode": dataset.status_code,
            "DatasetStats": {
                "LabeledEntries": sum(1 for e in entries if e.labeled and not e.errors),
                "TotalEntries": len(entries),
                "TotalLabels": len(labels),
                "ErrorEntries": sum(1 for e in entries if e.errors),
            },
        }
    }


def _entries(services: Services, project: Project, dataset: Dataset) -> list[Entry]:
    return custom_labels(services).store.entries(project.name, dataset.kind)


def _ready(
    dataset: Dataset,
    in_progress: type[RekognitionError] = ResourceInUseException,
    failed: type[RekognitionError] = ResourceNotReadyException,
) -> None:
    """A dataset whose entries can be read or changed; otherwise the error the operation
    declares for that state (the Custom Labels operations declare different ones)."""
    if dataset.status == CREATE_IN_PROGRESS:
        raise in_progress(f"The dataset {dataset.arn} is still being created")
    if dataset.status not in (CREATE_COMPLETE, UPDATE_COMPLETE):
        raise failed(f"The dataset {dataset.arn} is {dataset.status}")


def list_dataset_entries(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, dataset = dataset_or_404(services, params["DatasetArn"])
    _ready(dataset)
    wanted = set(params.get("ContainsLabels") or [])
    labeled, has_errors = params.get("Labeled"), params.get("HasErrors")
    contains = params.get("SourceRefContains")
    chosen = [
        e.listed
        for e in _entries(services, project, dataset)
        if (not wanted or wanted & set(e.all_labels))
        and (labeled is None or e.labeled == labeled)
        and (has_errors is None or bool(e.errors) == has_errors)
        and (contains is None or contains in (e.source_ref or ""))
    ]
    return paged(chosen, params, "DatasetEntries")


def list_dataset_labels(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, dataset = dataset_or_404(services, params["DatasetArn"])
    _ready(dataset)
    counts: dict[str, list[int]] = {}
    for entry in _entries(services, project, dataset):
        if entry.errors:
            continue
        for label in entry.all_labels:
            counts.setdefault(label, [0, 0])[0] += 1
        for box in entry.boxes:
            counts[box.label][1] += 1
    described = [
        {"LabelName": label, "LabelStats": {"EntryCount": entries, "BoundingBoxCount": boxes}}
        for label, (entries, boxes) in sorted(counts.items())
    ]
    return paged(described, params, "DatasetLabelDescriptions")


def update_dataset_entries(params: dict[str, Any], services: Services) -> dict[str, Any]:
    """Lines whose source-ref is already in the dataset replace that entry; others are added."""
    project, dataset = dataset_or_404(services, params["DatasetArn"])
    _ready(dataset, failed=ResourceInUseException)
    text = params["Changes"]["GroundTruth"]
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    changes = [parse_line(line) for line in text.splitlines() if line.strip()]
    if not changes:
        raise InvalidParameterException("Changes.GroundTruth has no JSON lines")
    with editing(services, project) as edit:
        dataset = dataset_in(edit.project, dataset.arn)
        _ready(dataset, failed=ResourceInUseException)
        entries = _entries(services, project, dataset)
        position = {e.source_ref: i for i, e in enumerate(entries) if e.source_ref}
        for change in changes:
            if change.source_ref in position:
                entries[position[change.source_ref]] = change
            else:
                position[change.source_ref or f"error-{len(entries)}"] = len(entries)
                entries.append(change)
        edit.write_entries(dataset.kind, [e.line for e in entries])
        dataset.status, dataset.status_message, dataset.status_code = (
            UPDATE_COMPLETE,
            "The dataset is updated.",
            "SUCCESS",
        )
        dataset.updated = now()
    return {}


def distribute_dataset_entries(params: dict[str, Any], services: Services) -> dict[str, Any]:
    """Move 20% of the training entries, chosen at random, into the empty test dataset."""
    found = [dataset_or_404(services, d["Arn"]) for d in params["Datasets"]]
    kinds = {dataset.kind: (project, dataset) for project, dataset in found}
    if len(found) != 2 or set(kinds) != {"TRAIN", "TEST"} or found[0][0].name != found[1][0].name:
        raise InvalidParameterException("Datasets must be the TRAIN and the TEST dataset of one project")
    project, train = kinds["TRAIN"]
    _, test = kinds["TEST"]
    for dataset in (train, test):
        _ready(dataset, in_progress=ResourceNotReadyException)
    with editing(services, project) as edit:
        train, test = dataset_in(edit.project, train.arn), dataset_in(edit.project, test.arn)
        for dataset in (train, test):
            _ready(dataset, in_progress=ResourceNotReadyException)
        if _entries(services, project, test):
            raise InvalidParameterException("The TEST dataset must be empty to distribute entries into it")
        entries = _entries(services, project, train)
        order = np.random.default_rng().permutation(len(entries))
        moved = set(order[: len(entries) // 5].tolist())
        edit.write_entries("TRAIN", [e.line for i, e in enumerate(entries) if i not in moved])
        edit.write_entries("TEST", [e.line for i, e in enumerate(entries) if i in moved])
        for dataset in (train, test):
            dataset.status, dataset.status_message = UPDATE_COMPLETE, "The dataset is updated."
            dataset.updated = now()
    return {}


def delete_dataset(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project, dataset = dataset_or_404(services, params["DatasetArn"])
    if dataset.status == CREATE_IN_PROGRESS:
        raise ResourceInUseException(f"The dataset {dataset.arn} is still being created")
    with editing(services, project) as edit:
        if dataset_in(edit.project, dataset.arn).status == CREATE_IN_PROGRESS:
            raise ResourceInUseException(f"The dataset {dataset.arn} is still being created")
        edit.project.datasets.pop(dataset.kind, None)
        edit.remove_entries(dataset.kind)
    return {}


# Project policies
def put_project_policy(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    name, document = params["PolicyName"], params["PolicyDocument"]
    try:
        if not isinstance(json.loads(document), dict):
            raise ValueError
    except ValueError:
        raise MalformedPolicyDocumentException("The policy document is not a JSON object") from None
    revision = params.get("PolicyRevisionId")
    with editing(services, project) as edit:
        policies = edit.project.policies
        existing = policies.get(name)
        if existing is not None and revision != existing.revision:
            raise InvalidPolicyRevisionIdException(
                f"The policy {name} exists with another revision; pass its PolicyRevisionId to replace it"
            )
        if existing is None and revision is not None:
            raise InvalidPolicyRevisionIdException(f"There is no policy {name} to revise")
        if existing is None and len(policies) >= MAX_POLICIES:
            raise LimitExceededException(f"A project can have at most {MAX_POLICIES} policies")
        stamp = now()
        policies[name] = Policy(
            name, uuid.uuid4().hex, document, existing.created if existing else stamp, stamp
        )
        return {"PolicyRevisionId": policies[name].revision}


def list_project_policies(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    policies = [
        {
            "ProjectArn": project.arn,
            "PolicyName": p.name,
            "PolicyRevisionId": p.revision,
            "PolicyDocument": p.document,
            "CreationTimestamp": p.created,
            "LastUpdatedTimestamp": p.updated,
        }
        for p in project.policies.values()
    ]
    return paged(policies, params, "ProjectPolicies", default=5)


def delete_project_policy(params: dict[str, Any], services: Services) -> dict[str, Any]:
    project = project_exact(services, params["ProjectArn"])
    name, revision = params["PolicyName"], params.get("PolicyRevisionId")
    with editing(services, project) as edit:
        existing = edit.project.policies.get(name)
        if existing is None:
            raise ResourceNotFoundException(f"The policy {name} does not exist")
        if revision is not None and revision != existing.revision:
            raise InvalidPolicyRevisionIdException(f"The policy {name} has another revision")
        del edit.project.policies[name]
    return {}


# Tags (routed here by operations/tags.py)
def tags_of(services: Services, arn: str) -> dict[str, str]:
    return _tags_in(project_or_404(services, arn), arn)


def _tags_in(project: Project, arn: str) -> dict[str, str]:
    """The tags of the project, dataset or version `arn` names, on this record of the project."""
    if arn == project.arn:
        return project.tags
    if "/version/" in arn:
        for version in project.versions.values():
            if version.arn == arn:
                return version.tags
        raise ResourceNotFoundException(f"The project version {arn} does not exist")
    if "/dataset/" in arn:
        # A dataset's tags live on its record, so DeleteDataset drops them with it.
        return dataset_in(project, arn).tags
    raise ResourceNotFoundException(f"The resource {arn} does not exist")


def tag_resource(services: Services, arn: str, tags: dict[str, str]) -> None:
    with editing(services, project_or_404(services, arn)) as edit:
        current = _tags_in(edit.project, arn)
        check_tags({**current, **tags})
        current.update(tags)


def untag_resource(services: Services, arn: str, keys: list[str]) -> None:
    with editing(services, project_or_404(services, arn)) as edit:
        current = _tags_in(edit.project, arn)
        for key in keys:
            current.pop(key, None)


HANDLERS: dict[str, Handler[Services]] = {
    "CreateProject": create_project,
    "DescribeProjects": describe_projects,
    "DeleteProject": delete_project,
    "CreateDataset": create_dataset,
    "DescribeDataset": describe_dataset,
    "ListDatasetEntries": list_dataset_entries,
    "ListDatasetLabels": list_dataset_labels,
    "UpdateDatasetEntries": update_dataset_entries,
    "DistributeDatasetEntries": distribute_dataset_entries,
    "DeleteDataset": delete_dataset,
    "PutProjectPolicy": put_project_policy,
    "ListProjectPolicies": list_project_policies,
    "DeleteProjectPolicy": delete_project_policy,
}
