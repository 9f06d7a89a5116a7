"""The Try page in a real browser: each operation on a real photo, its answer drawn.

The shapes drawn are counted by role and checked against what the same photo gets
from boto3 (the models are deterministic), computed here independently of the page's
JavaScript; the JSON the page shows must match botocore's output shape.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import ServerProcess
from tests.console.conftest import check_watch, open_console
from tests.shapes import assert_valid_output


def boxes(items: list[dict[str, Any]], role: str, key: str = "BoundingBox") -> Counter[str]:
    return Counter({role: sum(1 for item in items if item.get(key))})


def expected_shapes(operation: str, response: dict[str, Any], which: str = "source") -> Counter[str]:
    """How many shapes of each role the page should draw for this answer."""
    if operation == "DetectFaces":
        faces = response["FaceDetails"]
        return boxes(faces, "face") + Counter({"landmark": sum(len(f["Landmarks"]) for f in faces)})
    if operation == "DetectLabels":
        return boxes([i for label in response["Labels"] for i in label["Instances"]], "label-instance")
    if operation == "DetectText":
        kinds = Counter(text["Type"] for text in response["TextDetections"])
        return Counter({"text-line": kinds["LINE"], "text-word": kinds["WORD"]})
    if operation == "DetectProtectiveEquipment":
        persons = response["Persons"]
        equipment = [e for p in persons for part in p["BodyParts"] for e in part["EquipmentDetections"]]
        return boxes(persons, "person") + boxes(equipment, "equipment")
    if operation == "CompareFaces":
        if which == "source":
            return Counter({"source-face": 1})
        return Counter({"match": len(response["FaceMatches"]), "unmatched": len(response["UnmatchedFaces"])})
    if operation == "RecognizeCelebrities":
        return Counter(
            {
                "celebrity": len(response["CelebrityFaces"]),
                "unrecognized": len(response["UnrecognizedFaces"]),
            }
        )
    return Counter()


def drawn(page: Page, figure: int = 0) -> Counter[str]:
    roles = page.locator("#try-figures figure").nth(figure).locator("svg [data-role]")
    return Counter(roles.evaluate_all("nodes => nodes.map(n => n.dataset.role)"))


def run(page: Page, operation: str) -> dict[str, Any]:
    page.click(f"button[data-operation={operation}]")
    page.wait_for_selector("#try-status.done, #try-status.error")
    status = page.inner_text("#try-status")
    assert page.get_attribute("#try-status", "class") == "status done", status
    shown: dict[str, Any] = json.loads(page.inner_text("#try-json"))
    assert_valid_output(operation, shown)
    return shown


def drop_photo(page: Page, selector: str, photo: Path) -> None:
    """Drops a file on a drop zone as a user's drag from the desktop would."""
    page.evaluate(
        """async ([selector, name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            const zone = document.querySelector(selector).closest(".drop-zone");
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [selector, photo.name, base64.b64encode(photo.read_bytes()).decode()],
    )


# One photo per operation that gives the page something to draw.
CASES = [
    ("DetectFaces", "insightface/t1.jpg", {"Attributes": ["ALL"]}),
    ("DetectLabels", "insightface/t1.jpg", {}),
    ("DetectText", "opencv-doc/scenetext_word04.jpg", {}),
    ("DetectModerationLabels", "insightface/t1.jpg", {}),
    ("DetectProtectiveEquipment", "insightface/t1.jpg", None),
    ("RecognizeCelebrities", "insightface/t1.jpg", {}),
]


@pytest.mark.parametrize(("operation", "photo", "extra"), CASES, ids=[c[0] for c in CASES])
def test_each_operation_draws_what_it_found(
    browser: Browser,
    server: ServerProcess,
    rekognition: Any,
    photos: Path,
    operation: str,
    photo: str,
    extra: dict[str, Any] | None,
) -> None:
    page, watch = open_console(browser, server.url)
    page.goto(server.url + "/")  # redirected to the console
    assert page.url.startswith(server.url + "/console")
    path = photos / photo
    page.set_input_files("#try-photo", str(path))
    shown = run(page, operation)

    if extra is None:  # PPE: the page asks for a summary too
        extra = {
            "SummarizationAttributes": {
                "MinConfidence": 80,
                "RequiredEquipmentTypes": ["FACE_COVER", "HEAD_COVER", "HAND_COVER"],
            }
        }
    direct = getattr(rekognition, _snake(operation))(Image={"Bytes": path.read_bytes()}, **extra)
    want = expected_shapes(operation, direct)
    assert drawn(page) == +want
    if operation != "DetectModerationLabels":
        assert sum(want.values()) > 0, "the photo should give the page something to draw"
    assert expected_shapes(operation, shown) == want  # the page got the same answer
    summary = page.locator("#try-summary li").count()
    listed = {
        "DetectFaces": len(direct.get("FaceDetails", [])),
        "DetectLabels": len(direct.get("Labels", [])),
        "DetectText": sum(1 for t in direct.get("TextDetections", []) if t["Type"] == "LINE"),
        "DetectModerationLabels": len(direct.get("ModerationLabels", [])),
        "DetectProtectiveEquipment": len(direct.get("Persons", [])),
        "RecognizeCelebrities": len(direct.get("CelebrityFaces", []))
        + len(direct.get("UnrecognizedFaces", [])),
    }[operation]
    assert summary == listed
    check_watch(page, watch)


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def test_compare_faces_with_dropped_photos(
    browser: Browser, server: ServerProcess, rekognition: Any, photos: Path
) -> None:
    page, watch = open_console(browser, server.url)
    page.goto(server.url + "/console")
    compare = page.locator("button[data-operation=CompareFaces]")
    assert compare.is_disabled()  # two photos needed
    drop_photo(page, "#try-photo", photos / "face_recognition/obama.jpg")
    page.wait_for_selector("#try-figures figure")
    assert compare.is_disabled()
    drop_photo(page, "#try-target", photos / "face_recognition/obama2.jpg")
    page.wait_for_selector("#try-figures figure >> nth=1")
    shown = run(page, "CompareFaces")

    assert len(shown["FaceMatches"]) == 1 and shown["FaceMatches"][0]["Similarity"] > 80
    assert drawn(page, 0) == expected_shapes("CompareFaces", shown, "source")
    assert drawn(page, 1) == +expected_shapes("CompareFaces", shown, "target")
    direct = rekognition.compare_faces(
        SourceImage={"Bytes": (photos / "face_recognition/obama.jpg").read_bytes()},
        TargetImage={"Bytes": (photos / "face_recognition/obama2.jpg").read_bytes()},
    )
    assert len(direct["FaceMatches"]) == len(shown["FaceMatches"])
    assert "similarity" in page.inner_text("#try-summary")
    check_watch(page, watch)


def test_a_bad_photo_shows_the_aws_error(browser: Browser, server: ServerProcess, tmp_path: Path) -> None:
    not_a_photo = tmp_path / "notes.png"
    not_a_photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not an image" * 10)
    page, watch = open_console(browser, server.url)
    watch.expect_api_errors()
    page.goto(server.url + "/console#/try")
    page.set_input_files("#try-photo", str(not_a_photo))
    page.click("button[data-operation=DetectFaces]")
    page.wait_for_selector("#try-status.error")
    assert page.inner_text("#try-status").startswith("InvalidImageFormatException: ")
    assert page.locator("#try-figures svg [data-role]").count() == 0
    assert server.alive()
    check_watch(page, watch)
