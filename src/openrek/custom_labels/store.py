"""What a Custom Labels store is: projects (records.py), dataset entries and model files.

Two implementations:
- `file_store.FileCustomLabelsStore` (embedded default): a JSON file and file trees
  under `<data-dir>/custom_labels/`, for the one process that serves.
- `postgres_store.PostgresCustomLabelsStore`: the shared database, where every server
  and worker sees the same projects and reads the same model files.

Records handed out are copies: a change is made inside `edit`, which holds the project
exclusively (a row lock on PostgreSQL) and writes it back, with the dataset entries
staged on the edit, when the block ends without an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from openrek.config import Settings
from openrek.custom_labels.manifest import Entry
from openrek.custom_labels.records import Project


@dataclass
class ProjectEdit:
    project: Project
    # Dataset type -> its new entries' manifest lines (None: the entries are removed),
    # written together with the project.
    entries: dict[str, list[str] | None] = field(default_factory=dict)

    def write_entries(self, kind: str, lines: list[str]) -> None:
        self.entries[kind] = lines

    def remove_entries(self, kind: str) -> None:
        self.entries[kind] = None


class CustomLabelsStore(Protocol):
    # True when other processes share the store (their claims on work are live).
    shared: bool

    def projects(self) -> list[Project]: ...
    def project(self, name: str) -> Project: ...  # records.Missing
    def add_project(self, project: Project) -> bool: ...  # False: the name is taken
    def remove_project(self, name: str) -> None: ...
    def edit(self, name: str) -> AbstractContextManager[ProjectEdit]: ...  # records.Missing
    # As edit, but None at once when another process or thread holds the project.
    def try_edit(self, name: str) -> AbstractContextManager[ProjectEdit | None]: ...
    def projects_with_work(self) -> list[str]: ...  # names; see records.has_work

    def entries(self, project: str, kind: str) -> list[Entry]: ...

    # Model files: training writes them to `scratch_dir`, `keep_version_files` stores
    # them, `version_files` gives a local folder holding them (to load, checking pins).
    def scratch_dir(self, project: str, version: str) -> Path: ...
    def keep_version_files(self, project: str, version: str, pins: dict[str, str]) -> None: ...
    def version_files(self, project: str, version: str, pins: dict[str, str]) -> Path: ...
    def copy_version_files(self, source: tuple[str, str], target: tuple[str, str]) -> None: ...
    def remove_version_files(self, project: str, version: str) -> None: ...
    def close(self) -> None: ...


def open_custom_labels_store(settings: Settings) -> CustomLabelsStore:
    root = settings.data_dir / "custom_labels"
    url = settings.database.postgres_url
    if url is not None:
        from openrek.custom_labels.postgres_store import PostgresCustomLabelsStore

        return PostgresCustomLabelsStore(url, root)
    from openrek.custom_labels.file_store import FileCustomLabelsStore

    return FileCustomLabelsStore(root)


def entries_from_lines(rows: Iterator[str]) -> list[Entry]:
    import json

    from openrek.custom_labels.manifest import parse_line

    return [parse_line(json.loads(row)) for row in rows if row]
