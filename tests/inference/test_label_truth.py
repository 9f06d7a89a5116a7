"""The recall set's truth lists every ancestor of what it names (the rule of
tools/label_truth_ancestors.py), so that returning a parent, as Rekognition does, is
never counted as an error."""

from __future__ import annotations

import json

import pytest

from openrek.config import Settings
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.models.store import ModelStore
from tools.label_truth_ancestors import SET, complete


def test_complete_adds_each_missing_ancestor_once() -> None:
    ancestors = {
        "Samoyed": ("Dog", "Pet", "Canine", "Mammal", "Animal"),
        "Dog": ("Pet", "Canine", "Mammal", "Animal"),
    }
    photos = {
        "a.jpg": {"labels": ["Samoyed", "Dog"], "also": ["Pet"]},
        "b.jpg": {"labels": ["Sky"], "also": []},
    }
    assert complete(photos, ancestors) == 3
    assert photos["a.jpg"]["also"] == ["Pet", "Canine", "Mammal", "Animal"]
    assert photos["b.jpg"]["also"] == []  # a label without ancestors brings none
    assert complete(photos, ancestors) == 0  # idempotent


@pytest.mark.needs_models
def test_recall_set_truth_holds_every_ancestor() -> None:
    store = ModelStore(Settings.from_env().models_dir)
    store.pull(["imagenet-taxonomy"], progress=lambda _m: None)
    taxonomy = Taxonomy.load(store.path("imagenet-taxonomy"))
    photos = json.loads(SET.read_text())["photos"]
    assert len(photos) == 164
    assert complete(photos, taxonomy.ancestors) == 0
