"""Every console page: labelled controls, usable by keyboard, readable at phone width,
and the Models page listing the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from openrek.models.store import load_manifest
from tests.conftest import ServerProcess
from tests.console.conftest import check_watch, open_console

PHONE: ViewportSize = {"width": 375, "height": 740}

# Controls with no accessible name: inputs without a label, buttons without text.
UNLABELLED = """() => [...document.querySelectorAll("input, select, button, [role=tab]")]
    .filter((c) => c.offsetParent !== null || c.closest("dialog[open]"))
    .filter((c) => c.matches("button, [role=tab]")
        ? !c.textContent.trim() && !c.getAttribute("aria-label")
        : !(c.labels && c.labels.length) && !c.getAttribute("aria-label"))
    .map((c) => c.outerHTML.slice(0, 80))"""


def page_at(browser: Browser, server: ServerProcess, route: str) -> tuple[Page, Any]:
    page, watch = open_console(browser, server.url, viewport=PHONE)
    page.goto(f"{server.url}/console#/{route}")
    page.wait_for_selector("main h1")
    return page, watch


@pytest.mark.parametrize("route", ["try", "collections", "video", "streams", "custom-labels", "models"])
def test_pages_are_labelled_and_fit_a_phone(
    browser: Browser, server: ServerProcess, rekognition: Any, route: str
) -> None:
    if route == "collections":
        rekognition.create_collection(CollectionId="console-phone")
        route = "collections/console-phone"
    try:
        page, watch = page_at(browser, server, route)
        if route.startswith("collections"):
            page.wait_for_selector("#collection-facts[data-face-count]")
            page.wait_for_selector("#collection-list li[data-collection-id]")
        if route == "models":
            page.wait_for_selector("#models-table tbody tr")
        if route in ("video", "streams", "custom-labels"):
            page.wait_for_selector("main .status, main #video-jobs tr")
            page.wait_for_load_state("networkidle")
        assert page.evaluate(UNLABELLED) == []
        # Nothing wider than the phone's screen but the tables, which scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        check_watch(page, watch)
    finally:
        if route.startswith("collections"):
            rekognition.delete_collection(CollectionId="console-phone")


def focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))


def test_try_page_by_keyboard(browser: Browser, server: ServerProcess, photos: Path) -> None:
    page, watch = page_at(browser, server, "try")
    page.keyboard.press("Tab")  # a page puts focus on its content when shown
    assert focused(page) == "try-photo"
    page.set_input_files("#try-photo", str(photos / "face_recognition/obama.jpg"))
    page.wait_for_selector("#try-figures figure")
    page.focus("#try-target")
    page.keyboard.press("Tab")
    assert focused(page) == "DetectFaces"
    page.keyboard.press("Enter")
    page.wait_for_selector("#try-status.done")
    assert page.locator("#try-figures svg [data-role=face]").count() == 1
    assert focused(page) == "DetectFaces"  # the answer did not take the focus away
    for _ in range(3):  # back past the two photo inputs to the nav
        page.keyboard.press("Shift+Tab")
    assert focused(page) == "Models"
    while focused(page) != "Collections":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("main h1:has-text('Collections')")
    check_watch(page, watch)


def test_models_page_lists_the_manifest(browser: Browser, server: ServerProcess) -> None:
    page, watch = page_at(browser, server, "models")
    page.wait_for_selector("#models-table tbody tr")
    manifest = load_manifest()
    rows = page.locator("#models-table tbody tr")
    assert rows.count() == len(manifest)
    for name in ("face-detector", "face-embedding-arcface-mbf"):
        entry = manifest[name]
        text = page.inner_text(f"#models-table tr[data-model='{name}']")
        assert entry.licence in text
        assert entry.carriers() in text
        assert ("opt-in" if entry.optional else "default") in text
    check_watch(page, watch)
