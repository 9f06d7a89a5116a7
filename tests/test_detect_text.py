"""DetectText through boto3 against a real `openrek serve` on loopback, on real photos
whose words were transcribed by hand (tests/data/scene_text.json)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from bench.detect_text import normalise, reference_words, score
from tests.shapes import assert_valid_output

REPO = Path(__file__).resolve().parent.parent
TRUTH = {p["photo"]: p for p in json.loads((REPO / "tests/data/scene_text.json").read_text())["photos"]}


def detect(rekognition: Any, image: bytes, **params: Any) -> dict[str, Any]:
    response: dict[str, Any] = rekognition.detect_text(Image={"Bytes": image}, **params)
    assert_valid_output("DetectText", response)
    assert response["TextModelVersion"] == "3.0"
    return response


def words_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in response["TextDetections"] if d["Type"] == "WORD"]


def lines_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in response["TextDetections"] if d["Type"] == "LINE"]


def centre(detection: dict[str, Any], width: int, height: int) -> tuple[float, float]:
    box = detection["Geometry"]["BoundingBox"]
    return (box["Left"] + box["Width"] / 2) * width, (box["Top"] + box["Height"] / 2) * height


def assert_well_formed(response: dict[str, Any]) -> None:
    """Lines first, then words; Ids 0..n-1; each word's ParentId is a line made of
    exactly the words that name it; polygons are 4 points inside their boxes."""
    detections = response["TextDetections"]
    types = [d["Type"] for d in detections]
    assert types == sorted(types)  # every LINE before every WORD
    assert [d["Id"] for d in detections] == list(range(len(detections)))
    lines = {d["Id"]: d for d in lines_of(response)}
    children: dict[int, list[str]] = {i: [] for i in lines}
    for word in words_of(response):
        assert " " not in word["DetectedText"]
        children[word["ParentId"]].append(word["DetectedText"])
    for line_id, line in lines.items():
        assert "ParentId" not in line
        assert line["DetectedText"] == " ".join(children[line_id])
    for detection in detections:
        box = detection["Geometry"]["BoundingBox"]
        polygon = detection["Geometry"]["Polygon"]
        assert len(polygon) == 4
        for point in polygon:
            assert box["Left"] - 1e-6 <= point["X"] <= box["Left"] + box["Width"] + 1e-6
            assert box["Top"] - 1e-6 <= point["Y"] <= box["Top"] + box["Height"] + 1e-6
        assert 0 <= detection["Confidence"] <= 100


def test_reads_a_street_sign_with_words_in_place(rekognition: Any, photos: Path) -> None:
    response = detect(rekognition, (photos / "opencv-doc/scenetext01.jpg").read_bytes())
    assert_well_formed(response)
    words = {w["DetectedText"]: w for w in words_of(response)}
    for expected in ("NOTICE", "DOUBLE", "PARKING", "PROHIBITED", "AT", "ALL", "TIMES"):
        assert expected in words
        assert words[expected]["Confidence"] >= 80  # the default MinConfidence
    line = next(d for d in lines_of(response) if d["DetectedText"] == "AT ALL TIMES")
    assert [words[w]["ParentId"] for w in ("AT", "ALL", "TIMES")] == [line["Id"]] * 3
    # Words of a line follow each other left to right, inside the line's box.
    lefts = [words[w]["Geometry"]["BoundingBox"]["Left"] for w in ("AT", "ALL", "TIMES")]
    assert lefts == sorted(lefts)
    line_box = line["Geometry"]["BoundingBox"]
    for w in ("AT", "ALL", "TIMES"):
        x, y = centre(words[w], 1, 1)
        assert line_box["Left"] <= x <= line_box["Left"] + line_box["Width"]
    # Each word is where it was boxed by hand.
    for name, (x1, y1, x2, y2) in TRUTH["opencv-doc/scenetext01.jpg"]["boxes"].items():
        x, y = centre(words[name], 800, 600)
        assert x1 <= x <= x2 and y1 <= y <= y2, name


# Word recall measured on these photos (bench/results/detect_text.md) at the defaults,
# and the floor each must keep (the measurement less a margin of about one word).
RECALL_FLOORS = {
    "opencv-doc/scenetext03.jpg": 3,  # measured 3 of 3
    "opencv-doc/scenetext04.jpg": 2,  # 2 of 2
    "opencv-doc/scenetext_word02.jpg": 1,  # 1 of 1
    "opencv-doc/scenetext02.jpg": 5,  # 6 of 8 (Wivenhoe Park has lost paint)
    "tesserocr/eurotext.png": 64,  # 66 of 66, in five languages
}


@pytest.mark.parametrize("name", sorted(RECALL_FLOORS))
def test_word_recall_on_transcribed_photos(rekognition: Any, photos: Path, name: str) -> None:
    response = detect(rekognition, (photos / name).read_bytes())
    assert_well_formed(response)
    result = score(reference_words(TRUTH[name]), [w["DetectedText"] for w in words_of(response)])
    assert result["found"] >= RECALL_FLOORS[name], result
    assert result["spurious"] <= 2, result
    assert result["errors"] / result["chars"] <= 0.1, result


def test_plate_groups_printed_close_together_are_two_words(rekognition: Any, photos: Path) -> None:
    # A parked car's Czech plate "5AU 5341" (fast-alpr's test photo, a tuning photo of
    # bench/data/scene_text_wide.json): the gap between the groups is narrower than a
    # word space on a sign, and the recogniser's best class there is the blank, so the
    # groups were read as one word until faint space evidence counted (SPACE_CHANCE).
    image = (photos / "fast-alpr/test_image.png").read_bytes()
    response = detect(rekognition, image)
    assert_well_formed(response)
    words = {w["DetectedText"]: w for w in words_of(response)}
    assert {"5AU", "5341"} <= set(words), sorted(words)
    assert words["5AU"]["ParentId"] == words["5341"]["ParentId"]
    first, second = (words[w]["Geometry"]["BoundingBox"] for w in ("5AU", "5341"))
    # Each word's box covers its own group: side by side, barely overlapping.
    assert first["Left"] + first["Width"] <= second["Left"] + 0.01
    assert first["Width"] < 0.1 and second["Width"] < 0.1  # the plate is under 20% of the photo


def test_box_of_a_known_word_on_a_building(rekognition: Any, photos: Path) -> None:
    response = detect(rekognition, (photos / "opencv-doc/scenetext03.jpg").read_bytes())
    words = {normalise(w["DetectedText"]): w for w in words_of(response)}
    for name, (x1, y1, x2, y2) in TRUTH["opencv-doc/scenetext03.jpg"]["boxes"].items():
        x, y = centre(words[name], 1004, 958)
        assert x1 <= x <= x2 and y1 <= y <= y2, name


def test_upside_down_photo_is_read_the_right_way_up(rekognition: Any, photos: Path) -> None:
    image = Image.open(photos / "opencv-doc/scenetext03.jpg").rotate(180)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    response = detect(rekognition, buffer.getvalue())
    words = {normalise(w["DetectedText"]): w for w in words_of(response)}
    assert {"copy", "centre"} <= set(words)
    # The word's first polygon point is its top-left as read: now the image's bottom right.
    polygon = words["copy"]["Geometry"]["Polygon"]
    assert polygon[0]["X"] > polygon[2]["X"] and polygon[0]["Y"] > polygon[2]["Y"]
    # "copy" is left of "centre" as read, so right of it in the turned image.
    assert centre(words["copy"], 1, 1)[0] > centre(words["centre"], 1, 1)[0]


def test_slanted_page_is_read_line_by_line(rekognition: Any, photos: Path) -> None:
    response = detect(rekognition, (photos / "opencv-doc/imageTextR.png").read_bytes())
    assert_well_formed(response)
    lines = lines_of(response)
    assert lines[0]["DetectedText"].startswith("technical details are too complex")
    assert lines[1]["DetectedText"].startswith("In teaching our courses")
    # The page is turned counter-clockwise: a line's right end is higher than its left.
    polygon = lines[1]["Geometry"]["Polygon"]
    assert polygon[1]["Y"] < polygon[0]["Y"] - 0.02


def test_at_most_100_words_with_their_lines(rekognition: Any, photos: Path) -> None:
    response = detect(rekognition, (photos / "opencv-doc/imageTextN.png").read_bytes())
    assert_well_formed(response)
    words = words_of(response)
    assert len(words) == 100  # the page holds 166
    result = score(reference_words(TRUTH["opencv-doc/imageTextN.png"]), [w["DetectedText"] for w in words])
    assert result["found"] >= 97 and result["spurious"] <= 1
    assert words[0]["DetectedText"] == "technical"


def test_word_filter_confidence_and_size(rekognition: Any, photos: Path) -> None:
    blob = (photos / "opencv-doc/scenetext01.jpg").read_bytes()
    every = words_of(detect(rekognition, blob, Filters={"WordFilter": {"MinConfidence": 0}}))
    heights = {w["DetectedText"]: w["Geometry"]["BoundingBox"]["Height"] for w in every}
    # The newspaper box's "Post" is far smaller than the sign's words.
    assert heights["Post"] < 0.05 < heights["NOTICE"]
    tall = words_of(detect(rekognition, blob, Filters={"WordFilter": {"MinBoundingBoxHeight": 0.05}}))
    assert "Post" not in {w["DetectedText"] for w in tall} and "NOTICE" in {w["DetectedText"] for w in tall}
    assert all(w["Geometry"]["BoundingBox"]["Height"] >= 0.05 for w in tall)
    wide = words_of(detect(rekognition, blob, Filters={"WordFilter": {"MinBoundingBoxWidth": 0.1}}))
    assert {w["DetectedText"] for w in wide} == {
        w["DetectedText"] for w in every if w["Geometry"]["BoundingBox"]["Width"] >= 0.1
    }
    assert "AT" not in {w["DetectedText"] for w in wide} and "PROHIBITED" in {w["DetectedText"] for w in wide}

    # A page lit from one side: its dark end is read with little confidence.
    blob = (photos / "skimage/page.png").read_bytes()
    loose = words_of(detect(rekognition, blob, Filters={"WordFilter": {"MinConfidence": 50}}))
    default = words_of(detect(rekognition, blob))
    strict = words_of(detect(rekognition, blob, Filters={"WordFilter": {"MinConfidence": 99}}))
    assert len(loose) > len(default) >= len(strict)
    assert min(w["Confidence"] for w in loose) < 80 <= min(w["Confidence"] for w in default)
    assert all(w["Confidence"] >= 99 for w in strict)


def test_regions_of_interest(rekognition: Any, photos: Path) -> None:
    blob = (photos / "opencv-doc/scenetext01.jpg").read_bytes()
    words = {w["DetectedText"]: w["Geometry"]["BoundingBox"] for w in words_of(detect(rekognition, blob))}

    def found(*regions: dict[str, Any]) -> set[str]:
        response = detect(rekognition, blob, Filters={"RegionsOfInterest": list(regions)})
        assert_well_formed(response)
        return {w["DetectedText"] for w in words_of(response)}

    # The top of the sign: NOTICE and DOUBLE only.
    top = words["PARKING"]["Top"]
    assert found({"BoundingBox": {"Left": 0.0, "Top": 0.0, "Width": 1.0, "Height": top}}) == {
        "NOTICE",
        "DOUBLE",
    }
    # A word is in a region when more than half of it is.
    box = words["PROHIBITED"]

    def covering(share: float) -> dict[str, Any]:
        return {
            "BoundingBox": {
                "Left": box["Left"],
                "Top": box["Top"],
                "Width": box["Width"] * share,
                "Height": box["Height"],
            }
        }

    assert found(covering(0.7)) == {"PROHIBITED"}
    assert found(covering(0.3)) == set()
    # Two regions: a word in either is kept. A right triangle (Polygon) with legs 1.6
    # times NOTICE's box holds 92% of NOTICE and 18% of DOUBLE below it.
    notice = words["NOTICE"]
    triangle = [
        {"X": notice["Left"], "Y": notice["Top"]},
        {"X": notice["Left"] + 1.6 * notice["Width"], "Y": notice["Top"]},
        {"X": notice["Left"], "Y": notice["Top"] + 1.6 * notice["Height"]},
    ]
    assert found({"Polygon": triangle}, covering(0.7)) == {"NOTICE", "PROHIBITED"}


@pytest.mark.parametrize(
    "name",
    ["skimage/astronaut.png", "skimage/coffee.png", "opencv-doc/orange.jpg", "opencv-doc/text_motion.jpg"],
)
def test_no_text_gives_no_detections(rekognition: Any, photos: Path, name: str) -> None:
    assert detect(rekognition, (photos / name).read_bytes())["TextDetections"] == []


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"RegionsOfInterest": [{}]}, "InvalidParameterException"),
        (
            {"RegionsOfInterest": [{"Polygon": [{"X": 0.1, "Y": 0.1}, {"X": 0.5, "Y": 0.5}]}]},
            "InvalidParameterException",
        ),
        ({"RegionsOfInterest": [{"BoundingBox": {"Left": 0.1, "Top": 0.1}}]}, "InvalidParameterException"),
        # Outside the service model's limits (10 regions, 0-100, 0-1): AWS's ValidationException.
        (
            {"RegionsOfInterest": [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 1}}] * 11},
            "ValidationException",
        ),
        ({"WordFilter": {"MinConfidence": 101}}, "ValidationException"),
        ({"WordFilter": {"MinBoundingBoxHeight": -0.5}}, "ValidationException"),
    ],
)
def test_bad_filters_get_aws_errors(
    unvalidated: Any, photos: Path, filters: dict[str, Any], code: str
) -> None:
    blob = (photos / "opencv-doc/scenetext_word02.jpg").read_bytes()
    with pytest.raises(ClientError) as caught:
        unvalidated.detect_text(Image={"Bytes": blob}, Filters=filters)
    assert caught.value.response["Error"]["Code"] == code


def test_bad_images_get_aws_errors(rekognition: Any) -> None:
    with pytest.raises(ClientError) as caught:
        rekognition.detect_text(Image={"Bytes": b"not an image at all"})
    assert caught.value.response["Error"]["Code"] == "InvalidImageFormatException"
    tiny = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(tiny, "PNG")
    with pytest.raises(ClientError) as caught:
        rekognition.detect_text(Image={"Bytes": tiny.getvalue()})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
