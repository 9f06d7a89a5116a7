"""What Custom Labels keeps: projects, their datasets, model versions and policies.

A project is stored as one document (datasets, versions and policies inside it), so a
change to a project is one read-modify-write under that project's lock (see store.py).
Background work (creating a dataset, training, copying, starting and stopping a version)
is recorded on the dataset or version it changes: `holder` names the process doing it
and `lease_until` until when its claim holds, so another process takes work over whose
holder died (work.py).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

# Project features
CUSTOM_LABELS, CONTENT_MODERATION = "CUSTOM_LABELS", "CONTENT_MODERATION"
# Project statuses
CREATED = "CREATED"
# Dataset statuses
CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED = "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED"
UPDATE_IN_PROGRESS, UPDATE_COMPLETE = "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"
# Version statuses
TRAINING_IN_PROGRESS, TRAINING_COMPLETED, TRAINING_FAILED = (
    "TRAINING_IN_PROGRESS",
    "TRAINING_COMPLETED",
    "TRAINING_FAILED",
)
STARTING, RUNNING, STOPPING, STOPPED, FAILED = "STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED"
COPYING_IN_PROGRESS, COPYING_COMPLETED, COPYING_FAILED = (
    "COPYING_IN_PROGRESS",
    "COPYING_COMPLETED",
    "COPYING_FAILED",
)


class Missing(KeyError):
    """No such project, dataset, version or policy."""


@dataclass
class Dataset:
    arn: str
    kind: str  # TRAIN or TEST
    created: float
    updated: float
    status: str = CREATE_IN_PROGRESS
    status_message: str = "The dataset is being created."
    status_code: str = "SUCCESS"
    tags: dict[str, str] = field(default_factory=dict)  # CreateDataset's Tags, then TagResource's
    # Where CREATE_IN_PROGRESS reads its entries: {"S3Object": ...} (a manifest),
    # {"Project": name, "DatasetType": kind} (another dataset's entries), or {} (none).
    source: dict[str, Any] | None = None
    holder: str | None = None
    lease_until: float | None = None
    attempt: int = 0  # claims of the current work so far; only the latest may record its outcome


@dataclass
class Version:
    name: str
    arn: str
    created: float
    output_config: dict[str, Any]
    status: str = TRAINING_IN_PROGRESS
    status_message: str = "The model is being trained."
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    kms_key_id: str | None = None
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    training_seconds: int | None = None
    training_end: float | None = None
    f1_score: float | None = None
    summary_key: str | None = None  # the evaluation summary's key in output_config's bucket
    files: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256
    source_version_arn: str | None = None
    training_input: dict[str, Any] | None = None  # TrainingData as requested
    feature_config: dict[str, Any] | None = None  # CreateProjectVersion's FeatureConfig, as given
    testing_input: dict[str, Any] | None = None
    holder: str | None = None
    lease_until: float | None = None
    attempt: int = 0


@dataclass
class Policy:
    name: str
    revision: str
    document: str
    created: float
    updated: float


@dataclass
class Project:
    name: str
    arn: str
    created: float
    feature: str = CUSTOM_LABELS
    auto_update: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)  # by kind
    versions: dict[str, Version] = field(default_factory=dict)  # by name, in creation order
    policies: dict[str, Policy] = field(default_factory=dict)


def project_from_json(data: dict[str, Any]) -> Project:
    project = Project(**{k: v for k, v in data.items() if k not in ("datasets", "versions", "policies")})
    project.datasets = {k: Dataset(**v) for k, v in data["datasets"].items()}
    project.versions = {k: Version(**v) for k, v in data["versions"].items()}
    project.policies = {k: Policy(**v) for k, v in data["policies"].items()}
    return project


def project_to_json(project: Project) -> dict[str, Any]:
    return asdict(project)


# The statuses that stand for work some process still has to do.
DATASET_WORK = (CREATE_IN_PROGRESS,)
VERSION_WORK = (TRAINING_IN_PROGRESS, COPYING_IN_PROGRESS, STARTING, STOPPING)


def has_work(project: Project) -> bool:
    return any(d.status in DATASET_WORK for d in project.datasets.values()) or any(
        v.status in VERSION_WORK for v in project.versions.values()
    )


def version_names_of(arn: str) -> tuple[str, str] | None:
    """(project, version) named by a version ARN: `...:project/<name>/version/<version>/<ms>`."""
    parts = arn.split(":", 5)[-1].split("/")
    if len(parts) != 5 or parts[0] != "project" or parts[2] != "version":
        return None
    return parts[1], parts[3]


def now() -> float:
    return round(time.time(), 3)
