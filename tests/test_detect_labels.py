"""DetectLabels through boto3 against a real `openrek serve` on loopback, on real photos."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageOps

from tests.shapes import assert_valid_output

TRUTH = json.loads((Path(__file__).parent / "data" / "label_truth.json").read_text())["photos"]
CAT_PHOTOS = {"skimage/chelsea.png"}
DOG_PHOTOS = {
    "forensics/pic1/IMG-20191006-WA0002.jpg",
    "forensics/pic2/IMG_20200124_231153.jpg",
    "forensics/pic2/IMG_20200608_111614.jpg",
}


MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Image.Bytes limit of the API


def image_bytes(photo: Path) -> bytes:
    """The photo's bytes; phone photos over the API's 5 MB are re-encoded at 2048 px,
    as a caller has to."""
    data = photo.read_bytes()
    if len(data) <= MAX_IMAGE_BYTES:
        return data
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    image.thumbnail((2048, 2048))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def detect(rekognition: Any, photo: Path, **params: Any) -> dict[str, Any]:
    response: dict[str, Any] = rekognition.detect_labels(Image={"Bytes": image_bytes(photo)}, **params)
    assert_valid_output("DetectLabels", response)
    return response


@pytest.fixture(scope="module")
def labelled(rekognition: Any, photos: Path) -> dict[str, dict[str, Any]]:
    """Every truth photo labelled once with the defaults (MinConfidence 55)."""
    return {name: detect(rekognition, photos / name) for name in sorted(TRUTH)}


def test_client_side_index_finds_cats_and_dogs(labelled: dict[str, dict[str, Any]]) -> None:
    # The scenario: label a folder, index {label: [(image, confidence)]}, query it.
    index: dict[str, list[tuple[str, float]]] = {}
    for name, response in labelled.items():
        for label in response["Labels"]:
            index.setdefault(label["Name"], []).append((name, label["Confidence"]))
    assert {image for image, confidence in index["Cat"] if confidence > 90} == CAT_PHOTOS
    assert {image for image, _ in index["Dog"]} == DOG_PHOTOS
    assert {image for image, _ in index.get("Fruit", [])} >= {
        "opencv-doc/orange.jpg",
        "opencv-doc/fruits.jpg",
    }


def test_scenes_come_back_where_they_are_and_not_indoors(labelled: dict[str, dict[str, Any]]) -> None:
    # The scene head (issue 15): a building under a blue sky is Sky and Outdoors; the
    # espresso on a table is neither.
    home = {label["Name"] for label in labelled["opencv-doc/home.jpg"]["Labels"]}
    coffee = {label["Name"] for label in labelled["skimage/coffee.png"]["Labels"]}
    assert {"Sky", "Outdoors"} <= home
    assert not {"Sky", "Outdoors", "Nature"} & coffee


def test_grass_from_the_scene_head_trained_on_registry_photos(labelled: dict[str, dict[str, Any]]) -> None:
    # Round 5 of issue 15: Grass was never returned by the head trained on 94 photos;
    # trained with bench/data/scene_training.json (which holds none of these photos) it
    # finds the lawn a dog stands on, and no grass in the dog's living room, at the
    # espresso or at a dinner table.
    def names(photo: str) -> set[str]:
        return {label["Name"] for label in labelled[photo]["Labels"]}

    assert "Grass" in names("forensics/pic2/IMG_20200608_111614.jpg")
    for indoors in ("forensics/pic2/IMG_20200124_231153.jpg", "skimage/coffee.png", "insightface/t1.jpg"):
        assert "Grass" not in names(indoors), indoors


def test_scenery_a_name_added_in_round_6(labelled: dict[str, dict[str, Any]]) -> None:
    # Round 6 of issue 15: Scenery (an AWS name the recall set's truth holds) had no
    # name in openrek; the scene head now learns it from training photos labelled by
    # eye. Both aerial views of a town among woods and water (in neither set) get it,
    # with its parents; no indoor photo does.
    def labels(photo: str) -> dict[str, dict[str, Any]]:
        return {label["Name"]: label for label in labelled[photo]["Labels"]}

    for aerial in ("opencv-doc/aero1.jpg", "opencv-doc/aero3.jpg"):
        scenery = labels(aerial)["Scenery"]
        assert {parent["Name"] for parent in scenery["Parents"]} == {"Landscape", "Nature", "Outdoors"}
        assert scenery["Categories"] == [{"Name": "Nature and Outdoors"}]
    for indoors in ("forensics/pic2/IMG_20200124_231153.jpg", "skimage/coffee.png", "insightface/t1.jpg"):
        assert "Scenery" not in labels(indoors), indoors


def test_people_are_described_by_their_faces_age_and_gender(labelled: dict[str, dict[str, Any]]) -> None:
    # Issue 15 round 2: DetectFaces' age and gender networks name the people in a photo.
    def people(name: str) -> dict[str, dict[str, Any]]:
        return {label["Name"]: label for label in labelled[name]["Labels"]}

    astronaut, obama = people("skimage/astronaut.png"), people("face_recognition/obama.jpg")
    assert {"Woman", "Adult", "Female", "Person"} <= set(astronaut)
    assert not {"Man", "Male", "Child"} & set(astronaut)
    assert {"Man", "Adult", "Male", "Person"} <= set(obama)
    assert not {"Woman", "Female", "Child"} & set(obama)
    assert {p["Name"] for p in astronaut["Woman"]["Parents"]} == {"Adult", "Female", "Person"}
    assert astronaut["Woman"]["Categories"] == [{"Name": "Person Description"}]
    descriptors = {"Adult", "Man", "Woman", "Male", "Female", "Child", "Boy", "Girl", "Teen", "Baby"}
    for name in ("skimage/chelsea.png", "skimage/coffee.png", *DOG_PHOTOS):
        assert not descriptors & set(people(name)), name  # animal faces are not people


def test_labels_are_sorted_with_parents_listed_and_no_less_sure(labelled: dict[str, dict[str, Any]]) -> None:
    for response in labelled.values():
        assert response["LabelModelVersion"] == "3.0"
        labels = response["Labels"]
        confidences = [label["Confidence"] for label in labels]
        assert confidences == sorted(confidences, reverse=True)
        assert all(55 <= c <= 100 for c in confidences)
        by_name = {label["Name"]: label for label in labels}
        for label in labels:
            parents = {parent["Name"] for parent in label["Parents"]}
            for parent in parents:
                # Every ancestor is a label of its own, at least as sure as its child,
                # and Parents is the whole chain, as Rekognition lists it (a parent's
                # own parents are the child's too).
                assert by_name[parent]["Confidence"] >= label["Confidence"]
                assert {p["Name"] for p in by_name[parent]["Parents"]} <= parents, (label["Name"], parent)
    cat = {label["Name"]: label for label in labelled["skimage/chelsea.png"]["Labels"]}["Cat"]
    assert {p["Name"] for p in cat["Parents"]} == {"Pet", "Mammal", "Animal"}
    assert cat["Categories"] == [{"Name": "Animals and Pets"}]
    assert {"Name": "Kitten"} in cat["Aliases"]


def test_label_precision_on_photos_of_known_content(labelled: dict[str, dict[str, Any]]) -> None:
    from openrek.config import Settings
    from openrek.inference.labels.taxonomy import Taxonomy
    from openrek.models.store import ModelStore

    taxonomy = Taxonomy.load(ModelStore(Settings.from_env().models_dir).path("imagenet-taxonomy"))
    returned = correct = keys = keys_found = 0
    for name, truth in TRUTH.items():  # tuned and held-out photos together
        allowed = set(truth["present"]) | set(truth["key"])
        allowed |= {
            a for label in list(allowed) if label in taxonomy.ancestors for a in taxonomy.ancestors[label]
        }
        names = {label["Name"] for label in labelled[name]["Labels"]}
        returned += len(names)
        correct += len(names & allowed)
        keys += len(truth["key"])
        keys_found += len(set(truth["key"]) & names)
    # Measured 2026-11-23: see docs/labels.md; the bounds leave a little room only.
    # Since the per-label calibration (issue 15) Building (x3) and Butterfly land just
    # under 55 on these photos (measured 23/33 keys): the bound went from 0.72 to 0.66,
    # a trade for precision on the larger held-out set (bench/results/label_recall_round1.md).
    assert correct / returned >= 0.85
    assert keys_found / keys >= 0.66


def test_filters_choose_labels_and_categories(rekognition: Any, photos: Path) -> None:
    chelsea = photos / "skimage/chelsea.png"
    only_cat = detect(rekognition, chelsea, Settings={"GeneralLabels": {"LabelInclusionFilters": ["Cat"]}})
    assert [label["Name"] for label in only_cat["Labels"]] == ["Cat"]
    no_animals = detect(
        rekognition,
        chelsea,
        Settings={"GeneralLabels": {"LabelCategoryExclusionFilters": ["Animals and Pets"]}},
    )
    assert not any(
        "Animals and Pets" in {c["Name"] for c in label["Categories"]} for label in no_animals["Labels"]
    )
    food = detect(
        rekognition,
        photos / "skimage/coffee.png",
        Settings={
            "GeneralLabels": {
                "LabelCategoryInclusionFilters": ["Food and Beverage"],
                "LabelExclusionFilters": ["Food"],
            }
        },
    )
    names = {label["Name"] for label in food["Labels"]}
    assert "Coffee" in names and "Food" not in names
    assert all({"Name": "Food and Beverage"} in label["Categories"] for label in food["Labels"])


def test_min_confidence_and_max_labels(rekognition: Any, photos: Path) -> None:
    coffee = photos / "skimage/coffee.png"
    low = detect(rekognition, coffee, MinConfidence=5)["Labels"]
    high = detect(rekognition, coffee, MinConfidence=90)["Labels"]
    assert len(low) > len(high) >= 1 and all(label["Confidence"] >= 90 for label in high)
    two = detect(rekognition, coffee, MaxLabels=2)["Labels"]
    assert [label["Name"] for label in two] == [label["Name"] for label in low[:2]]
    every = detect(rekognition, coffee, MinConfidence=20)["Labels"]
    for count in range(1, len(every) + 1):  # a cut never keeps a label and drops a parent
        kept = detect(rekognition, coffee, MinConfidence=20, MaxLabels=count)["Labels"]
        names = {label["Name"] for label in kept}
        assert len(kept) == count
        assert all(p["Name"] in names for label in kept for p in label["Parents"])


def test_image_properties_feature(rekognition: Any, photos: Path) -> None:
    orange = photos / "opencv-doc/orange.jpg"
    only_properties = detect(
        rekognition,
        orange,
        Features=["IMAGE_PROPERTIES"],
        Settings={"ImageProperties": {"MaxDominantColors": 3}},
    )
    assert "Labels" not in only_properties
    assert 1 <= len(only_properties["ImageProperties"]["DominantColors"]) <= 3
    both = detect(
        rekognition, photos / "skimage/chelsea.png", Features=["GENERAL_LABELS", "IMAGE_PROPERTIES"]
    )
    assert both["Labels"] and both["ImageProperties"]["Quality"]
    instances = [i for label in both["Labels"] for i in label["Instances"]]
    assert all("DominantColors" in i for i in instances)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {
                "Settings": {
                    "GeneralLabels": {"LabelInclusionFilters": ["Cat"], "LabelExclusionFilters": ["Cat"]}
                }
            },
            "both included and excluded",
        ),
        (
            {
                "Settings": {
                    "GeneralLabels": {
                        "LabelCategoryInclusionFilters": ["Food and Beverage"],
                        "LabelCategoryExclusionFilters": ["Food and Beverage"],
                    }
                }
            },
            "both included and excluded",
        ),
    ],
)
def test_bad_settings_are_invalid_parameters(
    rekognition: Any, photos: Path, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        detect(rekognition, photos / "skimage/coffee.png", **params)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert message in raised.value.response["Error"]["Message"]


def test_concurrent_requests_agree(rekognition: Any, photos: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    names = ["skimage/chelsea.png", "skimage/coffee.png", "opencv-doc/orange.jpg", "skimage/chelsea.png"]
    alone = {name: detect(rekognition, photos / name)["Labels"] for name in set(names)}
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda name: detect(rekognition, photos / name)["Labels"], names))
    for name, labels in zip(names, together, strict=True):
        assert labels == alone[name]
