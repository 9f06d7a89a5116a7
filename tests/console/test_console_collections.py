"""The Collections page in a real browser: a folder indexed, then searched by photo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser

from tests.conftest import ServerProcess
from tests.console.conftest import check_watch, open_console


def people_folder(photos: Path, into: Path) -> Path:
    """A folder as a user keeps one: a subfolder per person, and a group photo."""
    root = into / "people"
    for person, names in {"barack": ["obama.jpg", "obama2.jpg"], "joe": ["biden.jpg"]}.items():
        (root / person).mkdir(parents=True)
        for name in names:
            shutil.copy(photos / "face_recognition" / name, root / person / name)
    shutil.copy(photos / "insightface/t1.jpg", root / "group.jpg")  # 6 faces
    return root


def test_index_a_folder_then_find_a_person_by_photo(
    browser: Browser, server: ServerProcess, rekognition: Any, photos: Path, tmp_path: Path
) -> None:
    folder = people_folder(photos, tmp_path)
    page, watch = open_console(browser, server.url)
    page.goto(server.url + "/console#/collections")
    page.fill("#new-collection", "console-people")
    page.click("#create-collection")
    page.wait_for_selector("#collection-title:has-text('console-people')")
    assert page.locator("#collection-list li[data-collection-id='console-people']").count() == 1

    page.click("button[role=tab][data-view='Index photos']")
    page.fill("#index-max-faces", "2")  # the group photo has 6: 4 must be reported as not indexed
    page.set_input_files("#index-folder", str(folder))
    page.wait_for_selector("#index-progress-text.done")
    assert (
        page.get_attribute("#index-progress", "value") == page.get_attribute("#index-progress", "max") == "4"
    )
    rows = {
        row.get_attribute("data-file"): (
            row.locator(".indexed").inner_text(),
            row.locator(".unindexed").inner_text(),
        )
        for row in page.locator("#index-results tr").all()
    }
    assert rows == {
        "people/barack/obama.jpg": ("1", "—"),
        "people/barack/obama2.jpg": ("1", "—"),
        "people/joe/biden.jpg": ("1", "—"),
        "people/group.jpg": ("2", "; ".join(["EXCEEDS_MAX_FACES"] * 4)),
    }

    # What the page indexed is in the collection, as any client sees it.
    listed = rekognition.list_faces(CollectionId="console-people")["Faces"]
    assert sorted(face["ExternalImageId"] for face in listed) == [
        "people:barack:obama.jpg",
        "people:barack:obama2.jpg",
        "people:group.jpg",
        "people:group.jpg",
        "people:joe:biden.jpg",
    ]
    assert page.get_attribute("#collection-facts", "data-face-count") == "5"

    page.click("button[role=tab][data-view='Faces']")
    page.wait_for_selector("#face-grid .face-card")
    assert page.locator("#face-grid .face-card").count() == 5
    assert page.locator("#face-grid .face-card img").count() == 5  # crops of this tab's photos

    page.click("button[role=tab][data-view='Search by image']")
    page.set_input_files("#search-photo", str(photos / "face_recognition/obama3.jpg"))
    page.wait_for_selector("#pane-2 figure")
    page.click("#search-faces")
    page.wait_for_selector("#search-outcome.done")
    found = [
        (row.locator(".external-id").inner_text(), float(row.locator(".similarity").inner_text().rstrip("%")))
        for row in page.locator("#search-matches tr").all()
    ]
    # A third photo of the same man finds his two, and nobody else.
    assert sorted(name for name, _ in found) == ["people:barack:obama.jpg", "people:barack:obama2.jpg"]
    assert all(similarity >= 80 for _, similarity in found)
    assert page.locator("#pane-2 svg [data-role=searched-face]").count() == 1

    # Users: one made from the two faces of the same man, found again by photo.
    barack_faces = [f["FaceId"] for f in listed if f["ExternalImageId"].startswith("people:barack:")]
    page.click("button[role=tab][data-view='Users']")
    page.fill("#new-user", "barack")
    page.click("text=Create user")
    page.wait_for_selector("#user-list tr[data-user-id=barack]")
    page.click("button[role=tab][data-view='Faces']")
    for face_id in barack_faces:
        page.check(f"#face-grid [data-face-id='{face_id}'] input[type=checkbox]")
    page.fill("#associate-user", "barack")
    page.click("text=Associate selected faces")
    page.wait_for_selector("#collection-status.done:has-text('associated with')")
    assert page.inner_text("#collection-status").startswith("2 associated with barack")
    page.click("button[role=tab][data-view='Users']")
    page.click("text=Faces of barack")
    page.wait_for_selector("#user-faces .face-card")
    assert sorted(
        page.locator("#user-faces .face-card").evaluate_all("cards => cards.map(c => c.dataset.faceId)")
    ) == sorted(barack_faces)

    page.click("button[role=tab][data-view='Search by image']")
    page.click("#search-users")
    page.wait_for_selector("#search-outcome.done >> text=user match")
    assert page.locator("#search-matches .user-id").all_inner_texts() == ["barack"]

    # Every list was read a page at a time.
    list_faces = watch.calls("ListFaces")
    assert list_faces and all(body["MaxResults"] == 24 for body in list_faces)

    page.click("#delete-collection")
    page.wait_for_selector("#collections-status.done")
    assert "console-people" not in rekognition.list_collections()["CollectionIds"]
    check_watch(page, watch)


def test_collections_are_listed_a_page_at_a_time(
    browser: Browser, server: ServerProcess, rekognition: Any
) -> None:
    names = [f"console-paged-{n:02d}" for n in range(12)]
    for name in names:
        rekognition.create_collection(CollectionId=name)
    try:
        every = rekognition.list_collections(MaxResults=4096)["CollectionIds"]
        page, watch = open_console(browser, server.url)
        page.goto(server.url + "/console#/collections")
        seen: list[str] = []
        while True:
            page.wait_for_selector("#collection-list li[data-collection-id]")
            shown = page.locator("#collection-list li[data-collection-id]").evaluate_all(
                "items => items.map(i => i.dataset.collectionId)"
            )
            assert 0 < len(shown) <= 10
            seen += shown
            following = page.locator("nav[aria-label='Collection pages'] button:has-text('Next')")
            if following.is_disabled():
                break
            following.click()
            page.wait_for_selector(f"#collection-list li[data-collection-id='{every[len(seen)]}']")
        assert seen == every
        assert all(body["MaxResults"] == 10 for body in watch.calls("ListCollections"))
        last_page = (len(every) - 1) // 10
        page.click("nav[aria-label='Collection pages'] button:has-text('Previous')")
        page.wait_for_selector(f"#collection-list li[data-collection-id='{every[(last_page - 1) * 10]}']")
        assert page.inner_text("nav[aria-label='Collection pages'] .page-number") == f"Page {last_page}"
        check_watch(page, watch)
    finally:
        for name in names:
            rekognition.delete_collection(CollectionId=name)
