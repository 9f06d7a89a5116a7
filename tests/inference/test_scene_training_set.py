"""The scene head's training set (bench/data/scene_training.json, issue 15 round 5)
stays apart from what measures DetectLabels: no photo of the recall set (either part)
and none of the photos the DetectLabels tests assert on, and its labels are names the
head knows, with every ancestor, as the recall set's truth is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openrek.config import Settings
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.models.store import ModelStore
from tools.eval_data import PHOTOS
from tools.label_truth_ancestors import SET as RECALL_SET
from tools.scene_training_photos import SCENE_CARRIERS, SCENE_RESOURCES, scene_training_photos

TEST_TRUTH = Path(__file__).resolve().parent.parent / "data" / "label_truth.json"


def test_no_training_photo_is_a_recall_or_test_photo() -> None:
    training = scene_training_photos()
    assert len(training) >= 460  # 308 in round 5, 160 more in round 6
    digests = [str(photo["sha256"]) for photo in training.values()]
    assert len(set(digests)) == len(digests)
    recall = {photo["sha256"] for photo in json.loads(RECALL_SET.read_text())["photos"].values()}
    tested = set(json.loads(TEST_TRUTH.read_text())["photos"])
    test_digests = {digest for folder, _, name, digest in PHOTOS if f"{folder}/{name}" in tested}
    assert not set(digests) & recall
    assert not set(digests) & test_digests


def test_every_training_photo_has_a_pinned_carrier() -> None:
    for key, photo in scene_training_photos().items():
        assert key.startswith("scene-training/")
        if photo["carrier"] == "gcompris":
            assert photo["rcc"] in SCENE_RESOURCES, key
        else:
            assert photo["carrier"] in SCENE_CARRIERS, key


@pytest.mark.needs_models
def test_training_labels_are_known_names_with_their_ancestors() -> None:
    store = ModelStore(Settings.from_env().models_dir)
    store.pull(["imagenet-taxonomy"], progress=lambda _m: None)
    ancestors = Taxonomy.load(store.path("imagenet-taxonomy")).ancestors
    for key, photo in scene_training_photos().items():
        names = photo["labels"]
        assert isinstance(names, list), key
        labels = set(names)
        assert labels <= set(ancestors), key
        assert all(set(ancestors[name]) <= labels for name in labels), key
