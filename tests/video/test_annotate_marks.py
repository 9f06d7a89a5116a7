"""What `openrek video analyze --annotate` draws for each job type's timestamped results."""

from __future__ import annotations

from typing import Any

from openrek.video.annotate import ITEMS, Timeline, marks_of

BOX = {"Left": 0.25, "Top": 0.5, "Width": 0.5, "Height": 0.25}
CORNERS = [(100.0, 200.0), (300.0, 200.0), (300.0, 300.0), (100.0, 300.0)]


def test_each_job_type_is_drawn_in_pixels_with_its_caption() -> None:
    size = (400, 400)
    match = {"Similarity": 97.4, "Face": {"FaceId": "f" * 36, "ExternalImageId": "ana"}}
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "StartFaceDetection": ({"Face": {"BoundingBox": BOX, "Confidence": 99.9}}, "Face 100%"),
        "StartFaceSearch": (
            {"Person": {"Index": 3, "BoundingBox": BOX}, "FaceMatches": [match]},
            "#3 ana 97%",
        ),
        "StartPersonTracking": ({"Person": {"Index": 7, "BoundingBox": BOX}}, "Person #7"),
        "StartCelebrityRecognition": (
            {"Celebrity": {"Name": "Ana", "Id": "a1", "Confidence": 95.0, "BoundingBox": BOX}},
            "Ana 95%",
        ),
        "StartLabelDetection": ({"Label": {"Name": "Dog", "Instances": [{"BoundingBox": BOX}]}}, "Dog"),
    }
    for api, (item, caption) in cases.items():
        (mark,) = marks_of(api, {"Timestamp": 0, **item}, *size)
        assert (mark.points, mark.caption) == (CORNERS, caption), api
    assert marks_of("StartPersonTracking", {"Timestamp": 0, "Person": {"Index": 1}}, *size) == []
    assert set(cases) <= set(ITEMS)


def test_a_result_is_held_until_the_next_sample_is_due() -> None:
    items = [{"Timestamp": 0, "Face": {"BoundingBox": BOX, "Confidence": 90.0}}]
    timeline = Timeline("StartFaceDetection", items, hold_millis=200, size=(400, 400))
    assert len(timeline.at(0)) == 1 and len(timeline.at(199)) == 1
    assert timeline.at(200) == [] and timeline.at(-1) == []
