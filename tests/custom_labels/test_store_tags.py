"""Dataset tags survive a restart (the store reloads state.json), and a state file
written before datasets had tags (or work had claims) still loads."""

from __future__ import annotations

import json
from pathlib import Path

from openrek.custom_labels.file_store import FileCustomLabelsStore
from openrek.custom_labels.records import Dataset, Project

ARN = "arn:aws:rekognition:us-east-1:000000000000:project/p/1"


def test_dataset_tags_are_saved_and_reloaded(tmp_path: Path) -> None:
    store = FileCustomLabelsStore(tmp_path)
    project = Project(name="p", arn=ARN, created=1.0)
    project.datasets["TRAIN"] = Dataset(
        arn=ARN.replace("/1", "/dataset/train/2"), kind="TRAIN", created=2.0, updated=2.0, tags={"a": "b"}
    )
    store.add_project(project)
    reloaded = FileCustomLabelsStore(tmp_path).project("p")
    assert reloaded.datasets["TRAIN"].tags == {"a": "b"}


def test_a_state_file_without_dataset_tags_loads_them_empty(tmp_path: Path) -> None:
    old_dataset = {"arn": "d", "kind": "TEST", "created": 1.0, "updated": 1.0, "status": "CREATE_COMPLETE"}
    old_project = {"name": "p", "arn": ARN, "created": 1.0, "datasets": {"TEST": old_dataset}}
    state = {"projects": [{**old_project, "versions": {}, "policies": {}}]}
    (tmp_path / "state.json").write_text(json.dumps(state))
    loaded = FileCustomLabelsStore(tmp_path).project("p").datasets["TEST"]
    assert loaded.tags == {} and loaded.holder is None and loaded.attempt == 0
