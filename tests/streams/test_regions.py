"""RegionsOfInterest and ConnectedHome settings, offline: AWS's more-than-half rule on
boxes and polygons, the request checks, and which labeler labels become events."""

from __future__ import annotations

import pytest

from openrek.inference.labels.labeler import DetectedLabel, LabelInstance
from openrek.streams.connected_home import (
    PERSON,
    PET,
    SettingsInvalid,
    min_confidence_of,
    requested_labels,
    sightings,
)
from openrek.streams.connected_home_session import session_prefix
from openrek.streams.regions import RegionsInvalid, in_regions, overlap_area, parse_regions

LEFT_HALF_BOX = {"BoundingBox": {"Left": 0.0, "Top": 0.0, "Width": 0.5, "Height": 1.0}}
# A triangle over the top-left corner: (0,0), (1,0), (0,1).
TRIANGLE = {"Polygon": [{"X": 0.0, "Y": 0.0}, {"X": 1.0, "Y": 0.0}, {"X": 0.0, "Y": 1.0}]}
# An L shape (concave): the left column and the bottom row of a 1x1 square.
L_SHAPE = {
    "Polygon": [
        {"X": 0.0, "Y": 0.0},
        {"X": 0.25, "Y": 0.0},
        {"X": 0.25, "Y": 0.75},
        {"X": 1.0, "Y": 0.75},
        {"X": 1.0, "Y": 1.0},
        {"X": 0.0, "Y": 1.0},
    ]
}


def test_no_regions_is_the_whole_frame() -> None:
    assert in_regions((0.9, 0.9, 1.0, 1.0), parse_regions(None))
    assert in_regions((0.9, 0.9, 1.0, 1.0), parse_regions([]))


def test_a_box_counts_when_more_than_half_of_it_is_in_a_bounding_box() -> None:
    regions = parse_regions([LEFT_HALF_BOX])
    assert in_regions((0.1, 0.1, 0.4, 0.4), regions)  # all inside
    assert in_regions((0.3, 0.1, 0.6, 0.4), regions)  # two thirds inside
    assert not in_regions((0.4, 0.1, 0.6, 0.4), regions)  # exactly half: not more than half
    assert not in_regions((0.45, 0.1, 0.95, 0.4), regions)  # a tenth inside


def test_polygons_convex_and_concave() -> None:
    triangle = parse_regions([TRIANGLE])[0]
    assert overlap_area(triangle, (0.0, 0.0, 0.5, 0.5)) == pytest.approx(0.25)
    assert overlap_area(triangle, (0.5, 0.5, 1.0, 1.0)) == pytest.approx(0.0)
    assert overlap_area(triangle, (0.25, 0.25, 0.75, 0.75)) == pytest.approx(0.125)  # half of it
    assert in_regions((0.05, 0.05, 0.3, 0.3), [triangle])
    assert not in_regions((0.25, 0.25, 0.75, 0.75), [triangle])
    l_shape = parse_regions([L_SHAPE])[0]
    # The box over the L's notch (top right) is outside, though inside its bounding square.
    assert overlap_area(l_shape, (0.5, 0.0, 1.0, 0.5)) == pytest.approx(0.0)
    assert not in_regions((0.5, 0.0, 1.0, 0.5), [l_shape])
    # A box over the corner of the L: its left column and bottom strip are in.
    assert overlap_area(l_shape, (0.0, 0.5, 0.5, 1.0)) == pytest.approx(0.125 + 0.0625)
    assert in_regions((0.0, 0.5, 0.5, 1.0), [l_shape])


def test_each_region_is_judged_on_its_own() -> None:
    # A box half in each of two touching regions is in neither (AWS: more than half in "a region").
    left = {"BoundingBox": {"Left": 0.0, "Top": 0.0, "Width": 0.5, "Height": 1.0}}
    right = {"BoundingBox": {"Left": 0.5, "Top": 0.0, "Width": 0.5, "Height": 1.0}}
    regions = parse_regions([left, right])
    assert not in_regions((0.4, 0.4, 0.6, 0.6), regions)
    assert in_regions((0.55, 0.4, 0.75, 0.6), regions)


@pytest.mark.parametrize(
    "raw",
    [
        [LEFT_HALF_BOX] * 11,
        [{}],
        [{**LEFT_HALF_BOX, **TRIANGLE}],
        [{"BoundingBox": {"Left": -0.1, "Top": 0, "Width": 0.5, "Height": 0.5}}],
        [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 0, "Height": 0.5}}],
        [{"Polygon": [{"X": 0.1, "Y": 0.1}, {"X": 0.2, "Y": 0.2}]}],
        [{"Polygon": [{"X": 0.1, "Y": 0.1}, {"X": 0.2, "Y": 0.2}, {"X": 0.3, "Y": 0.3}]}],  # a line
        [{"Polygon": [{"X": 0.1, "Y": 0.1}, {"X": 0.2, "Y": 0.2}, {"X": "a", "Y": 0.3}]}],
    ],
)
def test_regions_that_cannot_be_are_refused(raw: list[dict[str, object]]) -> None:
    with pytest.raises(RegionsInvalid):
        parse_regions(raw)


def test_labels_and_min_confidence() -> None:
    assert requested_labels(["PET", "PERSON"]) == ("PERSON", "PET")
    assert requested_labels(["ALL"]) == ("PERSON", "PET", "PACKAGE")
    for bad in ([], ["CAR"], ["person"]):
        with pytest.raises(SettingsInvalid):
            requested_labels(bad)
    assert min_confidence_of({}) == 50.0
    assert min_confidence_of({"MinConfidence": 0}) == 0.0
    for bad_value in (-1, 100.5, "50", True):
        with pytest.raises(SettingsInvalid):
            min_confidence_of({"MinConfidence": bad_value})


ANCESTORS = {"Person": (), "Face": (), "Cat": ("Pet", "Mammal", "Animal"), "Cattle": ("Mammal", "Animal")}


def test_people_and_pets_from_the_labelers_boxes() -> None:
    labels = [
        DetectedLabel("Cat", 0.9, (LabelInstance((320, 120, 640, 360), 0.9),)),
        DetectedLabel(
            "Person", 0.8, (LabelInstance((0, 0, 320, 480), 0.8), LabelInstance((0, 0, 10, 10), 0.4))
        ),
        DetectedLabel("Cattle", 0.95, (LabelInstance((0, 0, 100, 100), 0.95),)),  # an animal, not a pet
    ]
    found = sightings(labels, ANCESTORS, 640, 480, (PERSON, PET), 50.0, [])
    assert [(s.label, round(s.confidence)) for s in found] == [("PET", 90), ("PERSON", 80)]
    assert found[0].box == pytest.approx((0.5, 0.25, 1.0, 0.75))
    only_people = sightings(labels, ANCESTORS, 640, 480, (PERSON,), 30.0, [])
    assert [s.label for s in only_people] == ["PERSON", "PERSON"]
    left = parse_regions([LEFT_HALF_BOX])
    assert [s.label for s in sightings(labels, ANCESTORS, 640, 480, (PERSON, PET), 50.0, left)] == ["PERSON"]


def test_a_face_without_a_body_box_stands_for_the_person() -> None:
    labels = [
        DetectedLabel("Person", 0.9),
        DetectedLabel("Face", 0.9, (LabelInstance((100, 100, 200, 220), 0.9),)),
    ]
    (found,) = sightings(labels, ANCESTORS, 640, 480, (PERSON,), 50.0, [])
    assert found.label == PERSON and found.box == pytest.approx((100 / 640, 100 / 480, 200 / 640, 220 / 480))


def test_s3_keys_start_with_prefix_name_and_session() -> None:
    assert session_prefix("events/", "porch", "s1") == "events/porch/s1"
    assert session_prefix("a/b", "porch", "s1") == "a/b/porch/s1"
    assert session_prefix(None, "porch", "s1") == "porch/s1"
    assert session_prefix("", "porch", "s1") == "porch/s1"
