"""Projects, datasets, model versions and project policies, kept under
`<data-dir>/custom_labels/`.

The records live in one JSON file (`state.json`, rewritten whole and renamed, so a
crash leaves the old or the new state, never half of one). A dataset's entries are
its manifest lines, in a JSON Lines file of their own: images stay in their buckets,
the store keeps only what the manifest says about them. A trained version is a file
set in `versions/<project>/<version>/`, each file pinned by its SHA-256.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openrek.atomic_files import write_atomically
from openrek.custom_labels.manifest import Entry, parse_line

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


def _project_from_json(data: dict[str, Any]) -> Project:
    project = Project(**{k: v for k, v in data.items() if k not in ("datasets", "versions", "policies")})
    project.datasets = {k: Dataset(**v) for k, v in data["datasets"].items()}
    project.versions = {k: Version(**v) for k, v in data["versions"].items()}
    project.policies = {k: Policy(**v) for k, v in data["policies"].items()}
    return project


class CustomLabelsStore:
    """Every method takes the store's lock: records handed out are copies' owners'
    to read, and changes go through `update`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.RLock()
        self._state = root / "state.json"
        self._projects: dict[str, Project] = {}
        if self._state.exists():
            data = json.loads(self._state.read_text())
            self._projects = {p["name"]: _project_from_json(p) for p in data["projects"]}

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def save(self) -> None:
        with self._lock:
            data = {"projects": [dataclasses.asdict(p) for p in self._projects.values()]}
            write_atomically(self._state, json.dumps(data).encode())

    # Projects
    def projects(self) -> list[Project]:
        with self._lock:
            return sorted(self._projects.values(), key=lambda p: (p.created, p.name))

    def add_project(self, project: Project) -> bool:
        with self._lock:
            if project.name in self._projects:
                return False
            self._projects[project.name] = project
            self.save()
            return True

    def project(self, name: str) -> Project:
        with self._lock:
            if name not in self._projects:
                raise Missing(name)
            return self._projects[name]

    def remove_project(self, name: str) -> None:
        with self._lock:
            self._projects.pop(name, None)
            self.save()

    # Dataset entries
    def entries_path(self, project: str, kind: str) -> Path:
        return self.root / "datasets" / project / f"{kind.lower()}.jsonl"

    def write_entries(self, project: str, kind: str, lines: list[str]) -> None:
        body = "".join(json.dumps(line) + "\n" for line in lines)
        write_atomically(self.entries_path(project, kind), body.encode())

    def entries(self, project: str, kind: str) -> list[Entry]:
        path = self.entries_path(project, kind)
        if not path.exists():
            return []
        return [parse_line(json.loads(row)) for row in path.read_text().splitlines() if row]

    def remove_entries(self, project: str, kind: str) -> None:
        self.entries_path(project, kind).unlink(missing_ok=True)

    # Version files
    def version_dir(self, project: str, version: str) -> Path:
        return self.root / "versions" / project / version


def now() -> float:
    return round(time.time(), 3)
