"""Custom Labels in the shared PostgreSQL database: every server and worker sees the same
projects, datasets and versions, and loads the same model files.

A project is one JSON document (`custom_labels_projects.document`). `edit` reads it with
`SELECT ... FOR UPDATE`, so changes to one project from any host are serialised and none
is lost; the dataset entries staged on the edit are written in the same transaction.
Model files are rows (`custom_labels_files`), read into a local cache folder under the
data directory before a model is loaded; the loader checks every file against its pin.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from openrek.atomic_files import write_atomically
from openrek.custom_labels.manifest import Entry
from openrek.custom_labels.records import Missing, Project, has_work, project_from_json, project_to_json
from openrek.custom_labels.store import ProjectEdit, entries_from_lines
from openrek.models.registry import sha256_of
from openrek.storage.postgres.connections import connection, open_migrated_pool, transaction


class PostgresCustomLabelsStore:
    shared = True

    def __init__(self, url: str, root: Path) -> None:
        self._pool = open_migrated_pool(url, max_size=4, name="openrek-custom-labels")
        self.root = root  # local scratch (training output) and the model-file cache

    def close(self) -> None:
        self._pool.close()

    def projects(self) -> list[Project]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                "SELECT document FROM custom_labels_projects ORDER BY created_at, name"
            ).fetchall()
        return [project_from_json(row[0]) for row in rows]

    def project(self, name: str) -> Project:
        with connection(self._pool) as conn:
            row = conn.execute(
                "SELECT document FROM custom_labels_projects WHERE name = %s", (name,)
            ).fetchone()
        if row is None:
            raise Missing(name)
        return project_from_json(row[0])

    def add_project(self, project: Project) -> bool:
        with connection(self._pool) as conn:
            inserted = conn.execute(
                "INSERT INTO custom_labels_projects (name, document, created_at, has_work) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (project.name, json.dumps(project_to_json(project)), project.created, has_work(project)),
            )
            return inserted.rowcount == 1

    def remove_project(self, name: str) -> None:
        with connection(self._pool) as conn:  # entries and files go with it (ON DELETE CASCADE)
            conn.execute("DELETE FROM custom_labels_projects WHERE name = %s", (name,))

    @contextmanager
    def edit(self, name: str) -> Iterator[ProjectEdit]:
        with transaction(self._pool) as conn:
            row = conn.execute(
                "SELECT document FROM custom_labels_projects WHERE name = %s FOR UPDATE", (name,)
            ).fetchone()
            if row is None:
                raise Missing(name)
            yield from self._edit_locked(conn, row[0])

    @contextmanager
    def try_edit(self, name: str) -> Iterator[ProjectEdit | None]:
        with transaction(self._pool) as conn:
            row = conn.execute(
                "SELECT document FROM custom_labels_projects WHERE name = %s FOR UPDATE SKIP LOCKED", (name,)
            ).fetchone()
            if row is None:  # held by another process (or gone)
                yield None
                return
            yield from self._edit_locked(conn, row[0])

    @staticmethod
    def _edit_locked(conn: psycopg.Connection, document: dict[str, object]) -> Iterator[ProjectEdit]:
        edit = ProjectEdit(project_from_json(document))
        yield edit
        project = edit.project
        conn.execute(
            "UPDATE custom_labels_projects SET document = %s, has_work = %s WHERE name = %s",
            (json.dumps(project_to_json(project)), has_work(project), project.name),
        )
        for kind, lines in edit.entries.items():
            if lines is None:
                conn.execute(
                    "DELETE FROM custom_labels_entries WHERE project = %s AND dataset_type = %s",
                    (project.name, kind),
                )
            else:
                conn.execute(
                    "INSERT INTO custom_labels_entries (project, dataset_type, lines) VALUES (%s, %s, %s) "
                    "ON CONFLICT (project, dataset_type) DO UPDATE SET lines = excluded.lines",
                    (project.name, kind, "".join(json.dumps(line) + "\n" for line in lines)),
                )

    def projects_with_work(self) -> list[str]:
        with connection(self._pool) as conn:
            rows = conn.execute(
                "SELECT name FROM custom_labels_projects WHERE has_work ORDER BY name"
            ).fetchall()
        return [row[0] for row in rows]

    def entries(self, project: str, kind: str) -> list[Entry]:
        with connection(self._pool) as conn:
            row = conn.execute(
                "SELECT lines FROM custom_labels_entries WHERE project = %s AND dataset_type = %s",
                (project, kind),
            ).fetchone()
        return [] if row is None else entries_from_lines(iter(row[0].splitlines()))

    # Version files
    def scratch_dir(self, project: str, version: str) -> Path:
        return self.root / "scratch" / project / version

    def keep_version_files(self, project: str, version: str, pins: dict[str, str]) -> None:
        folder = self.scratch_dir(project, version)
        with transaction(self._pool) as conn:
            conn.execute(
                "DELETE FROM custom_labels_files WHERE project = %s AND version = %s", (project, version)
            )
            for name, digest in sorted(pins.items()):
                conn.execute(
                    "INSERT INTO custom_labels_files (project, version, file_name, sha256, data) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (project, version, name, digest, (folder / name).read_bytes()),
                )
        shutil.rmtree(folder, ignore_errors=True)

    def version_files(self, project: str, version: str, pins: dict[str, str]) -> Path:
        """The cache folder, with every pinned file that is missing or stale there fetched."""
        folder = self.root / "cache" / project / version
        stale = [
            name
            for name, digest in pins.items()
            if not (folder / name).is_file() or sha256_of(folder / name) != digest
        ]
        if stale:
            with connection(self._pool) as conn:
                rows = conn.execute(
                    "SELECT file_name, data FROM custom_labels_files "
                    "WHERE project = %s AND version = %s AND file_name = ANY(%s)",
                    (project, version, stale),
                ).fetchall()
            for name, data in rows:
                write_atomically(folder / name, bytes(data))
        return folder

    def copy_version_files(self, source: tuple[str, str], target: tuple[str, str]) -> None:
        with transaction(self._pool) as conn:
            conn.execute("DELETE FROM custom_labels_files WHERE project = %s AND version = %s", target)
            conn.execute(
                "INSERT INTO custom_labels_files (project, version, file_name, sha256, data) "
                "SELECT %s, %s, file_name, sha256, data FROM custom_labels_files "
                "WHERE project = %s AND version = %s",
                (*target, *source),
            )

    def remove_version_files(self, project: str, version: str) -> None:
        with connection(self._pool) as conn:
            conn.execute(
                "DELETE FROM custom_labels_files WHERE project = %s AND version = %s", (project, version)
            )
        shutil.rmtree(self.root / "cache" / project / version, ignore_errors=True)
