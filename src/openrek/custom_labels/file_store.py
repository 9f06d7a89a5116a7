"""The embedded Custom Labels store, under `<data-dir>/custom_labels/`.

The records live in one JSON file (`state.json`, rewritten whole and renamed, so a crash
leaves the old or the new state, never half of one). A dataset's entries are its
manifest lines, in a JSON Lines file of their own: images stay in their buckets, the
store keeps only what the manifest says about them. A trained version is a file set in
`versions/<project>/<version>/`, each file pinned by its SHA-256 in the version's record.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openrek.atomic_files import write_atomically
from openrek.custom_labels.manifest import Entry
from openrek.custom_labels.records import Missing, Project, has_work, project_from_json, project_to_json
from openrek.custom_labels.store import ProjectEdit, entries_from_lines


class FileCustomLabelsStore:
    shared = False

    def __init__(self, root: Path) -> None:
        self.root = root
        # One lock for the whole file: every change rewrites it.
        self._lock = threading.RLock()
        self._state = root / "state.json"
        self._projects: dict[str, Project] = {}
        if self._state.exists():
            data = json.loads(self._state.read_text())
            self._projects = {p["name"]: project_from_json(p) for p in data["projects"]}

    def _save(self) -> None:
        data = {"projects": [project_to_json(p) for p in self._projects.values()]}
        write_atomically(self._state, json.dumps(data).encode())

    def projects(self) -> list[Project]:
        with self._lock:
            found = sorted(self._projects.values(), key=lambda p: (p.created, p.name))
            return copy.deepcopy(found)

    def project(self, name: str) -> Project:
        with self._lock:
            if name not in self._projects:
                raise Missing(name)
            return copy.deepcopy(self._projects[name])

    def add_project(self, project: Project) -> bool:
        with self._lock:
            if project.name in self._projects:
                return False
            self._projects[project.name] = copy.deepcopy(project)
            self._save()
            return True

    def remove_project(self, name: str) -> None:
        with self._lock:
            self._projects.pop(name, None)
            for kind in ("TRAIN", "TEST"):
                self._entries_path(name, kind).unlink(missing_ok=True)
            self._save()

    @contextmanager
    def edit(self, name: str) -> Iterator[ProjectEdit]:
        with self._lock:
            yield from self._edit_locked(name)

    @contextmanager
    def try_edit(self, name: str) -> Iterator[ProjectEdit | None]:
        if not self._lock.acquire(blocking=False):
            yield None
            return
        try:
            if name not in self._projects:
                yield None
                return
            yield from self._edit_locked(name)
        finally:
            self._lock.release()

    def _edit_locked(self, name: str) -> Iterator[ProjectEdit]:
        if name not in self._projects:
            raise Missing(name)
        edit = ProjectEdit(copy.deepcopy(self._projects[name]))
        yield edit
        for kind, lines in edit.entries.items():
            if lines is None:
                self._entries_path(name, kind).unlink(missing_ok=True)
            else:
                body = "".join(json.dumps(line) + "\n" for line in lines)
                write_atomically(self._entries_path(name, kind), body.encode())
        self._projects[name] = edit.project
        self._save()

    def projects_with_work(self) -> list[str]:
        with self._lock:
            return [name for name, project in self._projects.items() if has_work(project)]

    # Dataset entries
    def _entries_path(self, project: str, kind: str) -> Path:
        return self.root / "datasets" / project / f"{kind.lower()}.jsonl"

    def entries(self, project: str, kind: str) -> list[Entry]:
        path = self._entries_path(project, kind)
        if not path.exists():
            return []
        return entries_from_lines(iter(path.read_text().splitlines()))

    # Version files: written in place, kept where they are.
    def _version_dir(self, project: str, version: str) -> Path:
        return self.root / "versions" / project / version

    def scratch_dir(self, project: str, version: str) -> Path:
        return self._version_dir(project, version)

    def keep_version_files(self, project: str, version: str, pins: dict[str, str]) -> None:
        pass  # already in their folder

    def version_files(self, project: str, version: str, pins: dict[str, str]) -> Path:
        return self._version_dir(project, version)

    def copy_version_files(self, source: tuple[str, str], target: tuple[str, str]) -> None:
        shutil.copytree(self._version_dir(*source), self._version_dir(*target), dirs_exist_ok=True)

    def remove_version_files(self, project: str, version: str) -> None:
        shutil.rmtree(self._version_dir(project, version), ignore_errors=True)

    def close(self) -> None:
        pass
