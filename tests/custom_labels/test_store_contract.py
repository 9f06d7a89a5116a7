"""The Custom Labels store on its own, against both backends: projects as documents,
edits that write back only on success, entries written with their edit, model files,
and which projects have work; on PostgreSQL, edits from many processes that lose
nothing, and a held project skipped rather than waited for."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openrek.custom_labels.file_store import FileCustomLabelsStore
from openrek.custom_labels.manifest import classification_line
from openrek.custom_labels.postgres_store import PostgresCustomLabelsStore
from openrek.custom_labels.records import (
    CREATE_COMPLETE,
    CREATE_IN_PROGRESS,
    RUNNING,
    TRAINING_IN_PROGRESS,
    Dataset,
    Missing,
    Project,
    Version,
)
from openrek.custom_labels.store import CustomLabelsStore
from openrek.models.registry import sha256_of

PREFIX = "arn:aws:rekognition:us-east-1:000000000000:project"


def project(name: str, created: float = 1.0) -> Project:
    return Project(name=name, arn=f"{PREFIX}/{name}/1", created=created)


def dataset(kind: str, status: str = CREATE_COMPLETE) -> Dataset:
    return Dataset(arn=f"d-{kind}", kind=kind, created=1.0, updated=1.0, status=status)


def version(name: str, status: str = TRAINING_IN_PROGRESS) -> Version:
    return Version(name=name, arn=f"v-{name}", created=2.0, output_config={"S3Bucket": "b"}, status=status)


@pytest.fixture(params=["file", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], CustomLabelsStore]]:
    """Stores over one backend, as separate processes (PostgreSQL) or one process's
    restarts (the file store) would open them."""
    opened: list[CustomLabelsStore] = []
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None

    def open_one() -> CustomLabelsStore:
        root = tmp_path / f"local-{len(opened)}" if url else tmp_path
        store: CustomLabelsStore = (
            PostgresCustomLabelsStore(url, root) if url else FileCustomLabelsStore(root)
        )
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def test_projects_are_added_once_listed_in_creation_order_and_removed(
    open_store: Callable[[], CustomLabelsStore],
) -> None:
    store = open_store()
    assert store.add_project(project("b", created=2.0)) and store.add_project(project("a", created=3.0))
    assert not store.add_project(project("b", created=9.0))
    assert [p.name for p in open_store().projects()] == ["b", "a"]
    store.remove_project("b")
    assert [p.name for p in open_store().projects()] == ["a"]
    with pytest.raises(Missing):
        store.project("b")
    with pytest.raises(Missing), store.edit("b"):
        pass


def test_records_handed_out_are_copies_and_an_edit_writes_back_only_on_success(
    open_store: Callable[[], CustomLabelsStore],
) -> None:
    store = open_store()
    store.add_project(project("p"))
    store.project("p").tags["lost"] = "yes"  # a copy: changing it changes nothing stored
    with store.edit("p") as edit:
        edit.project.datasets["TRAIN"] = dataset("TRAIN")
        edit.project.tags["kept"] = "yes"
    with pytest.raises(RuntimeError), store.edit("p") as edit:
        edit.project.tags["rolled back"] = "yes"
        edit.write_entries("TRAIN", ["never written"])
        raise RuntimeError
    again = open_store().project("p")
    assert again.tags == {"kept": "yes"} and list(again.datasets) == ["TRAIN"]
    assert store.entries("p", "TRAIN") == []


def test_entries_are_written_and_removed_with_their_edit(open_store: Callable[[], CustomLabelsStore]) -> None:
    store = open_store()
    store.add_project(project("p"))
    lines = [classification_line(f"s3://b/{i}.jpg", "cat" if i % 2 else "dog") for i in range(5)]
    with store.edit("p") as edit:
        edit.write_entries("TRAIN", lines)
        edit.write_entries("TEST", lines[:1])
    read = open_store().entries("p", "TRAIN")
    assert [e.line for e in read] == lines and read[1].all_labels == ("cat",)
    with store.edit("p") as edit:
        edit.remove_entries("TEST")
    assert store.entries("p", "TEST") == [] and len(store.entries("p", "TRAIN")) == 5


def test_projects_with_work_are_those_with_a_dataset_or_version_to_process(
    open_store: Callable[[], CustomLabelsStore],
) -> None:
    store = open_store()
    for name in ("idle", "creating", "training"):
        store.add_project(project(name))
    with store.edit("idle") as edit:
        edit.project.versions["v"] = version("v", RUNNING)
    with store.edit("creating") as edit:
        edit.project.datasets["TRAIN"] = dataset("TRAIN", CREATE_IN_PROGRESS)
    with store.edit("training") as edit:
        edit.project.versions["v"] = version("v")
    assert sorted(open_store().projects_with_work()) == ["creating", "training"]
    with store.edit("training") as edit:
        edit.project.versions["v"].status = RUNNING
    assert store.projects_with_work() == ["creating"]


def test_model_files_are_kept_read_back_copied_and_removed(
    open_store: Callable[[], CustomLabelsStore],
) -> None:
    store, other_host = open_store(), open_store()
    for name in ("p", "q"):
        store.add_project(project(name))
    scratch = store.scratch_dir("p", "v1")
    scratch.mkdir(parents=True)
    (scratch / "head.npz").write_bytes(b"\x00weights" * 1000)
    (scratch / "head.json").write_text('{"labels": ["cat"]}')
    pins = {name: sha256_of(scratch / name) for name in ("head.npz", "head.json")}
    store.keep_version_files("p", "v1", pins)

    def pinned(folder: Path) -> bool:
        return all(
            (folder / name).is_file() and sha256_of(folder / name) == pin for name, pin in pins.items()
        )

    assert pinned(other_host.version_files("p", "v1", pins))
    other_host.copy_version_files(("p", "v1"), ("q", "v2"))
    assert pinned(store.version_files("q", "v2", pins))
    store.remove_version_files("p", "v1")
    assert not pinned(open_store().version_files("p", "v1", pins))
    assert pinned(open_store().version_files("q", "v2", pins))  # the copy stands alone


def test_a_held_project_is_skipped_by_try_edit_not_waited_for(
    open_store: Callable[[], CustomLabelsStore],
) -> None:
    store = open_store()
    other = open_store() if store.shared else store  # the file store: one process, its threads
    store.add_project(project("p"))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.edit("p") as edit:
            edit.project.tags["holder"] = "first"
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        with other.try_edit("p") as edit:
            assert edit is None
    finally:
        release.set()
        holder.join()
    with other.try_edit("p") as edit:
        assert edit is not None and edit.project.tags == {"holder": "first"}


@pytest.mark.needs_postgres
def test_edits_from_many_processes_lose_nothing(postgres_url: str, tmp_path: Path) -> None:
    stores = [PostgresCustomLabelsStore(postgres_url, tmp_path / str(i)) for i in range(3)]
    stores[0].add_project(project("p"))

    def add(store: PostgresCustomLabelsStore, who: int) -> None:
        for n in range(15):
            with store.edit("p") as edit:
                edit.project.tags[f"{who}-{n}"] = "x"

    threads = [threading.Thread(target=add, args=(store, i)) for i, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(stores[1].project("p").tags) == 45
    finally:
        for store in stores:
            store.close()
